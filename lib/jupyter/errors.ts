// Cell failures as Jupyter error content (ename, evalue, traceback): TypeScript diagnostics and thrown values.
// Reference: https://jupyter-client.readthedocs.io/en/latest/messaging.html#execution-errors
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

/** Frames of the kernel and tslab, dropped from tracebacks: they say nothing about the cell. */
const INTERNAL_FRAME = /[\\/](node_modules[\\/]tslab|dist[\\/]lib[\\/]kernel)[\\/]|\(node:|^\s*at node:/;

function position(d: Diagnostic): string {
  return `${d.fileName ? d.fileName + ":" : ""}${d.start.line + 1}:${d.start.character + 1}`;
}

/** The source line of a diagnostic in the cell and a `~` underline of its span. */
function excerpt(d: Diagnostic, lines: string[]): string[] {
  const text = lines[d.start.line];
  if (d.fileName !== undefined || text === undefined) return [];
  const width = d.end.line === d.start.line ? Math.max(1, d.end.character - d.start.character) : Math.max(1, text.length - d.start.character);
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
    const followUp = previous !== null && d.fileName === undefined && d.start.offset === previous.start.offset && d.code !== previous.code;
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

/** A value thrown by cell code (or a tracked promise's rejection). */
export function thrownError(thrown: unknown): ErrorContent {
  if (thrown instanceof Error || (thrown && typeof thrown === "object" && "stack" in thrown && "message" in thrown)) {
    const err = thrown as Error;
    const stack = typeof err.stack === "string" && err.stack ? err.stack : `${err.name}: ${err.message}`;
    const traceback = stack.split("\n").filter((line) => !INTERNAL_FRAME.test(line));
    return { ename: err.name || "Error", evalue: String(err.message ?? ""), traceback };
  }
  const shown = inspect(thrown, { depth: 2 });
  return { ename: "Uncaught", evalue: shown, traceback: [`Uncaught ${shown}`] };
}
