// Cell failures as Jupyter error content (ename, evalue, traceback): TypeScript diagnostics and thrown values.
// Reference: https://jupyter-client.readthedocs.io/en/latest/messaging.html#execution-errors
import * as path from "node:path";
import { inspect } from "node:util";
import type { Diagnostic } from "tslab/dist/converter";

/** The error fields shared by execute_reply (status "error") and the iopub `error` message. */
export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** ename of a cell rejected by the TypeScript compiler. */
export const TS_ERROR = "TSError";

function position(d: Diagnostic): string {
  return `${d.fileName ? d.fileName + ":" : ""}${d.start.line + 1}:${d.start.character + 1}`;
}

/** The source line of a diagnostic in the cell and a `~` underline of its span. */
function excerpt(d: Diagnostic, lines: string[]): string[] {
  const text = lines[d.start.line];
  if (d.fileName !== undefined || text === undefined) return [];
  const width =
    d.end.line === d.start.line
      ? Math.max(1, d.end.character - d.start.character)
      : Math.max(1, text.length - d.start.character);
  return [`    ${text}`, `    ${" ".repeat(d.start.character)}${"~".repeat(width)}`];
}

/**
 * TypeScript diagnostics of `source` (a cell). tslab flattens message chains into consecutive diagnostics of
 * one span; follow-ups (no fileName, same start as the previous one) are shown indented under it.
 */
export function diagnosticsError(diagnostics: readonly Diagnostic[], source: string): ErrorContent {
  const lines = source.split(/\r?\n/);
  const traceback: string[] = [];
  let heads = 0;
  let previous: Diagnostic | null = null;
  for (const d of diagnostics) {
    const followUp =
      previous !== null &&
      d.fileName === undefined &&
      d.start.offset === previous.start.offset &&
      d.code !== previous.code;
    if (followUp) traceback.push(`      ${d.messageText}`);
    else {
      heads++;
      traceback.push(`${position(d)} - error TS${d.code}: ${d.messageText}`, ...excerpt(d, lines));
    }
    previous = d;
  }
  const first = diagnostics[0];
  const more = heads > 1 ? ` (and ${heads - 1} more)` : "";
  return {
    ename: TS_ERROR,
    evalue: first ? `${position(first)} - TS${first.code}: ${first.messageText}${more}` : "compilation failed",
    traceback,
  };
}

/** The package's root folder (this file is lib/jupyter/errors.ts, or dist/lib/jupyter/errors.js when built). */
const PACKAGE_ROOT = path.resolve(
  __dirname,
  path.basename(path.resolve(__dirname, "..", "..")) === "dist" ? "../../.." : "../..",
);

/** This folder, as built (dist/lib/jupyter) and as source maps name it (lib/jupyter). */
const KERNEL_DIRS = [__dirname, path.join(PACKAGE_ROOT, path.relative(path.join(PACKAGE_ROOT, "dist"), __dirname))];

/** Frames of the kernel, tslab and Node, dropped from tracebacks: they say nothing about the cell. */
function internalFrame(location: string): boolean {
  return (
    /[\\/]node_modules[\\/]tslab[\\/]|^node:|^<anonymous>$/.test(location) ||
    KERNEL_DIRS.some((dir) => location.startsWith(dir + path.sep))
  );
}

/** Where a cell's code runs: tslab evaluates it with vm.runInThisContext, which names no file. */
const CELL_FRAME = /evalmachine\.<anonymous>:\d+:\d+/;

/** "    at fn (/abs/path:1:2)" or "    at /abs/path:1:2": the function (if any) and the location. */
const FRAME = /^\s*at (?:(.+?) \((.+)\)|(.+))$/;

/** The package name of a node_modules path (the last node_modules folder; scoped names kept). */
function packageName(location: string): string {
  const m = /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(location);
  return m ? m[1].replace(/\\/g, "/") : location;
}

/**
 * The traceback of a thrown Error, most useful first: the error line; the frames in the cell (tslab compiles cells,
 * so they carry no line numbers: the compiled lines differ from the typed ones); the library's own frames with paths
 * relative to the package (lib/*.ts when the kernel runs with --enable-source-maps, as kernels/moelab/kernel.json
 * does); then one line naming the dependencies below. Kernel, tslab and Node internals are left out.
 */
export function errorTraceback(err: Error, stack: string): string[] {
  const frames = stack.split("\n").filter((line) => FRAME.test(line));
  const cell: string[] = [];
  const library: string[] = [];
  const elsewhere: string[] = [];
  const dependencies = new Map<string, number>();
  for (const line of frames) {
    const m = FRAME.exec(line)!;
    const fn = m[1] ?? "";
    const location = m[2] ?? m[3];
    if (internalFrame(location)) continue;
    const relative = path.isAbsolute(location) ? path.relative(PACKAGE_ROOT, location).split(path.sep).join("/") : "";
    const top = "    at the cell's top level";
    if (CELL_FRAME.test(location)) {
      if (fn || cell.at(-1) !== top) cell.push(fn ? `    at ${fn} (this cell)` : top); // tslab wraps the top level once more
    } else if (/node_modules/.test(location))
      dependencies.set(packageName(location), (dependencies.get(packageName(location)) ?? 0) + 1);
    else if (/^(dist\/)?lib\//.test(relative)) library.push(`    at ${fn ? `${fn} (${relative})` : relative}`);
    else elsewhere.push(line.replace(/^\s*/, "    "));
  }
  const head = `${err.name || "Error"}: ${String(err.message ?? "")}`.split("\n");
  const lines = [...head];
  if (cell.length) lines.push("  in the cell:", ...cell);
  if (library.length) lines.push("  in moelab:", ...library);
  if (elsewhere.length) lines.push("  elsewhere:", ...elsewhere);
  if (dependencies.size)
    lines.push(
      `  below: ${[...dependencies].map(([name, n]) => `${name} (${n} frame${n > 1 ? "s" : ""})`).join(", ")}`,
    );
  return lines;
}

/** A value thrown by cell code (or a tracked promise's rejection). */
export function thrownError(thrown: unknown): ErrorContent {
  if (thrown instanceof Error || (thrown && typeof thrown === "object" && "stack" in thrown && "message" in thrown)) {
    const err = thrown as Error;
    const stack = typeof err.stack === "string" ? err.stack : "";
    return { ename: err.name || "Error", evalue: String(err.message ?? ""), traceback: errorTraceback(err, stack) };
  }
  const shown = inspect(thrown, { depth: 2 });
  return { ename: "Uncaught", evalue: shown, traceback: [`Uncaught ${shown}`] };
}
