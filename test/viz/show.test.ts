// show(): one display bundle per figure through a fake kernel host, PNGs from one reused chromium, cleanup.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Browser } from "puppeteer-core";
import { DisplayBundle, DisplayOptions, KernelHost, setKernelHost } from "../../lib/display";
import { PLOTLY_MIME, bar, closeRenderer, configureRenderer, heatmap, line, renderPng, show } from "../../lib/viz";

// Count launches: the renderer must start one browser for all the figures of this file.
vi.mock("puppeteer-core", async (importOriginal) => {
  const real = await importOriginal<typeof import("puppeteer-core")>();
  return { ...real, launch: vi.fn(real.launch) };
});
const puppeteer = await import("puppeteer-core");
const launch = vi.mocked(puppeteer.launch);

const hasChromium = existsSync("/usr/bin/chromium");
if (!hasChromium) console.warn("test/viz/show.test.ts: /usr/bin/chromium is absent, PNG tests skipped");

interface FakeHost extends KernelHost {
  displays: { bundle: DisplayBundle; options?: DisplayOptions }[];
  tracked: Promise<unknown>[];
}

function fakeHost(live: boolean): FakeHost {
  const host: FakeHost = {
    live,
    displays: [],
    tracked: [],
    display: (bundle, options) => host.displays.push({ bundle, options }),
    track: (work) => {
      host.tracked.push(work);
      work.catch(() => undefined);
    },
  };
  return host;
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(new TextDecoder().decode(bytes.subarray(12, 16))).toBe("IHDR");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Processes whose command line mentions `needle` (Linux /proc). */
function processesWith(needle: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const lossFigure = line([{ name: "train", y: [2.3, 1.1, 0.7] }], { title: "Loss", xTitle: "step" });
const smallFigure = bar(["a", "b"], [1, 2], { width: 400, height: 300 });

beforeAll(() => {
  delete process.env.MOELAB_CHROMIUM;
  // No idle close between the tests of this file (a loaded machine may pause); the last test shortens it.
  configureRenderer({ idleCloseMs: 120_000 });
});
afterEach(() => setKernelHost(null));
afterAll(async () => {
  await closeRenderer();
});

describe("show outside a kernel", () => {
  it("prints the summary to stdout and starts no browser", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      await show(lossFigure);
      expect(write).toHaveBeenCalledWith(lossFigure.summary + "\n");
    } finally {
      write.mockRestore();
    }
    expect(launch).not.toHaveBeenCalled();
  });
});

describe.skipIf(!hasChromium)("show in a kernel with chromium", () => {
  it("emits one bundle with plotly JSON, a PNG of the figure size and the summary; no HTML when not live", async () => {
    const host = fakeHost(false);
    setKernelHost(host);
    const shown = show(lossFigure);
    expect(host.tracked).toEqual([shown]);
    await shown;
    expect(host.displays).toHaveLength(1);
    const { data } = host.displays[0].bundle;
    expect(Object.keys(data).sort()).toEqual([PLOTLY_MIME, "image/png", "text/plain"].sort());
    expect(data[PLOTLY_MIME]).toEqual({ data: lossFigure.data, layout: lossFigure.layout });
    expect(data["text/plain"]).toBe(lossFigure.summary);
    const png = Uint8Array.from(atob(data["image/png"] as string), (c) => c.charCodeAt(0));
    expect(pngSize(png)).toEqual({ width: 720, height: 420 });
  });

  it("adds HTML in a live notebook that loads plotly.js from the server instead of inlining it", async () => {
    const host = fakeHost(true);
    setKernelHost(host);
    await show(smallFigure);
    await show(lossFigure);
    expect(host.displays).toHaveLength(2);
    const [first, second] = host.displays.map((d) => d.bundle.data);
    for (const data of [first, second]) {
      expect(Object.keys(data).sort()).toEqual([PLOTLY_MIME, "image/png", "text/html", "text/plain"].sort());
    }
    for (const data of [first, second]) {
      const html = data["text/html"] as string;
      expect(html).not.toContain("plotly.js v"); // the bundle's banner: never inlined
      expect(html.length).toBeLessThan(10_000 + (data["image/png"] as string).length);
      expect(html).toContain("nbextensions/moelab/plotly.min");
      expect(html).toContain("Plotly.newPlot");
    }
  });

  it("reuses one browser for every figure, and renderPng gives the requested size", async () => {
    const png = await renderPng(smallFigure);
    expect(png).not.toBeNull();
    expect(pngSize(png!)).toEqual({ width: 400, height: 300 });
    expect(launch).toHaveBeenCalledTimes(1);
  });

  it("renders a heatmap without row or column labels (categorical axes get index labels)", async () => {
    const png = await renderPng(
      heatmap(
        [
          [1, 2],
          [3, 4],
        ],
        { width: 300, height: 200 },
      ),
    );
    expect(png).not.toBeNull();
    expect(pngSize(png!)).toEqual({ width: 300, height: 200 });
  });

  it("renders queued figures one at a time, each with its own size", async () => {
    const pngs = await Promise.all([renderPng(lossFigure), renderPng(smallFigure), renderPng(lossFigure)]);
    expect(pngs.map((p) => pngSize(p!))).toEqual([
      { width: 720, height: 420 },
      { width: 400, height: 300 },
      { width: 720, height: 420 },
    ]);
    expect(launch).toHaveBeenCalledTimes(1);
  });

  it("closes the browser after the idle period and leaves no chromium process", async () => {
    const browser: Browser = await launch.mock.results[0].value;
    const profile = browser.process()!.spawnargs.find((a) => a.startsWith("--user-data-dir="))!;
    expect(processesWith(profile).length).toBeGreaterThan(0);
    configureRenderer({ idleCloseMs: 50 });
    await renderPng(smallFigure);
    await vi.waitFor(() => expect(browser.connected).toBe(false), { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => expect(processesWith(profile)).toEqual([]), { timeout: 10_000, interval: 100 });
    expect(launch).toHaveBeenCalledTimes(1);
  });
});
