// Claim-vs-measured tables and recorded metrics: what a notebook reports to the reader, the runner and the report.
// Reference: the lab's results MIME type (application/vnd.moelab.results+json), collected by lib/run/results.ts.
import { display } from "./display";
import { escapeHtml } from "./html-escape";
import { VERDICTS, type Verdict } from "./verdict";
import { asciiTable, compact } from "./viz/format";

/** MIME type of the machine-readable part of claims(), record() and recordEnvironment() outputs. */
export const RESULTS_MIME = "application/vnd.moelab.results+json";

/** One row of a claim-vs-measured table. */
export interface ClaimRow {
  /** What the source says, in a few words ("4-bit quantization loses < 0.6% accuracy"). */
  claim: string;
  /** Where the claim comes from (paper, article, section). */
  source?: string;
  /** The claimed value or range, as text ("< 0.6%", "1/5–1/100"). */
  expected?: string;
  /** What this run measured: a number (formatted compactly when shown) or text. */
  measured: string | number;
  verdict: Verdict;
  /** Caveats: budget, emulation, what differs from the source's setup. */
  note?: string;
  /**
   * True when `measured` is (or derives from) a wall-clock timing: it varies from run to run and machine to machine,
   * so reruns and kernel-parity checks do not expect it to repeat. Every other measured value is deterministic for a
   * given seed list. Default false.
   */
  timed?: boolean;
}

/** A named measurement: a finite number or text. */
export type MetricValue = number | string;

/** The payload under RESULTS_MIME; each output carries one of the fields. */
export interface ResultsPayload {
  claims?: ClaimRow[];
  metrics?: Record<string, MetricValue>;
  environment?: Record<string, string>;
}

const ROW_KEYS: readonly string[] = ["claim", "source", "expected", "measured", "verdict", "note", "timed"];
const OPTIONAL_TEXT = ["source", "expected", "note"] as const;

