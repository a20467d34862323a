// Results gathered from an executed notebook and the report page built from them (no kernel, no browser).
import { describe, expect, it } from "vitest";
import { RESULTS_MIME } from "../../lib/claims";
import type { NotebookExecution } from "../../lib/run/execute";
import type { Notebook } from "../../lib/run/notebook";
import { renderReport } from "../../lib/run/report";
import { PLOTLY_MIME, notebookResults } from "../../lib/run/results";
import { slimNotebook } from "../../lib/run/slim";
import { plotlySource } from "../../lib/viz/plotlyjs";

const figure = { data: [{ type: "bar", x: ["a", "b"], y: [1, 2] }], layout: { title: { text: "bars" } } };

function execution(cells: Notebook["cells"], error: NotebookExecution["error"] = null): NotebookExecution {
  return {
    notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells },
    status: error ? "failed" : "ok",
    started: "2026-01-01T00:00:00.000Z",
    wallSeconds: 1.5,
    cells: [],
    error,
    kernelInfo: { implementation: "moelab", implementation_version: "0.1.0" },
  };
}

const ok = execution([
  {
    cell_type: "code",
    source: "",
    metadata: {},
    execution_count: 1,
    outputs: [
      { output_type: "stream", name: "stdout", text: "MoE Lab 0.1.0 · backend wasm (also: cpu) · tfjs 4.22.0\n" },
      { output_type: "display_data", data: { [PLOTLY_MIME]: figure, "text/plain": "bars" }, metadata: {} },
      {
        output_type: "display_data",
        data: { [RESULTS_MIME]: { claims: [{ claim: "c1", measured: 1, verdict: "reproduced" }] } },
        metadata: {},
      },
      {
        output_type: "display_data",
        data: { [RESULTS_MIME]: { claims: [{ claim: "c2", measured: "n/a", verdict: "not measured" }] } },
        metadata: {},
      },
      {
        output_type: "execute_result",
        execution_count: 1,
        data: { [RESULTS_MIME]: { metrics: { loss: 0.5 } } },
        metadata: {},
      },
    ],
  },
]);
const failed = execution([], {
  cellIndex: 2,
  executionCount: 3,
  source: "throw new Error('<boom>');",
  ename: "Error",
  evalue: "<boom>",
  traceback: ["\u001b[31mError: <boom>\u001b[0m", "    at cell 3"],
});

describe("notebookResults", () => {
  it("collects every claims and metrics output, figures, the printed banner and kernel info", () => {
    const r = notebookResults("ok", { quick: true }, "moelab", ok);
    expect(r.claims.map((c) => c.claim)).toEqual(["c1", "c2"]);
    expect(r.metrics).toEqual({ loss: 0.5 });
    expect(r.figures).toBe(1);
    expect(r.environment).toEqual({
      node: process.version,
      kernel: "moelab",
      implementation: "moelab 0.1.0",
      banner: "MoE Lab 0.1.0 · backend wasm (also: cpu) · tfjs 4.22.0",
    });
  });
});

