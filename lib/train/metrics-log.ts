// Metrics as JSON Lines: one object per line ({"step": 10, "loss": 2.31, ...}), appended as a run goes, readable
// while it runs and after. Reference: the JSON Lines format (https://jsonlines.org); nanoGPT/cleanrl's per-step logs.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/** One logged record: numbers (or text) by name; `step` says when. */
export type MetricsRecord = { step: number } & Record<string, number | string>;

/** An append-only JSONL file. */
export class MetricsLog {
  /** Opens `file` (creating its folder); `append` false empties it first. */
  constructor(
    readonly file: string,
    append = false,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    if (!append || !existsSync(file)) writeFileSync(file, "");
  }

  /** Appends one record as a line. Non-finite numbers are written as strings ("NaN", "Infinity"), which JSON lacks. */
  append(record: MetricsRecord): void {
    const safe = Object.fromEntries(
      Object.entries(record).map(([k, v]) => [k, typeof v === "number" && !Number.isFinite(v) ? String(v) : v]),
    );
    appendFileSync(this.file, JSON.stringify(safe) + "\n");
  }
}

/** Reads every record of a JSONL metrics file. */
export function readMetrics(file: string): MetricsRecord[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      try {
        return JSON.parse(line) as MetricsRecord;
      } catch {
        throw new Error(`readMetrics(file): line ${i + 1} of ${file} is not JSON`);
      }
    });
}
