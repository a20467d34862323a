// Every notebook in notebooks/ runs in quick mode through the MoE Lab kernel, under Jupyter's own nbconvert and under
// our runner, ends with a claim-vs-measured table, and produces no error output.
import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { injectParameters, readNotebook, writeNotebook, type Notebook } from "../lib/run/notebook";
import { listNotebooks, runNotebooks } from "../lib/run/runner";
import { RESULTS_MIME } from "../lib/claims";

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
      }
      const report = fs.readFileSync(summary.reportPath, "utf8");
      for (const name of names) expect(report).toContain(name);
    },
    NOTEBOOK_TIMEOUT_MS * names.length,
  );
});
