// HTML for a figure in a live notebook: a div drawn by plotly.js, which the page loads once from the Notebook server
// (the nbextension scripts/nbextension.sh installs), never inlined, so saved notebooks stay small.
// Reference: plotly.js Plotly.newPlot, https://plotly.com/javascript/plotlyjs-function-reference/; classic Notebook
// serves <JUPYTER_PATH entry>/nbextensions/ at <base url>nbextensions/ and loads page scripts through require.js.

import { DEFAULT_STYLE, Figure } from "./figure";
import { scriptSafe } from "./plotlyjs";

/** Where the Notebook server serves plotly.min.js, relative to its base URL (without ".js", as require.js wants). */
export const PLOTLY_NBEXTENSION_PATH = "nbextensions/moelab/plotly.min";

let counter = 0;

/**
 * A `text/html` payload (a few KB plus the figure's JSON) that draws the figure with plotly.js: window.Plotly when
 * the page has it, else plotly.min.js from the Notebook server (require.js in classic Notebook, a script tag
 * elsewhere), loaded once per page. The PNG (when given) sits in the div until plotly replaces it, so a page that
 * cannot load plotly (untrusted notebook with scripts stripped, a server without the nbextension) shows the picture.
 */
export function figureHtml(fig: Pick<Figure, "data" | "layout">, pngBase64: string | null): string {
  const width = fig.layout.width ?? DEFAULT_STYLE.width;
  const height = fig.layout.height ?? DEFAULT_STYLE.height;
  const id = `moelab-figure-${Date.now().toString(36)}-${++counter}`;
  const fallback = pngBase64
    ? `<img src="data:image/png;base64,${pngBase64}" width="${width}" height="${height}">`
    : "";
  const figure = scriptSafe(JSON.stringify({ data: fig.data, layout: fig.layout }));
  return (
    `<div id="${id}" style="width:${width}px;height:${height}px">${fallback}</div>\n` +
    `<script type="text/javascript">(function () {\n` +
    // Classic Notebook runs an output's scripts before it attaches the output to the page: look the div up later.
    `  var fig = ${figure}, tries = 0;\n` +
    `  function draw(Plotly) {\n` +
    `    var el = document.getElementById("${id}");\n` +
    `    if (!el) return void (++tries < 200 && setTimeout(function () { draw(Plotly); }, 50));\n` +
    `    if (!Plotly) return;\n` +
    `    window.Plotly = Plotly;\n` +
    `    el.innerHTML = "";\n` +
    `    Plotly.newPlot(el, fig.data, fig.layout, { displaylogo: false });\n` +
    `  }\n` +
    `  if (window.Plotly) return draw(window.Plotly);\n` +
    `  var url = ((document.body && document.body.getAttribute("data-base-url")) || "/") + "${PLOTLY_NBEXTENSION_PATH}";\n` +
    `  if (typeof window.requirejs === "function") {\n` +
    `    window.requirejs.config({ paths: { "moelab-plotly": url } });\n` +
    // plotly.js 3+ defines window.Plotly and no AMD module: the module value is undefined.
    `    window.requirejs(["moelab-plotly"], function (Plotly) { draw(Plotly || window.Plotly); }, function () {});\n` +
    `    return;\n` +
    `  }\n` +
    `  var loading = document.getElementById("moelab-plotly-js");\n` +
    `  if (!loading) {\n` +
    `    loading = document.createElement("script");\n` +
    `    loading.id = "moelab-plotly-js";\n` +
    `    loading.src = url + ".js";\n` +
    `    document.head.appendChild(loading);\n` +
    `  }\n` +
    `  loading.addEventListener("load", function () { draw(window.Plotly); });\n` +
    `})();</script>`
  );
}
