// Every notebook in notebooks/ runs in quick mode through the MoE Lab kernel, under Jupyter's own nbconvert and under
// our runner, ends with a claim-vs-measured table, and produces no error output; then again on the Deno kernel
// (kernels/moelab-deno). Every claim row not marked `timed` (a wall-clock measurement) must come out the same in all three
// runs; the Deno run must also put the same figures and claims tables in the same cells, each figure carrying its PNG.
import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { injectParameters, readNotebook, writeNotebook, type Notebook } from "../lib/run/notebook";
import { listNotebooks, runNotebooks } from "../lib/run/runner";
import { PLOTLY_MIME } from "../lib/run/results";
import { RESULTS_MIME, type ClaimRow } from "../lib/claims";

const root = path.resolve(__dirname, "..");
const notebooksDir = path.join(root, "notebooks");
const names = listNotebooks(notebooksDir);
// Quick budgets take 7–35 s a notebook on the 2-core reference machine; allow for a slow or loaded CI machine.
const NOTEBOOK_TIMEOUT_MS = 300_000;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "moelab-notebooks-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function outputsOf(nb: Notebook) {
  return nb.cells.flatMap((cell) => (cell.cell_type === "code" ? cell.outputs : []));
}

/** The claim rows of an executed notebook, in order (every claims() output). */
function claimsOf(nb: Notebook): ClaimRow[] {
  return outputsOf(nb).flatMap((o) =>
    "data" in o && RESULTS_MIME in o.data ? ((o.data[RESULTS_MIME] as { claims?: ClaimRow[] }).claims ?? []) : [],
  );
}

/** Per code cell, how many figures and how many results outputs it holds ("figures/results"). */
function displaysByCell(nb: Notebook): string[] {
  return nb.cells.flatMap((cell) => {
    if (cell.cell_type !== "code") return [];
    const count = (mime: string) => cell.outputs.filter((o) => "data" in o && mime in o.data).length;
    return [`${count(PLOTLY_MIME)}/${count(RESULTS_MIME)}`];
  });
}

/** Claims of each notebook by run: nbconvert and runner on tslab, runner on Deno. */
const claimsByRun: Record<"nbconvert" | "runner" | "deno", Map<string, ClaimRow[]>> = {
  nbconvert: new Map(),
  runner: new Map(),
  deno: new Map(),
};

describe("notebooks in quick mode", () => {
  it("the lab ships notebooks, the tour first", () => {
    expect(names[0]).toBe("00-tour");
  });

  it.each(names)(
    "%s executes under jupyter nbconvert with the moelab kernel",
    (name) => {
      const input = path.join(work, `${name}.ipynb`);
      writeNotebook(input, injectParameters(readNotebook(path.join(notebooksDir, `${name}.ipynb`)), { quick: true }));
      execFileSync(
        "/usr/bin/jupyter",
        [
          "nbconvert",
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.kernel_name=moelab",
          "--ExecutePreprocessor.timeout=900",
          "--output",
          `${name}.executed`,
          input,
        ],
        { env: { ...process.env, JUPYTER_PATH: root }, stdio: "pipe" },
      );
      const executed = readNotebook(path.join(work, `${name}.executed.ipynb`));
      const outputs = outputsOf(executed);
      expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
      const claims = outputs.filter((o) => "data" in o && RESULTS_MIME in o.data);
      expect(claims.length).toBeGreaterThan(0);
      claimsByRun.nbconvert.set(name, claimsOf(executed));
      const codeCells = executed.cells.filter((c) => c.cell_type === "code");
      expect(codeCells.every((c) => c.cell_type === "code" && c.execution_count !== null)).toBe(true);
    },
    NOTEBOOK_TIMEOUT_MS,
  );

  it(
    "all execute under our runner, with results JSON and the report",
    async () => {
      const summary = await runNotebooks({
        params: { quick: true },
        resultsDir: path.join(work, "results"),
        reportDir: path.join(work, "report"),
      });
      expect(summary.failed).toEqual([]);
      expect(summary.results.map((r) => r.name)).toEqual(names);
      for (const r of summary.results) {
        expect(r.status).toBe("ok");
        expect(r.claims.length).toBeGreaterThan(0);
        expect(fs.existsSync(path.join(work, "results", `${r.name}.json`))).toBe(true);
        expect(fs.existsSync(path.join(work, "results", `${r.name}.ipynb`))).toBe(true);
        claimsByRun.runner.set(r.name, r.claims);
      }
      const report = fs.readFileSync(summary.reportPath, "utf8");
      for (const name of names) expect(report).toContain(name);
    },
    NOTEBOOK_TIMEOUT_MS * names.length,
  );

  it(
    "all execute on the Deno kernel with the tslab kernel's claim values, figures and tables in the same cells",
    async () => {
      const summary = await runNotebooks({
        params: { quick: true },
        kernel: "moelab-deno",
        resultsDir: path.join(work, "deno-results"),
        reportDir: path.join(work, "deno-report"),
      });
      expect(summary.failed).toEqual([]);
      for (const r of summary.results) claimsByRun.deno.set(r.name, r.claims);
      for (const name of names) {
        const [onTslab, onDeno] = ["results", "deno-results"].map((dir) =>
          readNotebook(path.join(work, dir, `${name}.ipynb`)),
        );
        expect(displaysByCell(onDeno), `${name}: figures/claims tables per cell, Deno vs tslab`).toEqual(
          displaysByCell(onTslab),
        );
        // Headless, a Deno figure carries its PNG (what nbconvert's HTML and untrusted notebooks show).
        const figures = outputsOf(onDeno).filter((o) => "data" in o && PLOTLY_MIME in o.data);
        expect(
          figures.filter((o) => "data" in o && !("image/png" in o.data)),
          `${name}: figures without PNG`,
        ).toEqual([]);
        const [a, b, deno] = (["nbconvert", "runner", "deno"] as const).map((run) => claimsByRun[run].get(name) ?? []);
        expect(
          deno.map((row) => row.claim),
          name,
        ).toEqual(b.map((row) => row.claim));
        // A row that is not marked timed is deterministic for the seed list: all three runs must agree on it.
        const untimed = (rows: ClaimRow[]) =>
          rows.map((row) => (row.timed ? { claim: row.claim, timed: true } : { ...row, note: undefined }));
        expect(untimed(a), `${name}: untimed rows, nbconvert vs runner (tslab)`).toEqual(untimed(b));
        expect(untimed(deno), `${name}: untimed rows, Deno vs tslab`).toEqual(untimed(b));
      }
    },
    NOTEBOOK_TIMEOUT_MS * names.length,
  );
});
