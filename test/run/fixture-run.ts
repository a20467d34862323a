// A small results folder for the generators' tests: two notebooks' results JSON and a run.json, written where asked.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ClaimRow } from "../../lib/claims";
import type { NotebookResults } from "../../lib/run/results";
import type { RunRecord } from "../../lib/run/run-record";

/** The fixture's notebooks, in manifest order. */
export const FIXTURE_NOTEBOOKS = ["alpha", "beta"];

function results(name: string, wallSeconds: number, cells: number[], claims: ClaimRow[]): NotebookResults {
  return {
    name,
    status: "ok",
    params: {},
    started: "2026-12-06T10:00:00.000Z",
    wallSeconds,
    cells: cells.map((seconds, index) => ({ index, executionCount: index + 1, seconds, status: "ok" })),
    claims,
    metrics: {},
    figures: 0,
    error: null,
    environment: { node: "v20.0.0", kernel: "moelab" },
  };
}

/** Writes alpha (30 s, 2 rows), beta (90 s, 1 row) and run.json (a full run, 125 s) into `dir`; returns the record. */
export function writeFixtureRun(dir: string, overrides: Partial<RunRecord> = {}): RunRecord {
  const alpha = results(
    "alpha",
    30,
    [1, 25, 2], // 2 s outside cells (kernel start)
    [
      {
        claim: "MoE beats dense at equal active parameters",
        source: "article 000",
        measured: 1.503,
        verdict: "reproduced",
      },
      { claim: "Σ gate weights = 2.5", measured: 2.5, verdict: "by construction" },
    ],
  );
  const beta = results(
    "beta",
    90,
    [80, 10],
    [
      {
        claim: "INT8 inference is 2–3× faster",
        expected: "2–3×",
        measured: "0.99×",
        verdict: "not reproduced",
        note: "a | pipe",
      },
    ],
  );
  const run: RunRecord = {
    started: "2026-12-06T10:00:00.000Z",
    finished: "2026-12-06T10:02:05.000Z",
    wallSeconds: 125,
    params: {},
    only: [],
    notebooks: [alpha, beta].map((r) => ({ name: r.name, status: r.status, wallSeconds: r.wallSeconds })),
    machine: {
      cpu: "Test CPU 9000",
      cores: 2,
      logical: 2,
      memoryGiB: 7.8,
      os: "Debian GNU/Linux 12 (bookworm)",
      node: "v20.0.0",
    },
    commit: { hash: "0123456789abcdef0123456789abcdef01234567", dirty: false },
    ...overrides,
  };
  for (const r of [alpha, beta]) writeFileSync(join(dir, `${r.name}.json`), JSON.stringify(r));
  writeFileSync(join(dir, "run.json"), JSON.stringify(run));
  return run;
}
