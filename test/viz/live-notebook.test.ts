// A live session in classic Notebook, started the way users start it (`npm run lab`, i.e. scripts/lab.sh), driven by
// headless chromium, on each kernel (tslab's and Deno's): a figure cell runs, the notebook is saved, and the saved file
// stays small (plotly.js is loaded from the nbextension, not inlined) while the figure is still interactive after a
// reload; the PNG stays as fallback. A progress bar (updated in place) and a claims table render too.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, describe, expect, it } from "vitest";
import type { Notebook } from "../../lib/run/notebook";
import { CHROMIUM_FLAGS, findChromium } from "../../lib/viz/renderer";

const ROOT = join(__dirname, "..", "..");
const SAVED_LIMIT = 200 * 1024;
const TOKEN = "moelab-live-test";
const dir = mkdtempSync(join(tmpdir(), "moelab-live-"));
let server: ChildProcess | null = null;
let browser: Browser | null = null;
let log = "";
const consoleLines: string[] = [];

/** Closes the browser and stops the Notebook server (its process group: Notebook and its kernel). */
async function stopSession(): Promise<void> {
  await browser?.close();
  browser = null;
  if (server?.pid && server.exitCode === null) process.kill(-server.pid, "SIGTERM");
  server = null;
}

afterAll(async () => {
  await stopSession();
  rmSync(dir, { recursive: true, force: true });
});

/** The cells each session runs: a figure, a progress bar updated in place, a claims table. */
const CELLS = [
  'await lab.show(lab.viz.bar(["a", "b", "c"], [3, 1, 2], { title: "live" }));',
  'const bar = lab.progress(3, { label: "steps" });\nfor (let i = 0; i < 3; i++) { await new Promise((r) => setTimeout(r, 50)); bar.tick(); }\nbar.done();',
  'await lab.claims([{ claim: "the table renders", measured: "yes", verdict: lab.unlessQuick(true, "reproduced") }]);',
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitForServer(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Notebook did not answer at ${url} within ${ms} ms:\n${log}`);
}

/** Waits until the figure's div holds a plotly graph with its mode bar (drawn by plotly.js, so interactive). */
async function interactiveFigure(page: Page): Promise<void> {
  try {
    await page.waitForSelector(".output_html [id^=moelab-figure-].js-plotly-plot .main-svg", { timeout: 240_000 });
  } catch (e) {
    const outputs = await page.$$eval(".output_area", (areas) =>
      areas.map((a) => a.innerHTML.slice(0, 1500)).join("\n---\n"),
    );
    throw new Error(
      `no interactive figure (${(e as Error).message}); outputs:\n${outputs}\npage console:\n${consoleLines.join("\n")}\nserver:\n${log.slice(-3000)}`,
    );
  }
  expect(await page.$$eval(".output_html [id^=moelab-figure-] .modebar", (m) => m.length)).toBe(1);
  expect(await page.$$eval(".output_html [id^=moelab-figure-] .barlayer .point", (p) => p.length)).toBe(3);
}

describe.each([
  { kernel: "moelab", displayName: "MoE Lab (TypeScript)" },
  { kernel: "moelab-deno", displayName: "MoE Lab (Deno)" },
])("a live classic Notebook session on the $kernel kernel", ({ kernel, displayName }) => {
  it("saves a notebook under 200 KB whose figure is drawn by plotly.js again after a reload; progress and claims render", async () => {
    const chromium = findChromium();
    if ("reason" in chromium) throw new Error(`this test needs chromium: ${chromium.reason}`);
    const nb: Notebook = {
      nbformat: 4,
      nbformat_minor: 4,
      metadata: { kernelspec: { name: kernel, display_name: displayName, language: "typescript" } },
      cells: CELLS.map((source) => ({
        cell_type: "code" as const,
        source,
        metadata: {},
        outputs: [],
        execution_count: null,
      })),
    };
    const file = join(dir, `${kernel}.ipynb`);
    writeFileSync(file, JSON.stringify(nb, null, 1));

    const port = await freePort();
    server = spawn(
      "bash",
      [
        join(ROOT, "scripts", "lab.sh"),
        `--notebook-dir=${dir}`,
        "--no-browser",
        "--ip=127.0.0.1",
        `--port=${port}`,
        `--NotebookApp.token=${TOKEN}`,
      ],
      {
        cwd: ROOT,
        detached: true,
        env: {
          ...process.env,
          JUPYTER_CONFIG_DIR: join(dir, ".jupyter-config"),
          JUPYTER_RUNTIME_DIR: join(dir, ".jupyter-runtime"),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    server.stdout!.on("data", (d: Buffer) => (log += d.toString()));
    server.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/api/status?token=${TOKEN}`, 60_000);

    const { launch } = await import("puppeteer-core");
    browser = await launch({
      executablePath: chromium.path,
      headless: true,
      pipe: true,
      protocolTimeout: 360_000,
      args: [...CHROMIUM_FLAGS],
    });
    const page = await browser.newPage();
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => consoleLines.push(`pageerror: ${(e as Error).message}`));
    await page.goto(`${base}/notebooks/${kernel}.ipynb?token=${TOKEN}`);
    await page.waitForFunction(
      () =>
        (
          window as unknown as { Jupyter?: { notebook?: { kernel?: { is_connected(): boolean } } } }
        ).Jupyter?.notebook?.kernel?.is_connected(),
      { timeout: 120_000 },
    );
    await page.evaluate(() =>
      (
        window as unknown as { Jupyter: { notebook: { execute_all_cells(): void } } }
      ).Jupyter.notebook.execute_all_cells(),
    );
    await interactiveFigure(page);
    await page.waitForSelector(".output_html table.moelab-claims", { timeout: 120_000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll(".output_html progress")].some((p) => p.getAttribute("value") === "1"),
      {
        timeout: 60_000,
      },
    );
    expect(await page.$$eval(".output_html progress", (p) => p.length)).toBe(1); // updated in place, not appended
    await page.evaluate(() =>
      (
        window as unknown as { Jupyter: { notebook: { save_notebook(): Promise<unknown> } } }
      ).Jupyter.notebook.save_notebook(),
    );

    const size = statSync(file).size;
    expect(size, `saved notebook is ${size} bytes`).toBeLessThan(SAVED_LIMIT);
    const saved = JSON.parse(readFileSync(file, "utf8")) as Notebook;
    const cell = saved.cells[0];
    const outputs = cell.cell_type === "code" ? cell.outputs : [];
    const display = outputs.find((o) => o.output_type === "display_data");
    expect(display, JSON.stringify(outputs).slice(0, 2000)).toBeDefined();
    const data = (display as { data: Record<string, unknown> }).data;
    expect(Object.keys(data).sort()).toEqual([
      "application/vnd.plotly.v1+json",
      "image/png",
      "text/html",
      "text/plain",
    ]);
    expect(String(data["text/html"])).toContain("nbextensions/moelab/plotly.min");
    expect(String(data["text/html"])).toContain('<img src="data:image/png;base64,'); // the fallback stays

    const cells = saved.cells.map((c) => (c.cell_type === "code" ? c.outputs : []));
    expect(JSON.stringify(cells[1])).toContain("3/3");
    expect(JSON.stringify(cells[2])).toContain("moelab-claims");

    // Saved by this session, the notebook is trusted: on reload its HTML runs again and loads plotly.js once more.
    await page.reload();
    await interactiveFigure(page);
    await stopSession();
  }, 420_000);
});
