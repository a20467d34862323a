// Student versions of exercise notebooks (nbgrader's "generate_assignment"): solution regions become a stub, hidden
// tests are removed, outputs cleared; then a leak check fails loudly if any solution line survived.
// Reference: nbgrader preprocessors ClearSolutions (BEGIN/END SOLUTION, indented stub, text stub "YOUR ANSWER HERE"),
// ClearHiddenTests (BEGIN/END HIDDEN TESTS), cell metadata schema 3 (solution, grade, locked, points, grade_id).
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { readNotebook, writeNotebook, type Cell, type Notebook } from "../run/notebook";
import { listNotebooks } from "../run/runner";

/** nbgrader's cell metadata (schema version 3). */
export interface NbgraderMetadata {
  solution: boolean;
  grade: boolean;
  locked: boolean;
  grade_id: string;
  schema_version: 3;
  points?: number;
  task?: boolean;
}

/** Markers and stubs of the release; defaults are nbgrader's (the stub is the lab's TypeScript one). */
export interface ReleaseConfig {
  beginSolution: string;
  endSolution: string;
  beginHidden: string;
  endHidden: string;
  /** Replaces each solution region of a code cell (indented like the marker). */
  codeStub: string;
  /** Replaces each solution region of a markdown cell. */
  textStub: string;
}

export const DEFAULT_RELEASE: Readonly<ReleaseConfig> = Object.freeze({
  beginSolution: "BEGIN SOLUTION",
  endSolution: "END SOLUTION",
  beginHidden: "BEGIN HIDDEN TESTS",
  endHidden: "END HIDDEN TESTS",
  codeStub: '// YOUR CODE HERE\nthrow new Error("not implemented");',
  textStub: "YOUR ANSWER HERE",
});

/** The cell's nbgrader metadata, or null for an ordinary cell. */
export function nbgraderOf(cell: Cell): NbgraderMetadata | null {
  const meta = cell.metadata.nbgrader as NbgraderMetadata | undefined;
  return meta && typeof meta.grade_id === "string" ? meta : null;
}

/** sha256 of a cell's source with line endings and trailing blanks normalised (what "edited" compares). */
export function cellChecksum(source: string): string {
  const text = source
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();
  return createHash("sha256").update(text).digest("hex");
}

/** The lines of `source` split into those outside and inside begin/end regions; throws on unbalanced markers. */
function regions(
  source: string,
  begin: string,
  end: string,
  where: string,
): { line: string; inside: boolean; marker: boolean }[] {
  let inside = false;
  const lines = source.split("\n").map((line) => {
    if (line.includes(begin)) {
      if (inside) throw new Error(`${where}: "${begin}" inside an open region`);
      inside = true;
      return { line, inside, marker: true };
    }
    if (line.includes(end)) {
      if (!inside) throw new Error(`${where}: "${end}" without "${begin}"`);
      inside = false;
      return { line, inside: true, marker: true };
    }
    return { line, inside, marker: false };
  });
  if (inside) throw new Error(`${where}: "${begin}" is never closed by "${end}"`);
  return lines;
}

/** `source` with every begin…end region replaced by `stub` (null: removed), indented like the begin marker. */
function replaceRegions(source: string, begin: string, end: string, stub: string | null, where: string): string {
  const out: string[] = [];
  for (const { line, inside, marker } of regions(source, begin, end, where)) {
    if (marker && line.includes(begin) && stub !== null) {
      const indent = line.match(/^\s*/)![0];
      out.push(...stub.split("\n").map((s) => indent + s));
    }
    if (!inside) out.push(line);
  }
  return out.join("\n");
}

/** The lines inside solution and hidden-test regions (and whole solution cells without markers), trimmed. */
function secretLines(cell: Cell, cfg: ReleaseConfig, where: string): string[] {
  const meta = nbgraderOf(cell);
  if (!meta) return [];
  const pick = (begin: string, end: string) =>
    regions(cell.source, begin, end, where)
      .filter((r) => r.inside && !r.marker)
      .map((r) => r.line.trim());
  if (meta.solution)
    return cell.source.includes(cfg.beginSolution)
      ? pick(cfg.beginSolution, cfg.endSolution)
      : cell.source.split("\n").map((l) => l.trim());
  if (meta.grade) return pick(cfg.beginHidden, cfg.endHidden);
  return [];
}

