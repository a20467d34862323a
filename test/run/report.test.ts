// Results gathered from an executed notebook and the report page built from them (no kernel, no browser).
import { describe, expect, it } from "vitest";
import { RESULTS_MIME } from "../../lib/claims";
import type { NotebookExecution } from "../../lib/run/execute";
import type { Notebook } from "../../lib/run/notebook";
import { renderReport } from "../../lib/run/report";
import { PLOTLY_MIME, notebookResults } from "../../lib/run/results";

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
