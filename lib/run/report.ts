// The HTML report: one self-contained page, a summary of every notebook, its interactive figures and claim table.
// Reference: plotly.js Plotly.newPlot (https://plotly.com/javascript/plotlyjs-function-reference/); lib/claims.ts.
import { claimsHtml, formatMeasured } from "../claims";
import { VERDICTS } from "../verdict";
import { plotlySource, scriptSafe } from "../viz/plotlyjs";
import { escapeHtml, stripAnsi } from "../html-escape";
import type { Notebook } from "./notebook";
import { plotlyFigures, type NotebookResults } from "./results";
import { formatDuration, type RunRecord } from "./run-record";
import { withDefaults } from "../check";

/** One notebook in the report. */
export interface ReportEntry {
  results: NotebookResults;
  /** The executed notebook (figures come from its outputs); null when none was produced. */
  notebook: Notebook | null;
  /** Link to the executed notebook, relative to the report page; null when none. */
  notebookHref: string | null;
}

/** Settings of the report page. */
export interface ReportOptions {
  /** Page title and heading. */
  title: string;
  /** Time stamp shown under the heading. */
  generated: Date;
  /** The run record (machine, commit, total wall time), shown under the heading; null: not shown. */
  run: RunRecord | null;
  /** Link to docs/claims.md (every article claim → the row that tests it), relative to the page; null: no link. */
  claimsDocHref: string | null;
  /** null: plotly.js inlined (a self-contained page); a URL: loaded from there (a committed run stays small). */
  plotlySrc: string | null;
}

/** Defaults of renderReport. */
export const DEFAULT_REPORT_OPTIONS: Readonly<Omit<ReportOptions, "generated">> = Object.freeze({
  title: "MoE Lab — reproduction report",
  run: null,
  claimsDocHref: null,
  plotlySrc: null,
});

