// Executed notebooks are saved with each figure as PNG + plotly JSON only: a figure's live HTML (lib/viz/figure-html.ts,
// sent when MOELAB_DISPLAY=live) and any HTML output that inlines the plotly.js bundle are dropped before writing.
// Reference: issue 19 item 5 ("executed notebooks with outputs, without inlined plotly.js").
import type { Notebook } from "./notebook";
import { PLOTLY_MIME } from "./results";

/** The licence banner plotly.min.js starts with: an HTML output holding it inlines the whole bundle. */
const PLOTLY_BUNDLE_MARK = /plotly\.js v\d+\.\d+\.\d+/;

/** What slimNotebook removed. */
export interface SlimReport {
  /** text/html payloads dropped from figure outputs (the PNG + JSON stay). */
  figureHtml: number;
  /** text/html payloads dropped because they inlined plotly.js. */
  inlinedPlotly: number;
}

/**
 * Removes, in place, every figure output's `text/html` (regenerable from its plotly JSON) and every `text/html` that
 * inlines plotly.js; an output left with no data keeps a text/plain note saying what was dropped.
 */
export function slimNotebook(nb: Notebook): SlimReport {
  const report: SlimReport = { figureHtml: 0, inlinedPlotly: 0 };
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    for (const out of cell.outputs) {
      if (!("data" in out) || !("text/html" in out.data)) continue;
      const html = out.data["text/html"];
      const text = Array.isArray(html) ? html.join("") : String(html);
      if (PLOTLY_MIME in out.data) report.figureHtml++;
      else if (PLOTLY_BUNDLE_MARK.test(text)) report.inlinedPlotly++;
      else continue;
      delete out.data["text/html"];
      if (Object.keys(out.data).length === 0)
        out.data["text/plain"] = "(an HTML output that inlined plotly.js was dropped when the notebook was saved)";
    }
  }
  return report;
}
