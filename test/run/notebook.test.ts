// Parameter injection (papermill conventions) for TypeScript (tslab) and Python notebooks.
import { describe, expect, it } from "vitest";
import { INJECTED_PARAMETERS_TAG, injectParameters, type Cell, type Notebook } from "../../lib/run/notebook";

function notebook(cells: Cell[], language = "typescript", minor = 4): Notebook {
  return { nbformat: 4, nbformat_minor: minor, metadata: { kernelspec: { name: "moelab", language } }, cells };
}
const code = (source: string, tags?: string[]): Cell => ({
  cell_type: "code",
  source,
  metadata: tags ? { tags } : {},
  outputs: [],
  execution_count: null,
});
const markdown = (source: string): Cell => ({ cell_type: "markdown", source, metadata: {} });

describe("injectParameters", () => {
  const params = code('let quick = false;\nconst steps = 100;\nlet mode: "fast" | "full" = "full";', ["parameters"]);

  it("inserts a tagged cell after the parameters cell, redeclaring with the declaration's keyword and type", () => {
    const nb = notebook([markdown("# title"), params, code("console.log(steps);")]);
    const out = injectParameters(nb, { quick: true, steps: 5, mode: "fast", extra: { a: [1, null] } });
    expect(out.cells.map((c) => c.metadata.tags ?? [])).toEqual([[], ["parameters"], [INJECTED_PARAMETERS_TAG], []]);
    expect(out.cells[2].source).toBe(
      [
        "// Injected parameters",
        "let quick = true;",
        "const steps = 5;",
        'let mode: "fast" | "full" = "fast";',
        'const extra = {"a":[1,null]};',
      ].join("\n"),
    );
    expect(nb.cells).toHaveLength(3); // the input is not modified
  });

  it("replaces an earlier injected cell, goes to the top without a parameters cell, adds ids for nbformat 4.5", () => {
    const once = injectParameters(notebook([params]), { quick: true });
    const twice = injectParameters(once, { quick: false });
    expect(twice.cells).toHaveLength(2);
    expect(twice.cells[1].source).toContain("let quick = false;");

    const top = injectParameters(notebook([code("1 + 1")], "typescript", 5), { quick: true });
    expect(top.cells[0].metadata.tags).toEqual([INJECTED_PARAMETERS_TAG]);
    expect(top.cells[0].id).toMatch(/^[A-Za-z0-9-_]{1,64}$/);
  });

  it("writes Python literals for Python notebooks", () => {
    const out = injectParameters(notebook([code("quick = False", ["parameters"])], "python"), {
      quick: true,
      name: "a'b",
      none: null,
      xs: [1.5, false],
      d: { k: true },
    });
    expect(out.cells[1].source).toBe(
      [
        "# Injected parameters",
        "quick = True",
        'name = "a\'b"',
        "none = None",
        "xs = [1.5, False]",
        'd = {"k": True}',
      ].join("\n"),
    );
  });

  it("returns an unchanged copy for no parameters", () => {
    const nb = notebook([params]);
    const out = injectParameters(nb, {});
    expect(out).toEqual(nb);
    expect(out).not.toBe(nb);
  });

  it("rejects bad names, non-finite numbers and unknown languages with clear errors", () => {
    const nb = notebook([params]);
    expect(() => injectParameters(nb, { "no-dash": 1 })).toThrow(/"no-dash" is not a valid variable name/);
    expect(() => injectParameters(nb, { x: [1, Number.NaN] })).toThrow(
      /parameter "x" is NaN; expected a finite number/,
    );
    expect(() => injectParameters(nb, { x: 1 }, "julia")).toThrow(/language "julia".*typescript, javascript, python/);
  });
});