/** Slowest cells listed per notebook in the time report. */
const SLOWEST_CELLS = 3;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; }
h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 36px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; }
table.summary, table.kv { border-collapse: collapse; }
table.summary th, table.summary td, table.kv th, table.kv td { padding: 4px 10px; border: 1px solid #ccc; text-align: left; }
table.summary td.num { text-align: right; }
.status { padding: 1px 8px; border-radius: 8px; font-size: 13px; font-weight: 600; }
.status.ok { background: #d4edda; color: #155724; } .status.failed { background: #f8d7da; color: #721c24; }
pre { background: #f6f8fa; padding: 8px 12px; overflow-x: auto; font-size: 12.5px; }
pre.traceback { background: #fff5f5; border-left: 3px solid #dc3545; }
.plot { width: 100%; min-height: 360px; margin: 12px 0; }
.muted { color: #666; }
`;

const seconds = (s: number) => `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;

function statusBadge(status: NotebookResults["status"]): string {
  return `<span class="status ${status}">${status}</span>`;
}

function verdictCounts(results: NotebookResults): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(VERDICTS.map((v) => [v, 0]));
  for (const row of results.claims) counts[row.verdict]++;
  return counts;
}

/** Percent of `total` (one decimal), "—" when the total is 0. */
const share = (part: number, total: number) => (total > 0 ? `${((100 * part) / total).toFixed(1)}%` : "—");

function summaryTable(entries: readonly ReportEntry[]): string {
  const head = ["Notebook", "Status", "Wall time", "Share", "Figures", ...VERDICTS]
    .map((h) => `<th>${escapeHtml(h)}</th>`)
    .join("");
  const total = entries.reduce((s, e) => s + e.results.wallSeconds, 0);
  const rows = entries.map(({ results }) => {
    const counts = verdictCounts(results);
    return (
      `<tr><td><a href="#nb-${escapeHtml(results.name)}">${escapeHtml(results.name)}</a></td>` +
      `<td>${statusBadge(results.status)}</td><td class="num">${seconds(results.wallSeconds)}</td>` +
      `<td class="num">${share(results.wallSeconds, total)}</td><td class="num">${results.figures}</td>` +
      VERDICTS.map((v) => `<td class="num">${counts[v]}</td>`).join("") +
      `</tr>`
    );
  });
  const sum = VERDICTS.map((v) => entries.reduce((s, e) => s + verdictCounts(e.results)[v], 0));
  const figures = entries.reduce((s, e) => s + e.results.figures, 0);
  rows.push(
    `<tr><th>all notebooks</th><td></td><td class="num">${escapeHtml(formatDuration(total))}</td><td class="num">100%</td>` +
      `<td class="num">${figures}</td>${sum.map((n) => `<td class="num">${n}</td>`).join("")}</tr>`,
  );
  return `<table class="summary"><thead><tr>${head}</tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

/** First non-empty line of a cell's source (what the cell does), shortened. */
function firstLine(source: string): string {
  const line = source.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 90 ? `${line.slice(0, 89)}…` : line;
}

/** Where the time goes: per notebook, its share of the run and its slowest cells (seconds, share, first line). */
function timeReport(entries: readonly ReportEntry[]): string {
  const total = entries.reduce((s, e) => s + e.results.wallSeconds, 0);
  const rows = [...entries]
    .sort((a, b) => b.results.wallSeconds - a.results.wallSeconds)
    .map(({ results, notebook }) => {
      const slowest = [...results.cells]
        .sort((a, b) => b.seconds - a.seconds)
        .slice(0, SLOWEST_CELLS)
        .map((c) => {
          const cell = notebook?.cells[c.index];
          const what = cell ? firstLine(cell.source) : "";
          return (
            `cell ${c.index} ${seconds(c.seconds)} (${share(c.seconds, results.wallSeconds)})` +
            (what ? ` <code>${escapeHtml(what)}</code>` : "")
          );
        });
      const outside = Math.max(0, results.wallSeconds - results.cells.reduce((t, c) => t + c.seconds, 0));
      return (
        `<tr><td>${escapeHtml(results.name)}</td><td class="num">${seconds(results.wallSeconds)}</td>` +
        `<td class="num">${share(results.wallSeconds, total)}</td><td class="num">${seconds(outside)}</td>` +
        `<td>${slowest.join("<br>")}</td></tr>`
      );
    });
  return (
    `<h2 id="time">Where the time goes</h2>\n<p class="muted">Notebooks by wall time (kernel start included); ` +
    `the time outside its cells (kernel start, loading the library); its ${SLOWEST_CELLS} slowest cells with their share of ` +
    `the notebook.</p>\n` +
    `<table class="summary"><thead><tr><th>Notebook</th><th>Wall time</th><th>Share</th><th>Outside cells</th>` +
    `<th>Slowest cells</th></tr></thead>` +
    `<tbody>\n${rows.join("\n")}\n</tbody></table>`
  );
}

/** Machine, commit and total wall time of the run. */
function runFacts(run: RunRecord): string {
  const commit = `${run.commit.hash}${run.commit.dirty ? " (with uncommitted changes)" : ""}`;
  const params = Object.keys(run.params).length ? JSON.stringify(run.params) : "(defaults: full budgets)";
  return keyValueTable([
    ["Run", `${run.started} → ${run.finished}, ${formatDuration(run.wallSeconds)} in all`],
    ["Commit", commit],
    [
      "Machine",
      `${run.machine.cpu}, ${run.machine.cores} cores (${run.machine.logical} logical), ${run.machine.memoryGiB} GiB`,
    ],
    ["OS", `${run.machine.os}, Node ${run.machine.node}`],
    ["Parameters", params],
    ...(run.only.length ? [["Only", run.only.join(", ")] as [string, string]] : []),
  ]);
}

function keyValueTable(entries: [string, string][]): string {
  const rows = entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`);
  return `<table class="kv"><tbody>${rows.join("")}</tbody></table>`;
}

function failure(results: NotebookResults): string {
  const error = results.error;
  if (!error) return "";
  const where =
    error.cellIndex === null
      ? "before any cell ran"
      : `in cell ${error.cellIndex}` + (error.executionCount !== null ? ` (In [${error.executionCount}])` : "");
  const source = error.source ? `<p>Failing cell:</p><pre class="source">${escapeHtml(error.source)}</pre>` : "";
  const trace = error.traceback.length ? stripAnsi(error.traceback.join("\n")) : `${error.ename}: ${error.evalue}`;
  return (
    `<h3>Failure</h3><p><strong>${escapeHtml(error.ename)}</strong> ${escapeHtml(where)}: ` +
    `${escapeHtml(stripAnsi(error.evalue))}</p>${source}<p>Traceback:</p><pre class="traceback">${escapeHtml(trace)}</pre>`
  );
}

function section(entry: ReportEntry, figureIds: string[]): string {
  const r = entry.results;
  const facts: [string, string][] = [
    ["Started", r.started],
    ["Wall time", seconds(r.wallSeconds)],
    ["Cells run", String(r.cells.length)],
    ["Parameters", Object.keys(r.params).length ? JSON.stringify(r.params) : "(defaults)"],
    ...Object.entries(r.environment).map(([k, v]): [string, string] => [k, v ?? ""]),
  ];
  const link = entry.notebookHref ? ` · <a href="${escapeHtml(entry.notebookHref)}">executed notebook</a>` : "";
  const figures = figureIds.length
    ? `<h3>Figures</h3>\n${figureIds.map((id) => `<div class="plot" id="${id}"></div>`).join("\n")}`
    : "";
  const claims = r.claims.length ? claimsHtml(r.claims) : `<p class="muted">No claims recorded.</p>`;
  const metrics = Object.keys(r.metrics).length
    ? `<h3>Metrics</h3>${keyValueTable(Object.entries(r.metrics).map(([k, v]) => [k, formatMeasured(v)]))}`
    : "";
  return (
    `<section id="nb-${escapeHtml(r.name)}">\n<h2>${escapeHtml(r.name)} ${statusBadge(r.status)}</h2>\n` +
    `<p class="muted">${seconds(r.wallSeconds)}${link}</p>\n${keyValueTable(facts)}\n${failure(r)}\n` +
    `${figures}\n<h3>Claims vs measured</h3>\n${claims}\n${metrics}\n</section>`
  );
}

/** The whole report page: plotly.js inlined once, every figure drawn with Plotly.newPlot. */
export function renderReport(entries: readonly ReportEntry[], options: Partial<ReportOptions> = {}): string {
  const { title, generated, run, claimsDocHref, plotlySrc } = withDefaults(
    "renderReport(entries, options)",
    { ...DEFAULT_REPORT_OPTIONS, generated: new Date() },
    options,
  );
  const figures: { id: string; figure: Record<string, unknown> }[] = [];
  const sections = entries.map((entry, n) => {
    const own = (entry.notebook ? plotlyFigures(entry.notebook) : []).map((figure, i) => ({
      id: `fig-${n}-${i}`,
      figure,
    }));
    figures.push(...own);
    return section(
      entry,
      own.map(({ id }) => id),
    );
  });
  const failed = entries.filter((e) => e.results.status === "failed").length;
  const noPlotly = `plotly.js did not load from ${plotlySrc}: the figure's PNG is in the executed notebook`;
  const draw =
    `(function () {\n  var figures = ${scriptSafe(JSON.stringify(figures))};\n` +
    `  if (typeof Plotly === "undefined") {\n` +
    `    figures.forEach(function (f) { document.getElementById(f.id).textContent = ${scriptSafe(JSON.stringify(noPlotly))}; });\n` +
    `    return;\n  }\n` +
    `  figures.forEach(function (f) {\n` +
    `    var config = Object.assign({ displaylogo: false, responsive: true }, f.figure.config || {});\n` +
    `    Plotly.newPlot(f.id, f.figure.data || [], f.figure.layout || {}, config);\n  });\n})();`;
  return [
    `<!DOCTYPE html>`,
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    plotlySrc === null
      ? `<script>${scriptSafe(plotlySource())}</script>`
      : `<script src="${escapeHtml(plotlySrc)}"></script>`,
    `</head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="muted">Generated ${escapeHtml(generated.toISOString())} · ${entries.length} notebook(s), ${failed} failed</p>`,
    ...(run ? [runFacts(run)] : []),
    ...(claimsDocHref
      ? [
          `<p>Every claim, table and code snippet of the five source articles, and the notebook row that tests it ` +
            `(or why it cannot be tested here), with the verdict rule: <a href="${escapeHtml(claimsDocHref)}">docs/claims.md</a>.</p>`,
        ]
      : []),
    summaryTable(entries),
    timeReport(entries),
    ...sections,
    `<script>${draw}</script>`,
    `</body></html>`,
    ``,
  ].join("\n");
}
