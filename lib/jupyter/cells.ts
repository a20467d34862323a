// Runs TypeScript cells with tslab's compiler and executor (tslab/dist/main.js startKernel wires the same parts),
// capturing the last-expression value, the TypeScript diagnostics and thrown errors instead of printing them.
// Reference: tslab 1.0.22 dist/executor.js, dist/converter.js, dist/jupyter.js.
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { inspect, type InspectOptions } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { createConverter, isCompleteCode, type Converter, type Diagnostic } from "tslab/dist/converter";
import { createExecutor, type ConverterSet, type Executor } from "tslab/dist/executor";
import { printQuickInfo } from "tslab/dist/inspect";
import { diagnosticsError, thrownError, type ErrorContent } from "./errors";
import { expandShorthand } from "./shorthand";

/** What running a cell gave: its last-expression value (if any) or an error. */
export type CellOutcome =
  | { status: "ok"; hasValue: false }
  | { status: "ok"; hasValue: true; value: unknown }
  | { status: "error"; error: ErrorContent };

/** An is_complete_reply's content. */
export interface Completeness {
  status: "complete" | "incomplete" | "invalid";
  indent?: string;
}

/** A complete_reply's match list and the replaced range, in Unicode code points as the protocol counts. */
export interface Completions {
  matches: string[];
  cursor_start: number;
  cursor_end: number;
}

/** The part of TypeScript's API used here; parseDiagnostics is internal (tslab's isCompleteCode reads it too). */
interface TypeScriptParser {
  version: string;
  ScriptTarget: { Latest: number };
  ScriptKind: { TS: number };
  createSourceFile(
    fileName: string,
    text: string,
    target: number,
    setParentNodes: boolean,
    kind: number,
  ): { parseDiagnostics?: unknown[] };
}

/** tslab's TypeScript (5.0), loaded from tslab's own dependency tree: its parser judges cell completeness. */
const ts: TypeScriptParser = createRequire(require.resolve("tslab/package.json"))("@tslab/typescript-for-tslab");

/** The TypeScript version that compiles cells. */
export const TYPESCRIPT_VERSION: string = ts.version;

/** tslab compiles a cell as a module (so top-level await parses); the same prefix for the completeness parse. */
const MODULE_PREFIX = "export {};\n";

/** The UTF-16 offset of code point `cp` of `text`. */
function utf16Offset(text: string, cp: number): number {
  let i = 0;
  for (let n = 0; n < cp && i < text.length; n++) i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i;
}

/** The code point index of UTF-16 offset `offset` of `text`. */
function codePointIndex(text: string, offset: number): number {
  return [...text.slice(0, offset)].length;
}

/**
 * The UTF-16 offset of the last character of the function name before the innermost call parenthesis still open at
 * `offset` (`lab.seed(` → on "seed"), or null when the cursor is not inside a call. Brackets in strings are not
 * told apart: the answer is a hint for inspection, never used to run anything.
 */
export function calleeOffset(code: string, offset: number): number | null {
  let depth = 0;
  for (let i = Math.min(offset, code.length) - 1; i >= 0; i--) {
    const c = code[i];
    if (c === ")" || c === "]" || c === "}") depth++;
    else if (c === "[" || c === "{") depth = Math.max(0, depth - 1);
    else if (c === "(") {
      if (depth > 0) {
        depth--;
        continue;
      }
      let end = i - 1;
      while (end >= 0 && /\s/.test(code[end])) end--;
      if (end >= 0 && /[\w$]/.test(code[end])) return end;
      return null;
    }
  }
  return null;
}

