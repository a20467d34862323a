// show(fig): one display bundle per figure (plotly JSON + PNG + text, HTML when live), or the summary on a terminal.
// Reference: Jupyter display_data MIME bundles; application/vnd.plotly.v1+json as used by JupyterLab's plotly renderer.

import { kernelHost, display } from "../display";
import { Figure } from "./figure";
import { figureHtml } from "./figure-html";
import { renderPngBase64 } from "./renderer";

/** MIME type of the plotly figure JSON in a bundle. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/**
 * Shows a figure. In a MoE Lab kernel: one display with plotly JSON, a PNG (when chromium runs), the text
 * summary, and HTML in a live notebook; the kernel waits for it before ending the cell. Elsewhere: prints the
 * summary. Rejects (after displaying JSON and text) when chromium runs but cannot render this figure.
 */
export function show(fig: Figure): Promise<void> {
  const host = kernelHost();
  if (!host) {
    display({ data: { "text/plain": fig.summary } });
    return Promise.resolve();
  }
  const figure = { data: fig.data, layout: fig.layout };
  const work = (async () => {
    let png: string | null = null;
    let failure: unknown = null;
    try {
      png = await renderPngBase64(figure);
    } catch (e) {
      failure = e;
    }
    const data: Record<string, unknown> = { [PLOTLY_MIME]: figure };
    if (png !== null) data["image/png"] = png;
    data["text/plain"] = fig.summary;
    if (host.live) data["text/html"] = figureHtml(figure, png);
    // The host captured when show() was called: the render is asynchronous, the output belongs to this cell.
    await host.display({ data }); // Deno sends asynchronously: the figure must be out before show() resolves
    if (failure) throw failure;
  })();
  host.track(work);
  return work;
}
