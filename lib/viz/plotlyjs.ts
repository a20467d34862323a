// The plotly.js browser bundle (plotly.js-dist-min), read once for the PNG renderer and for notebook HTML.
// Reference: https://github.com/plotly/plotly.js/tree/master/dist (plotly.min.js defines window.Plotly).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

/** Package file that holds the minified browser bundle. */
export const PLOTLY_BUNDLE = "plotly.js-dist-min/plotly.min.js";

let source: string | null = null;

/** The source text of plotly.min.js (read on first use, then cached). */
export function plotlySource(): string {
  if (source === null) {
    // CommonJS has `require`; under Deno or ESM resolve from the working directory's node_modules.
    const resolve =
      typeof require === "function" ? require.resolve : createRequire(join(process.cwd(), "package.json")).resolve;
    source = readFileSync(resolve(PLOTLY_BUNDLE), "utf8");
  }
  return source;
}

/** Makes text safe inside an inline <script> element (no premature `</script>`, no HTML comment openers). */
export function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}