/** Whether `code` is ready to run: tslab's rule for unfinished input, then a parse for syntax errors. */
export function isComplete(code: string): Completeness {
  const unfinished = isCompleteCode(code);
  if (!unfinished.completed) return { status: "incomplete", indent: unfinished.indent ?? "" };
  const file = ts.createSourceFile("cell.ts", MODULE_PREFIX + code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const parseErrors = file.parseDiagnostics ?? [];
  return { status: parseErrors.length > 0 ? "invalid" : "complete" };
}

/** text/plain of a value: tensors print their values; everything else through util.inspect with `options`. */
export function resultText(value: unknown, options: Readonly<InspectOptions>): string {
  if (value instanceof tf.Tensor && !value.isDisposed) return value.toString();
  return inspect(value, { ...options, colors: false });
}

/**
 * An import of `name` for cells run in `cwd`: the bare name when it resolves from `cwd` to the kernel's own copy
 * (`own`), else `fallback` (an absolute path to the kernel's copy), so the prelude works in any notebook folder.
 */
function importSpecifier(name: string, own: string, fallback: string, cwd: string): string {
  try {
    if (fs.realpathSync(require.resolve(name, { paths: [cwd] })) === fs.realpathSync(own)) return name;
  } catch {
    // not resolvable from cwd: use the kernel's copy by path
  }
  return fallback;
}

/** The hidden first cell: `tf` and `lab` (this library) imported with their types, for cells run in `cwd`. */
export function preludeSource(cwd: string): string {
  const tfEntry = require.resolve("@tensorflow/tfjs");
  const tfDir = path.dirname(require.resolve("@tensorflow/tfjs/package.json"));
  const labEntry = require.resolve("../index");
  const labPath = labEntry.replace(/\.js$/, "");
  return [
    `import * as tf from ${JSON.stringify(importSpecifier("@tensorflow/tfjs", tfEntry, tfDir, cwd))};`,
    `import * as lab from ${JSON.stringify(importSpecifier("moelab", labEntry, labPath, cwd))};`,
  ].join("\n");
}

interface Capture {
  diagnostics: Diagnostic[];
  result?: { value: unknown };
  thrown?: { value: unknown };
}

/** tslab's compiler for Node.js cells, created at once, and for `@browser` cells, created when first needed. */
class Converters implements ConverterSet {
  readonly node: Converter;
  private browserConverter: Converter | null = null;

  constructor(private readonly wrap: (c: Converter) => Converter) {
    this.node = wrap(createConverter({ isJS: false, isBrowser: false }));
  }

  get browser(): Converter {
    this.browserConverter ??= this.wrap(createConverter({ isJS: false, isBrowser: true }));
    return this.browserConverter;
  }

  close(): void {
    this.node.close();
    this.browserConverter?.close();
  }
}

/** One kernel's cell runner: compiles with types carried across cells, runs in this process with cwd as root. */
export class CellRunner {
  private readonly executor: Executor;
  /** What the running cell produced: diagnostics, last-expression value, thrown value. */
  private capture: Capture = { diagnostics: [] };

  constructor(rootDir: string) {
    const converters = new Converters((c) => this.recording(c));
    this.executor = createExecutor(rootDir, converters, {
      // The executor passes the last-expression value to log and, to error, either one thrown value or
      // (format, file, line, col, text) per diagnostic; diagnostics are taken whole from the converters instead.
      log: (value: unknown) => {
        this.capture.result = { value };
      },
      error: (...args: unknown[]) => {
        if (args.length === 1) this.capture.thrown = { value: args[0] };
      },
    });
  }

  /** Compiles and runs `code`; resolves when it (and its top-level awaits) finished or failed. */
  async run(code: string): Promise<CellOutcome> {
    const capture: Capture = (this.capture = { diagnostics: [] });
    let ok: boolean;
    try {
      ok = await this.executor.execute(code);
    } catch (e) {
      return { status: "error", error: thrownError(e) };
    }
    if (capture.diagnostics.length > 0) return { status: "error", error: diagnosticsError(capture.diagnostics, code) };
    if (!ok || capture.thrown) return { status: "error", error: thrownError(capture.thrown?.value) };
    return capture.result
      ? { status: "ok", hasValue: true, value: capture.result.value }
      : { status: "ok", hasValue: false };
  }

  /** Stops a running cell that awaits (a blocking one is stopped by SIGINT itself). */
  interrupt(): void {
    this.executor.interrupt();
  }

  /** Completions at code point `cursorPos` of `code`. */
  complete(code: string, cursorPos: number): Completions {
    const info = this.executor.complete(code, utf16Offset(code, cursorPos));
    return {
      matches: info.candidates,
      cursor_start: codePointIndex(code, info.start),
      cursor_end: codePointIndex(code, info.end),
    };
  }

  /**
   * Type and documentation of the symbol at code point `cursorPos`, or null. Inside a call's parentheses with nothing
   * to inspect there (Shift-Tab right after `fn(`), those of the function called: the signature and its docs.
   */
  inspect(code: string, cursorPos: number): string | null {
    const offset = utf16Offset(code, cursorPos);
    const callee = calleeOffset(code, offset);
    const info =
      this.executor.inspect(code, offset) ?? (callee === null ? undefined : this.executor.inspect(code, callee));
    return info ? printQuickInfo(info) : null;
  }

  /** Releases the compiler's watchers. */
  close(): void {
    this.executor.close();
  }

  private recording(converter: Converter): Converter {
    return {
      convert: (prevDecl, src) => {
        const converted = converter.convert(prevDecl, src);
        this.capture.diagnostics.push(...converted.diagnostics);
        if (converted.diagnostics.length > 0) return converted; // report positions in the source as typed
        const expanded = expandShorthand(src);
        return expanded === src ? converted : converter.convert(prevDecl, expanded);
      },
      addModule: (name, content, meta) => {
        const diagnostics = converter.addModule(name, content, meta);
        this.capture.diagnostics.push(...diagnostics);
        return diagnostics;
      },
      inspect: (prevDecl, src, position) => converter.inspect(prevDecl, src, position),
      complete: (prevDecl, src, position) => converter.complete(prevDecl, src, position),
      close: () => converter.close(),
    };
  }
}

/** Whether a cell's value is a promise (any thenable): the kernel shows what it resolves to, as `await` would. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * The outcome of a cell whose last expression is the promise `value`: its resolved value (no value for undefined or
 * null, as tslab treats plain values), or its rejection as the cell's error; `interrupted` stops the wait.
 */
export async function awaitResult(value: PromiseLike<unknown>, interrupted: Promise<never>): Promise<CellOutcome> {
  try {
    const resolved = await Promise.race([value, interrupted]);
    return resolved == null ? { status: "ok", hasValue: false } : { status: "ok", hasValue: true, value: resolved };
  } catch (e) {
    return { status: "error", error: thrownError(e) };
  }
}
