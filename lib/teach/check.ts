// lab.teach.check(exerciseId, studentImpl): runs an exercise's cases through the student's function and the library's
// own implementation, shows a pass/fail table and a hint for the first failure, records the result for the grader
// (TEACH_MIME in the display bundle) and throws when a case fails, so the check cell fails (nbgrader: a test cell
// scores its points when it runs without error). Reference: otter-grader's `grader.check`; nbgrader autograded tests.
import * as tf from "@tensorflow/tfjs";
import { display } from "../display";
import { escapeHtml } from "../html-escape";
import { asciiTable } from "../viz/format";
import { difference, valueAt, type Difference, type Exercise, type Mistake, type Plain } from "./exercise";
import { clippedSurrogate } from "./ppo";
import { e4m3Encode, int8Symmetric } from "./quant";
import { switchBalanceLoss, topkGate } from "./routing";
import { kvCacheStep } from "./attention";

/** MIME type of the machine-readable part of check() outputs (read by the grader from the executed notebook). */
export const TEACH_MIME = "application/vnd.moelab.teach+json";

/** Every exercise, by id. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each exercise has its own argument tuple
export const EXERCISES: Readonly<Record<string, Exercise<any>>> = Object.freeze(
  Object.fromEntries(
    [topkGate, switchBalanceLoss, clippedSurrogate, int8Symmetric, e4m3Encode, kvCacheStep].map((e) => [e.id, e]),
  ),
);

/** Which cases check() runs: the visible ones (the student's check cell) or all, hidden included (the grader). */
export type CheckSuite = "visible" | "all";

/** Options of check(). */
export interface CheckOptions {
  /** Default "visible". */
  suite: CheckSuite;
  /** Throw after showing the table when a case fails (default true: the check cell fails). */
  throwOnFailure: boolean;
}

export const DEFAULT_CHECK_OPTIONS: Readonly<CheckOptions> = Object.freeze({ suite: "visible", throwOnFailure: true });

/** One case's outcome. */
export interface CaseResult {
  name: string;
  passed: boolean;
  /** What differed ("output.weights[1][0]: expected 0.5, got 0.25"), the student's error, or "" when it passed. */
  detail: string;
}

/** The outcome of check(), also the TEACH_MIME payload's `check` field. */
export interface CheckResult {
  exercise: string;
  suite: CheckSuite;
  passed: number;
  total: number;
  cases: CaseResult[];
  /** For the first failing case: its name, the known mistake it matches (if any) and what was expected; null when all passed. */
  hint: string | null;
}

/** A check failed; the message is the hint. */
export class CheckFailedError extends Error {
  constructor(readonly result: CheckResult) {
    super(`${result.exercise}: ${result.total - result.passed} of ${result.total} cases failed. ${result.hint}`);
    this.name = "CheckFailedError";
  }
}

