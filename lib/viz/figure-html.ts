// HTML for a figure in a live notebook: a div drawn by plotly.js, the bundle inlined in the process's first one.
// Reference: plotly.js Plotly.newPlot, https://plotly.com/javascript/plotlyjs-function-reference/

import { DEFAULT_STYLE, Figure } from "./figure";
import { plotlySource, scriptSafe } from "./plotlyjs";

let inlined = false;
let counter = 0;

/**
 * A `text/html` payload that draws the figure with window.Plotly. The first call of the process carries
 * plotly.js itself; later ones reuse it. The PNG (when given) sits in the div until plotly replaces it, so a
 * page without plotly (reloaded page, untrusted notebook with scripts stripped) still shows the picture.
 */
export function figureHtml(fig: Pick<Figure, "data" | "layout">, pngBase64: string | null): string {
  const width = fig.layout.width ?? DEFAULT_STYLE.width;
  const height = fig.layout.height ?? DEFAULT_STYLE.height;
  const id = `moelab-figure-${Date.now().toString(36)}-${++counter}`;
  const library = inlined ? "" : `<script type="text/javascript">${scriptSafe(plotlySource())}</script>\n`;
  inlined = true;
  const fallback = pngBase64 ? `<img src="data:image/png;base64,${pngBase64}" width="${width}" height="${height}">` : "";
  const figure = scriptSafe(JSON.stringify({ data: fig.data, layout: fig.layout }));
  return (
    library +
    `<div id="${id}" style="width:${width}px;height:${height}px">${fallback}</div>\n` +
    `<script type="text/javascript">(function () {\n` +
    `  var el = document.getElementById("${id}"), fig = ${figure};\n` +
    `  if (!el || !window.Plotly) return;\n` +
    `  el.innerHTML = "";\n` +
    `  window.Plotly.newPlot(el, fig.data, fig.layout, { displaylogo: false });\n` +
    `})();</script>`
  );
}