describe("renderReport", () => {
  const html = renderReport([
    { results: notebookResults("ok", {}, "moelab", ok), notebook: ok.notebook, notebookHref: "../results/ok.ipynb" },
    { results: notebookResults("bad", {}, "moelab", failed), notebook: failed.notebook, notebookHref: null },
  ]);

  it("inlines plotly.js exactly once and draws each figure", () => {
    expect(html.match(/\* plotly\.js v\d+\.\d+\.\d+/g)).toHaveLength(1); // the bundle's banner comment
    expect(html.match(/Plotly\.newPlot\(f\.id/g)).toHaveLength(1);
    expect(html).toContain('<div class="plot" id="fig-0-0"></div>');
    expect(html).toContain('"title":{"text":"bars"}');
  });

  it("has a summary row per notebook with verdict counts", () => {
    const summary = html.slice(
      html.indexOf('<table class="summary">'),
      html.indexOf("</table>", html.indexOf('<table class="summary">')),
    );
    expect(summary).toMatch(
      /href="#nb-ok">ok<\/a><\/td><td><span class="status ok">ok<\/span><\/td><td class="num">1\.50 s<\/td><td class="num">50\.0%<\/td><td class="num">1<\/td><td class="num">1<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">1<\/td>/,
    );
    expect(summary).toContain('<span class="status failed">failed</span>');
  });

  it("shows a failure's cell source and traceback, escaped and without ANSI codes", () => {
    expect(html).toContain("in cell 2 (In [3])");
    expect(html).toContain("throw new Error(&#39;&lt;boom&gt;&#39;);");
    expect(html).toContain('<pre class="traceback">Error: &lt;boom&gt;\n    at cell 3</pre>');
    expect(html).not.toContain("\u001b");
  });
});

describe("renderReport's run facts, time report and links", () => {
  const timed = execution([
    {
      cell_type: "code",
      source: "\nawait lab.experiments.trainLM(cfg); // the long one",
      metadata: {},
      execution_count: 1,
      outputs: [],
    },
    { cell_type: "code", source: "lab.claims(rows)", metadata: {}, execution_count: 2, outputs: [] },
  ]);
  timed.cells = [
    { index: 0, executionCount: 1, seconds: 9, status: "ok" },
    { index: 1, executionCount: 2, seconds: 0.5, status: "ok" },
  ];
  timed.wallSeconds = 10;
  const run = {
    started: "2026-12-06T10:00:00.000Z",
    finished: "2026-12-06T10:00:12.000Z",
    wallSeconds: 12,
    params: {},
    only: [],
    notebooks: [{ name: "timed", status: "ok" as const, wallSeconds: 10 }],
    machine: { cpu: "Test CPU", cores: 2, logical: 4, memoryGiB: 8, os: "TestOS 1", node: "v20.0.0" },
    commit: { hash: "ab".repeat(20), dirty: true },
  };
  const html = renderReport(
    [{ results: notebookResults("timed", {}, "moelab", timed), notebook: timed.notebook, notebookHref: null }],
    { run, claimsDocHref: "../docs/claims.md", plotlySrc: "../node_modules/plotly.js-dist-min/plotly.min.js" },
  );

  it("shows machine, commit and the run's total wall time", () => {
    expect(html).toContain("<tr><th>Commit</th><td>" + "ab".repeat(20) + " (with uncommitted changes)</td></tr>");
    expect(html).toContain("<tr><th>Machine</th><td>Test CPU, 2 cores (4 logical), 8 GiB</td></tr>");
    expect(html).toContain("2026-12-06T10:00:12.000Z, 12.0 s in all");
  });

  it("says where the time goes: each notebook's share, time outside cells, slowest cells with their first line", () => {
    expect(html).toContain('<h2 id="time">Where the time goes</h2>');
    expect(html).toContain('<td class="num">100.0%</td><td class="num">0.50 s</td>'); // 10 s − 9.5 s in cells
    expect(html).toContain(
      "cell 0 9.00 s (90.0%) <code>await lab.experiments.trainLM(cfg); // the long one</code><br>cell 1 0.50 s (5.0%)",
    );
    expect(html).toContain('<tr><th>all notebooks</th><td></td><td class="num">10.0 s</td><td class="num">100%</td>');
  });

  it("links docs/claims.md and loads plotly.js from the given path instead of inlining it", () => {
    expect(html).toContain('<a href="../docs/claims.md">docs/claims.md</a>');
    expect(html).toContain('<script src="../node_modules/plotly.js-dist-min/plotly.min.js"></script>');
    expect(html).not.toMatch(/\* plotly\.js v\d+\.\d+\.\d+/);
    expect(html).toContain("plotly.js did not load from ../node_modules/plotly.js-dist-min/plotly.min.js");
  });
});

describe("slimNotebook", () => {
  it("keeps each figure's PNG and plotly JSON, drops its live HTML and any HTML that inlines plotly.js", () => {
    const nb = execution([
      {
        cell_type: "code",
        source: "",
        metadata: {},
        execution_count: 1,
        outputs: [
          {
            output_type: "display_data",
            data: { [PLOTLY_MIME]: figure, "image/png": "iVBOR", "text/plain": "bars", "text/html": "<div>live</div>" },
            metadata: {},
          },
          { output_type: "display_data", data: { "text/html": `<script>${plotlySource()}</script>` }, metadata: {} },
          { output_type: "display_data", data: { "text/html": "<table>claims</table>" }, metadata: {} },
        ],
      },
    ]).notebook;
    expect(slimNotebook(nb)).toEqual({ figureHtml: 1, inlinedPlotly: 1 });
    const outs = (nb.cells[0] as { outputs: { data: Record<string, unknown> }[] }).outputs;
    expect(Object.keys(outs[0].data).sort()).toEqual([PLOTLY_MIME, "image/png", "text/plain"].sort());
    expect(outs[1].data).toEqual({ "text/plain": expect.stringContaining("inlined plotly.js was dropped") });
    expect(outs[2].data).toEqual({ "text/html": "<table>claims</table>" }); // other HTML stays
    expect(JSON.stringify(nb).length).toBeLessThan(10_000);
  });
});
