// The live-notebook HTML of figures, loaded into headless chromium: small outputs that load plotly.js once from the
// Notebook server's nbextension path (here served by request interception), the PNG kept where plotly cannot load.
// test/viz/live-notebook.test.ts does the same in a real classic Notebook session.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, launch } from "puppeteer-core";
import { bar, line } from "../../lib/viz";
import { PLOTLY_NBEXTENSION_PATH, figureHtml } from "../../lib/viz/figure-html";
import { plotlySource } from "../../lib/viz/plotlyjs";
import { CHROMIUM_FLAGS } from "../../lib/viz/renderer";

const hasChromium = existsSync("/usr/bin/chromium");
if (!hasChromium) console.warn("test/viz/figure-html.test.ts: /usr/bin/chromium is absent, HTML drawing test skipped");

// A 1×1 transparent PNG stands in for the rendered image.
const PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

const first = figureHtml(line({ name: "a", y: [1, 3, 2] }), PNG_1X1);
const second = figureHtml(bar(["x", "y"], [1, 2], { width: 400, height: 300 }), PNG_1X1);
const idOf = (html: string) => /id="(moelab-figure-[^"]+)"/.exec(html)![1];

describe("figure HTML", () => {
  it("never inlines plotly.js: every output is a few KB and names the nbextension path", () => {
    for (const html of [first, second]) {
      expect(html.length).toBeLessThan(10_000);
      expect(html).toContain(PLOTLY_NBEXTENSION_PATH);
    }
    expect(idOf(first)).not.toBe(idOf(second));
    expect(second).toContain('style="width:400px;height:300px"');
  });
});

describe.skipIf(!hasChromium)("figure HTML in a page", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      pipe: true,
      args: [...CHROMIUM_FLAGS],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("draws both figures with plotly.js loaded once from the server, replacing the PNG fallback", async () => {
    const page = await browser.newPage();
    const loads: string[] = [];
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname === "/")
        void request.respond({ contentType: "text/html", body: `<!doctype html><body>${first}\n${second}</body>` });
      else if (url.pathname === `/${PLOTLY_NBEXTENSION_PATH}.js`) {
        loads.push(url.pathname);
        void request.respond({ contentType: "application/javascript", body: plotlySource() });
      } else void request.respond({ status: 404, body: "" });
    });
    await page.goto("http://notebook.test/");
    for (const id of [idOf(first), idOf(second)]) {
      await page.waitForSelector(`#${id} .main-svg`, { timeout: 30_000 });
      expect(await page.$$eval(`#${id} img`, (imgs) => imgs.length)).toBe(0);
    }
    expect(loads).toEqual([`/${PLOTLY_NBEXTENSION_PATH}.js`]);
    expect(await page.$$eval(`#${idOf(first)} .scatterlayer .trace`, (t) => t.length)).toBe(1);
    expect(await page.$$eval(`#${idOf(second)} .barlayer .point`, (p) => p.length)).toBe(2);
    await page.close();
  });

  it("keeps the PNG when plotly.js cannot be loaded (a server without the nbextension, scripts stripped)", async () => {
    const page = await browser.newPage();
    await page.setContent(`<!doctype html><body>${second}</body>`);
    await new Promise((r) => setTimeout(r, 500));
    const id = idOf(second);
    expect(await page.$$eval(`#${id} img`, (imgs) => imgs.length)).toBe(1);
    expect(await page.$$eval(`#${id} .main-svg`, (s) => s.length)).toBe(0);
    await page.close();
  });
});
