// End to end through the MoE Lab kernel: the reproduce CLI on test/fixtures (one passing, one failing notebook),
// the results it keeps, and the report drawn by headless chromium. Two kernel starts in all.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CodeCell, Notebook } from "../../lib/run/notebook";
import type { NotebookResults } from "../../lib/run/results";
import type { RunRecord } from "../../lib/run/run-record";
import { NotebookNotFoundError, runNotebooks } from "../../lib/run/runner";
import { CHROMIUM_FLAGS, findChromium } from "../../lib/viz/renderer";

const ROOT = join(__dirname, "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures");
const out = mkdtempSync(join(tmpdir(), "moelab-reproduce-"));
const resultsDir = join(out, "results");
const reportDir = join(out, "report");

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run reproduce`'s script (ts-node scripts/reproduce.ts) with `args`. */
function reproduce(args: string[]): Promise<Cli> {
  const tsNode = join(ROOT, "node_modules", ".bin", "ts-node");
  return new Promise((resolve) => {
    execFile(
      tsNode,
      [join(ROOT, "scripts", "reproduce.ts"), ...args],
      { cwd: ROOT, timeout: 300_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr });
      },
    );
  });
}

const json = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
const codeCells = (nb: Notebook) => nb.cells.filter((c): c is CodeCell => c.cell_type === "code");

let run: Cli;
beforeAll(async () => {
  run = await reproduce([
    "--notebooks",
    FIXTURES,
    "--results",
    resultsDir,
    "--report",
    reportDir,
    "--quick",
    "-p",
    "seed=7",
    "--timeout",
    "120",
  ]);
}, 300_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("npm run reproduce on the fixtures (moelab kernel)", () => {
  it("exits 1 because one notebook failed, after running both, with progress and a summary", () => {
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain("[1/2] failing");
    expect(run.stderr).toContain("[2/2] passing");
    expect(run.stderr).toMatch(/FAILED in [\d.]+ s — RangeError in cell 4: fixture failure <on purpose>/);
    expect(run.stderr).toContain("1 notebook(s) failed: failing");
    expect(run.stdout).toMatch(/\| failing +\| failed +\|/);
    expect(run.stdout).toMatch(/\| passing +\| ok +\|/);
    expect(run.stdout).toContain(`report:  ${join(reportDir, "index.html")}`);
    expect(run.stdout).toMatch(/2 notebook\(s\) in [\d.]+ s on .+ \(\d+ cores\), commit [0-9a-f]{12}/);
  });

  it("records the run: machine, commit, parameters, total and per-notebook wall time", () => {
    const record = json<RunRecord>(join(resultsDir, "run.json"));
    expect(record.notebooks.map((n) => [n.name, n.status])).toEqual([
      ["failing", "failed"],
      ["passing", "ok"],
    ]);
    expect(record.params).toEqual({ quick: true, seed: 7 });
    expect(record.only).toEqual([]);
    expect(record.commit.hash).toMatch(/^[0-9a-f]{40}$/);
    expect(record.machine.cpu.length).toBeGreaterThan(0);
    expect(record.machine.cores).toBeGreaterThanOrEqual(1);
    expect(record.machine.os.length).toBeGreaterThan(0);
    const sum = record.notebooks.reduce((t, n) => t + n.wallSeconds, 0);
    expect(record.wallSeconds).toBeGreaterThanOrEqual(sum);
    expect(Date.parse(record.finished) - Date.parse(record.started)).toBeCloseTo(record.wallSeconds * 1000, -2);
  });

  it("reports the failing cell with its traceback and keeps the cells before it", () => {
    const r = json<NotebookResults>(join(resultsDir, "failing.json"));
    expect(r.status).toBe("failed");
    expect(r.error).toMatchObject({
      cellIndex: 4,
      executionCount: 4,
      ename: "RangeError",
      evalue: "fixture failure <on purpose>",
    });
    expect(r.error!.source).toContain("explode();");
    expect(r.error!.traceback.join("\n")).toMatch(
      /^RangeError: fixture failure <on purpose>\n  in the cell:\n    at explode \(this cell\)/,
    );
    expect(r.cells.map((c) => c.status)).toEqual(["ok", "ok", "ok", "error"]);

    const nb = json<Notebook>(join(resultsDir, "failing.ipynb"));
    const [, injected, before, failing, after] = codeCells(nb).map((c) => c);
    expect(nb.cells[2]).toBe(injected);
    expect(injected.metadata.tags).toEqual(["injected-parameters"]);
    expect(injected.source).toBe("// Injected parameters\nlet quick = true;\nlet seed = 7;");
    expect(before.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "before the failure: 42\n" }]);
    expect(failing.outputs).toMatchObject([{ output_type: "error", ename: "RangeError" }]);
    expect(after.outputs).toEqual([]);
    expect(after.execution_count).toBeNull();
  });

  it("keeps the passing notebook's results: parameters, claims, metrics, figure, timings", () => {
    const r = json<NotebookResults>(join(resultsDir, "passing.json"));
    expect(r).toMatchObject({
      status: "ok",
      params: { quick: true, seed: 7 },
      metrics: { points: 3, total: 60 },
      figures: 1,
      error: null,
    });
    expect(r.claims.map((c) => c.verdict)).toEqual(["reproduced", "not reproduced"]);
    expect(r.claims[0].measured).toBe(10);
    expect(r.cells).toHaveLength(5);
    expect(r.cells.every((c) => c.seconds > 0 && c.status === "ok")).toBe(true);
    expect(r.environment).toMatchObject({ node: process.version, kernel: "moelab" });
    const nb = json<Notebook>(join(resultsDir, "passing.ipynb"));
    expect(codeCells(nb).map((c) => c.execution_count)).toEqual([1, 2, 3, 4, 5]);
    expect(codeCells(nb)[2].outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "quick=true points=3\n" },
    ]);
  });

  it("writes one report listing both notebooks, the failure escaped", () => {
    const html = readFileSync(join(reportDir, "index.html"), "utf8");
    expect(html).toContain('<section id="nb-failing">');
    expect(html).toContain('<section id="nb-passing">');
    expect(html).toContain("fixture failure &lt;on purpose&gt;");
    expect(html).toContain('href="../results/failing.ipynb"');
    expect(html).toContain('<h2 id="time">Where the time goes</h2>');
    expect(html).toContain(`href="${relative(reportDir, join(ROOT, "docs", "claims.md"))}"`);
    expect(html.match(/\* plotly\.js v\d+\.\d+\.\d+/g)).toHaveLength(1); // inlined by default
  });

  it("--only reruns one notebook, and the report keeps the other's earlier results (plotly.js linked)", async () => {
    const summary = await runNotebooks({
      notebooksDir: FIXTURES,
      only: ["passing"],
      params: { quick: true },
      resultsDir,
      reportDir,
      cellTimeout: 120,
      inlinePlotly: false, // the chromium test below draws this report with plotly.js from node_modules
    });
    expect(summary.run.only).toEqual(["passing"]);
    expect(summary.results.map((r) => r.name)).toEqual(["passing"]);
    const html = readFileSync(join(reportDir, "index.html"), "utf8");
    expect(html.indexOf('<section id="nb-failing">')).toBeGreaterThan(0);
    expect(html.indexOf('<section id="nb-passing">')).toBeGreaterThan(html.indexOf('<section id="nb-failing">'));
    expect(html).toContain("fixture failure &lt;on purpose&gt;");
    expect(json<NotebookResults>(join(resultsDir, "failing.json")).status).toBe("failed"); // untouched
    const plotly = relative(reportDir, join(ROOT, "node_modules", "plotly.js-dist-min", "plotly.min.js"));
    expect(html).toContain(`<script src="${plotly}"></script>`);
    expect(html).not.toMatch(/\* plotly\.js v\d+\.\d+\.\d+/);
  }, 180_000);

  it("a missing notebook name is a clear error (exit 2) listing the available names", async () => {
    const missing = await reproduce([
      "--notebooks",
      FIXTURES,
      "--results",
      resultsDir,
      "--report",
      reportDir,
      "--only",
      "passing,nope",
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no notebook named "nope" in ${FIXTURES}; available: failing, passing`);
    await expect(
      runNotebooks({ notebooksDir: FIXTURES, only: ["nope.ipynb"], resultsDir, reportDir }),
    ).rejects.toBeInstanceOf(NotebookNotFoundError);
    expect(existsSync(join(resultsDir, "nope.json"))).toBe(false);
    const both = await reproduce(["--out", join(out, "reference"), "--results", resultsDir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--out DIR sets both folders: give it without --results/--report");
  }, 60_000);
});