/** Checks `rows` and returns plain copies; errors name the row and field and say what was expected. */
export function validateClaims(rows: readonly ClaimRow[], fn = "claims(rows)"): ClaimRow[] {
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${fn}: expected a non-empty array of claim rows`);
  return rows.map((row, i) => {
    const at = `${fn}: rows[${i}]`;
    if (row === null || typeof row !== "object")
      throw new Error(`${at} is ${row === null ? "null" : typeof row}; expected an object`);
    const unknown = Object.keys(row).filter((key) => !ROW_KEYS.includes(key));
    if (unknown.length)
      throw new Error(`${at} has unknown field(s) ${unknown.join(", ")}; expected only ${ROW_KEYS.join(", ")}`);
    if (typeof row.claim !== "string" || row.claim.trim() === "")
      throw new Error(`${at}.claim: expected a non-empty string`);
    for (const key of OPTIONAL_TEXT) {
      if (row[key] !== undefined && typeof row[key] !== "string")
        throw new Error(`${at}.${key}: expected a string when given`);
    }
    checkMetric(`${at}.measured`, row.measured);
    if (row.timed !== undefined && typeof row.timed !== "boolean")
      throw new Error(`${at}.timed: expected true or false when given`);
    if (!VERDICTS.includes(row.verdict)) {
      throw new Error(
        `${at}.verdict is ${JSON.stringify(row.verdict)}; expected one of ${VERDICTS.map((v) => `"${v}"`).join(", ")}`,
      );
    }
    const copy: ClaimRow = { claim: row.claim, measured: row.measured, verdict: row.verdict };
    for (const key of OPTIONAL_TEXT) if (row[key] !== undefined) copy[key] = row[key];
    if (row.timed) copy.timed = true;
    return copy;
  });
}

function checkMetric(at: string, value: unknown): void {
  if (typeof value === "string") return;
  if (typeof value === "number" && Number.isFinite(value)) return;
  const got = typeof value === "number" ? String(value) : value === null ? "null" : typeof value;
  throw new Error(`${at} is ${got}; expected a finite number or a string (describe NaN or divergence in words)`);
}

/** A measured value as shown: numbers compactly (~4 significant digits), text as is. */
export function formatMeasured(value: MetricValue): string {
  return typeof value === "number" ? compact(value) : value;
}

/** The columns shown: claim, measured, verdict, plus source, expected and note when any row has them. */
function columns(rows: readonly ClaimRow[]): { key: keyof ClaimRow; title: string }[] {
  const all: { key: keyof ClaimRow; title: string }[] = [
    { key: "claim", title: "Claim" },
    { key: "source", title: "Source" },
    { key: "expected", title: "Expected" },
    { key: "measured", title: "Measured" },
    { key: "verdict", title: "Verdict" },
    { key: "note", title: "Note" },
  ];
  return all.filter(
    ({ key }) => ["claim", "measured", "verdict"].includes(key) || rows.some((row) => row[key] !== undefined),
  );
}

function cellText(row: ClaimRow, key: keyof ClaimRow): string {
  const value = row[key];
  return value === undefined ? "" : key === "measured" ? formatMeasured(value as MetricValue) : String(value);
}

/** Background colours of the verdict cells. */
const VERDICT_COLOURS: Record<Verdict, string> = {
  reproduced: "#d4edda",
  partly: "#fff3cd",
  "not reproduced": "#f8d7da",
  "not measured": "#e2e3e5",
  "within noise": "#e7f1ff",
  "by construction": "#f3f3f3",
};

/** An HTML table of the rows (inline styles, so it looks the same in a notebook and in the report). */
export function claimsHtml(rows: readonly ClaimRow[]): string {
  const cols = columns(rows);
  const cell = "padding:4px 8px;border:1px solid #ccc;text-align:left;vertical-align:top";
  const head = cols.map(({ title }) => `<th style="${cell};background:#f4f4f4">${title}</th>`).join("");
  const body = rows
    .map((row) => {
      const tds = cols.map(({ key }) => {
        const style = key === "verdict" ? `${cell};background:${VERDICT_COLOURS[row.verdict]}` : cell;
        return `<td style="${style}">${escapeHtml(cellText(row, key))}</td>`;
      });
      return `<tr>${tds.join("")}</tr>`;
    })
    .join("\n");
  return `<table class="moelab-claims" style="border-collapse:collapse">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** An aligned plain-text table of the rows. */
export function claimsText(rows: readonly ClaimRow[]): string {
  const cols = columns(rows);
  return asciiTable(
    cols.map(({ title }) => title),
    rows.map((row) => cols.map(({ key }) => cellText(row, key))),
  ).join("\n");
}

/**
 * Shows a claim-vs-measured table as one output (HTML + text) that also carries the rows for the runner
 * and the report. Call it once per table, usually at the end of a notebook.
 */
export function claims(rows: ClaimRow[]): Promise<void> {
  const checked = validateClaims(rows);
  return display({
    data: { [RESULTS_MIME]: { claims: checked }, "text/html": claimsHtml(checked), "text/plain": claimsText(checked) },
  });
}

function checkRecord<T>(fn: string, entries: Record<string, T>, check: (at: string, value: T) => void): void {
  if (entries === null || typeof entries !== "object" || Array.isArray(entries) || Object.keys(entries).length === 0) {
    throw new Error(`${fn}: expected a non-empty object of name → value`);
  }
  for (const [name, value] of Object.entries(entries)) {
    if (name.trim() === "") throw new Error(`${fn}: a name is empty`);
    check(`${fn}: "${name}"`, value);
  }
}

function showRecord(title: string, payload: ResultsPayload, entries: Record<string, MetricValue>): Promise<void> {
  const lines = Object.entries(entries).map(([name, value]) => `  ${name} = ${formatMeasured(value)}`);
  return display({ data: { [RESULTS_MIME]: payload, "text/plain": [`${title}:`, ...lines].join("\n") } });
}

/** Records named measurements (finite numbers or text) for the runner's results JSON; shows them as text. */
export function record(metrics: Record<string, MetricValue>): Promise<void> {
  checkRecord("record(metrics)", metrics, checkMetric);
  return showRecord("metrics", { metrics: { ...metrics } }, metrics);
}

/** Records facts about the run (backend, banner, devices) for the results JSON; shows them as text. */
export function recordEnvironment(entries: Record<string, string>): Promise<void> {
  checkRecord("recordEnvironment(entries)", entries, (at, value) => {
    if (typeof value !== "string") throw new Error(`${at} is ${typeof value}; expected a string`);
  });
  return showRecord("environment", { environment: { ...entries } }, entries);
}