/** Runs `impl` on a fresh copy of the case's inputs inside tf.tidy; its output as plain values, or the error's message. */
function run<Args extends unknown[]>(
  ex: Exercise<Args>,
  impl: (...args: Args) => unknown,
  makeArgs: () => Args,
  who: string,
): { value: Plain } | { error: string } {
  try {
    let value: Plain = null;
    tf.tidy(() => {
      const args = makeArgs();
      const out = impl(...args);
      if (out instanceof Promise) throw new Error(`${who} returned a Promise; write a synchronous function`);
      value = ex.toPlain(out, args);
    });
    return { value };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name === "Error" ? "" : e.name + ": "}${e.message}` : String(e) };
  }
}

/** Runs one exercise's cases (no display, no throw): what check() shows. */
export function runCheck(exerciseId: string, studentImpl: unknown, suite: CheckSuite = "visible"): CheckResult {
  const ex = EXERCISES[exerciseId] as Exercise<unknown[]> | undefined;
  if (!ex)
    throw new Error(
      `teach.check(exerciseId): unknown exercise ${JSON.stringify(exerciseId)}; expected one of ${Object.keys(EXERCISES).join(", ")}`,
    );
  if (typeof studentImpl !== "function") {
    throw new Error(
      `teach.check(${JSON.stringify(exerciseId)}, studentImpl): studentImpl must be a function ${ex.signature}, got ${typeof studentImpl}`,
    );
  }
  const impl = studentImpl as (...args: unknown[]) => unknown;
  const runs = ex.cases
    .filter((c) => suite === "all" || !c.hidden)
    .map((c) => {
      const want = run(ex, ex.reference, c.args, "the reference");
      if ("error" in want) throw new Error(`teach.check: the reference failed on case "${c.name}": ${want.error}`);
      const got = run(ex, impl, c.args, "your function");
      const diff = "error" in got ? null : difference(want.value, got.value, ex.tolerance);
      const detail = "error" in got ? `threw ${got.error}` : (diff?.message ?? null);
      return { c, want: want.value, got, diff, detail };
    });
  const cases = runs.map((r): CaseResult => ({ name: r.c.name, passed: r.detail === null, detail: r.detail ?? "" }));
  const first = runs.find((r) => r.detail !== null);
  let hint: string | null = null;
  if (first) {
    const at = `Case "${first.c.name}" failed: ${first.detail}.`;
    const mistake = "error" in first.got ? null : diagnose(ex, runs as Diagnosed[], runs.indexOf(first));
    hint =
      "error" in first.got
        ? `${at} Your function must run on this case and return ${ex.signature.split("=>").pop()!.trim()}.`
        : mistake
          ? `${at} Hint: ${mistake.hint}.`
          : at;
  }
  return { exercise: ex.id, suite, passed: cases.filter((r) => r.passed).length, total: cases.length, cases, hint };
}

type Diagnosed = {
  c: { args: () => unknown[] };
  want: Plain;
  got: { value: Plain } | { error: string };
  diff: Difference | null;
};

/**
 * The known mistake that best explains the student's outputs: it must reproduce the first failing case (the whole
 * output, or the value where the student's output first departs from the reference); each case it reproduces whole
 * counts 2, each failing case whose first departure it reproduces counts 1. Null when none explains the first failure.
 */
function diagnose(ex: Exercise<unknown[]>, runs: Diagnosed[], firstFailing: number): Mistake<unknown[]> | null {
  let best: { mistake: Mistake<unknown[]>; score: number } | null = null;
  for (const mistake of ex.mistakes) {
    let score = 0;
    let explainsFirst = false;
    for (const [i, r] of runs.entries()) {
      if ("error" in r.got) continue;
      const theirs = run(ex, mistake.impl, r.c.args, mistake.name);
      if ("error" in theirs) continue;
      const whole = difference(theirs.value, r.got.value, ex.tolerance) === null;
      const departure =
        r.diff !== null &&
        difference(valueAt(theirs.value, r.diff.at), valueAt(r.got.value, r.diff.at), ex.tolerance) === null;
      score += whole ? 2 : departure ? 1 : 0;
      if (i === firstFailing) explainsFirst = whole || departure;
    }
    if (explainsFirst && (!best || score > best.score)) best = { mistake, score };
  }
  return best?.mistake ?? null;
}

function tableHtml(result: CheckResult): string {
  const cell = "padding:4px 8px;border:1px solid #ccc;text-align:left;vertical-align:top";
  const rows = result.cases
    .map(
      (c) =>
        `<tr><td style="${cell}">${escapeHtml(c.name)}</td><td style="${cell};background:${c.passed ? "#d4edda" : "#f8d7da"}">${c.passed ? "pass" : "FAIL"}</td><td style="${cell}">${escapeHtml(c.detail)}</td></tr>`,
    )
    .join("\n");
  const head = ["Case", "Result", "Detail"].map((t) => `<th style="${cell};background:#f4f4f4">${t}</th>`).join("");
  const summary = `<p><b>${escapeHtml(result.exercise)}</b>: ${result.passed} of ${result.total} cases pass${result.hint ? "" : " ✓"}</p>`;
  const hint = result.hint ? `<p style="color:#842029">${escapeHtml(result.hint)}</p>` : "";
  return `${summary}\n<table class="moelab-check" style="border-collapse:collapse">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>\n${hint}`;
}

function tableText(result: CheckResult): string {
  const table = asciiTable(
    ["Case", "Result", "Detail"],
    result.cases.map((c) => [c.name, c.passed ? "pass" : "FAIL", c.detail]),
  ).join("\n");
  return [
    `${result.exercise}: ${result.passed} of ${result.total} cases pass`,
    table,
    ...(result.hint ? [result.hint] : []),
  ].join("\n");
}

/**
 * Checks the student's implementation of exercise `exerciseId` against the library's own, on the exercise's cases;
 * shows the pass/fail table and a hint for the first failure (never the reference code), records the result
 * under TEACH_MIME, and throws CheckFailedError when a case failed (unless options.throwOnFailure is false).
 */
export function check(exerciseId: string, studentImpl: unknown, options: Partial<CheckOptions> = {}): CheckResult {
  const opts = { ...DEFAULT_CHECK_OPTIONS, ...options };
  if (opts.suite !== "visible" && opts.suite !== "all")
    throw new Error(`teach.check: options.suite must be "visible" or "all", got ${JSON.stringify(opts.suite)}`);
  const result = runCheck(exerciseId, studentImpl, opts.suite);
  display({
    data: { [TEACH_MIME]: { check: result }, "text/html": tableHtml(result), "text/plain": tableText(result) },
  });
  if (result.passed < result.total && opts.throwOnFailure) throw new CheckFailedError(result);
  return result;
}