describe("the report in headless chromium", () => {
  let browser: Browser | undefined;
  afterAll(async () => browser?.close());

  it("draws the figure: the plot area's pixels are largely non-white, many in the bars' colour", async () => {
    const chromium = findChromium();
    if ("reason" in chromium) throw new Error(`this test needs chromium: ${chromium.reason}`);
    const { launch } = await import("puppeteer-core");
    browser = await launch({ executablePath: chromium.path, headless: true, pipe: true, args: [...CHROMIUM_FLAGS] });
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`file://${join(reportDir, "index.html")}`);
    await page.waitForSelector("#fig-1-0 .main-svg", { timeout: 30_000 });
    const plot = (await page.$("#fig-1-0 .svg-container"))!;
    const png = Buffer.from(await plot.screenshot({ type: "png" })).toString("base64");

    // Decode the screenshot by drawing it on a canvas, then count pixels.
    const decoder = await browser.newPage();
    const counts = await decoder.evaluate(async (b64: string) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, img.width, img.height).data;
      let ink = 0;
      let bar = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235) ink++;
        if (Math.abs(px[i] - 0x1f) < 12 && Math.abs(px[i + 1] - 0x77) < 12 && Math.abs(px[i + 2] - 0xb4) < 12) bar++;
      }
      return { total: px.length / 4, ink, bar, width: img.width, height: img.height };
    }, png);
    expect(counts.width).toBeGreaterThan(300);
    expect(counts.height).toBeGreaterThan(200);
    expect(counts.ink / counts.total).toBeGreaterThan(0.1);
    expect(counts.bar / counts.total).toBeGreaterThan(0.08);
  }, 120_000);
});