/** The student version of one cell (a copy): stubbed solutions, no hidden tests, no outputs. */
export function releaseCell(cell: Cell, config: Partial<ReleaseConfig> = {}, where = "cell"): Cell {
  const cfg = { ...DEFAULT_RELEASE, ...config };
  const copy = structuredClone(cell);
  if (copy.cell_type === "code") {
    copy.outputs = [];
    copy.execution_count = null;
  }
  const meta = nbgraderOf(copy);
  if (meta?.solution) {
    const stub = copy.cell_type === "code" ? cfg.codeStub : cfg.textStub;
    copy.source = copy.source.includes(cfg.beginSolution)
      ? replaceRegions(copy.source, cfg.beginSolution, cfg.endSolution, stub, where)
      : stub;
  } else if (meta?.grade) {
    copy.source = replaceRegions(copy.source, cfg.beginHidden, cfg.endHidden, null, where).replace(/\n+$/, "");
  }
  return copy;
}

/** Throws, listing them, when lines that occur only in solutions or hidden tests of `source` appear in `released`. */
export function checkNoLeak(
  source: Notebook,
  released: Notebook,
  config: Partial<ReleaseConfig> = {},
  name = "notebook",
): void {
  const cfg = { ...DEFAULT_RELEASE, ...config };
  const secret = new Set(
    source.cells.flatMap((cell, i) => secretLines(cell, cfg, `${name} cell ${i}`)).filter((l) => /[A-Za-z0-9]/.test(l)),
  );
  // Lines that also occur outside the secret regions (a closing brace, a signature) are not secrets.
  for (const [i, cell] of source.cells.entries()) {
    const hidden = new Set(secretLines(cell, cfg, `${name} cell ${i}`));
    for (const line of cell.source.split("\n")) if (!hidden.has(line.trim())) secret.delete(line.trim());
  }
  const leaks: string[] = [];
  for (const [i, cell] of released.cells.entries()) {
    for (const line of cell.source.split("\n")) {
      const t = line.trim();
      if (secret.has(t)) leaks.push(`cell ${i}: ${t}`);
      const markers = nbgraderOf(cell) ? [cfg.beginSolution, cfg.endSolution, cfg.beginHidden, cfg.endHidden] : []; // prose may name them
      for (const marker of markers) if (t.includes(marker)) leaks.push(`cell ${i}: marker "${marker}"`);
    }
    if (cell.cell_type === "code" && cell.outputs.length) leaks.push(`cell ${i}: outputs were not cleared`);
  }
  if (leaks.length)
    throw new Error(`release(${name}): solution text leaked into the student version:\n  ${leaks.join("\n  ")}`);
}

/** The student version of an exercise notebook; throws if a solution line or hidden test survives. */
export function releaseNotebook(source: Notebook, config: Partial<ReleaseConfig> = {}, name = "notebook"): Notebook {
  const released: Notebook = {
    ...structuredClone(source),
    cells: source.cells.map((c, i) => releaseCell(c, config, `${name} cell ${i}`)),
  };
  checkNoLeak(source, released, config, name);
  return released;
}

/** Writes the student version of every <exercisesDir>/*.ipynb to <outDir>/<name>.ipynb; returns the names. */
export function releaseAll(exercisesDir: string, outDir: string, config: Partial<ReleaseConfig> = {}): string[] {
  const names = listNotebooks(exercisesDir);
  if (names.length === 0) throw new Error(`releaseAll(exercisesDir): no notebooks in ${exercisesDir}`);
  mkdirSync(outDir, { recursive: true });
  for (const name of names) {
    writeNotebook(
      join(outDir, `${name}.ipynb`),
      releaseNotebook(readNotebook(join(exercisesDir, `${name}.ipynb`)), config, name),
    );
  }
  return names;
}
