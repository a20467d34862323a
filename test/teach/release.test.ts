// teach:release: student versions keep no solution line, no hidden test and no output; the leak check fails loudly.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { listNotebooks } from "../../lib/run/runner";
import { readNotebook, type Notebook } from "../../lib/run/notebook";
import { cellChecksum, checkNoLeak, nbgraderOf, releaseCell, releaseNotebook } from "../../lib/teach/release";

const EXERCISES = join(__dirname, "..", "..", "exercises");
const names = listNotebooks(EXERCISES);

/** Every non-trivial line between solution or hidden-test markers of the source, trimmed. */
function secretLines(nb: Notebook): string[] {
  const lines: string[] = [];
  for (const cell of nb.cells) {
    let inside = false;
    for (const line of cell.source.split("\n")) {
      if (/BEGIN (SOLUTION|HIDDEN TESTS)/.test(line)) inside = true;
      else if (/END (SOLUTION|HIDDEN TESTS)/.test(line)) inside = false;
      else if (inside && line.trim().length > 3) lines.push(line.trim());
    }
  }
  return lines;
}

describe("release", () => {
  it("the lab ships four exercises with nbgrader metadata, solutions and hidden tests", () => {
    expect(names).toEqual(["attention", "ppo", "quantization", "routing"]);
    for (const name of names) {
      const nb = readNotebook(join(EXERCISES, `${name}.ipynb`));
      const metas = nb.cells.map(nbgraderOf).filter((m) => m !== null);
      expect(metas.every((m) => m!.schema_version === 3 && typeof m!.grade_id === "string")).toBe(true);
      expect(metas.filter((m) => m!.solution && !m!.grade).length).toBeGreaterThan(0); // autograded answers
      expect(metas.filter((m) => m!.grade && m!.locked).length).toBeGreaterThan(0); // tests
      expect(metas.filter((m) => m!.grade && m!.solution).length).toBe(1); // the open question
      expect(metas.filter((m) => m!.grade).every((m) => m!.points! > 0)).toBe(true);
      expect(secretLines(nb).length).toBeGreaterThan(3);
    }
  });

  it.each(names)("%s: the student version has no solution line, no hidden test, stubs in their place", (name) => {
    const source = readNotebook(join(EXERCISES, `${name}.ipynb`));
    const released = releaseNotebook(source, {}, name);
    const text = released.cells.map((c) => c.source).join("\n");
    const body = released.cells
      .filter((c) => c.cell_type === "code")
      .map((c) => c.source)
      .join("\n");
    for (const line of secretLines(source)) {
      // a line that also appears outside the solutions (a closing brace, "});") is not a secret
      const public_ = source.cells.some(
        (c) =>
          c.source.split("\n").some((l) => l.trim() === line) && !secretLines({ ...source, cells: [c] }).includes(line),
      );
      if (!public_) expect(body.split("\n").map((l) => l.trim())).not.toContain(line);
    }
    expect(text).not.toMatch(/BEGIN HIDDEN TESTS|suite: "all"/);
    expect(body).toContain('throw new Error("not implemented");');
    expect(
      released.cells.filter((c) => nbgraderOf(c)?.solution && c.cell_type === "markdown").map((c) => c.source),
    ).toEqual(["YOUR ANSWER HERE"]);
    expect(
      released.cells.every((c) => c.cell_type !== "code" || (c.outputs.length === 0 && c.execution_count === null)),
    ).toBe(true);
    expect(released.cells.map((c) => c.metadata)).toEqual(source.cells.map((c) => c.metadata)); // nbgrader metadata kept
  });

  it("indents the stub like the marker and fails loudly when a solution line survives", () => {
    const cell = {
      cell_type: "code" as const,
      source: "function f() {\n  // ### BEGIN SOLUTION\n  return 42 * magic;\n  // ### END SOLUTION\n}",
      metadata: { nbgrader: { solution: true, grade: false, locked: false, grade_id: "f", schema_version: 3 } },
      outputs: [],
      execution_count: null,
    };
    expect(releaseCell(cell).source).toBe(
      'function f() {\n  // YOUR CODE HERE\n  throw new Error("not implemented");\n}',
    );
    const source: Notebook = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [cell] };
    const leaky: Notebook = { ...source, cells: [{ ...cell, source: "function f() {\n  return 42 * magic;\n}" }] };
    expect(() => checkNoLeak(source, leaky, {}, "demo")).toThrow(
      /release\(demo\): solution text leaked into the student version:\n  cell 0: return 42 \* magic;/,
    );
    expect(() => releaseCell({ ...cell, source: "// ### BEGIN SOLUTION\nx" }, {}, "demo cell 0")).toThrow(
      /demo cell 0: "BEGIN SOLUTION" is never closed/,
    );
  });

  it("checksums ignore line endings and trailing blanks only", () => {
    expect(cellChecksum("a\r\nb  \n")).toBe(cellChecksum("a\nb"));
    expect(cellChecksum("a\nb")).not.toBe(cellChecksum("a\nc"));
  });
});
