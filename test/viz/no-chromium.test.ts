// show() without a usable chromium: JSON + text bundles and one notice per process (fresh module per case).
import { afterEach, describe, expect, it, vi } from "vitest";
import { DisplayBundle, setKernelHost } from "../../lib/display";
import { bar, line } from "../../lib/viz";

const NOTICE = "moelab: figures get no PNG image";

/** A fresh copy of the viz modules (renderer state included) with MOELAB_CHROMIUM set to `path`. */
async function freshViz(path: string) {
  vi.resetModules();
  process.env.MOELAB_CHROMIUM = path;
  return import("../../lib/viz");
}

/** Shows two figures through a fake live host; returns the bundles and the notices written to stderr. */
async function showTwo(viz: typeof import("../../lib/viz")) {
  const bundles: DisplayBundle[] = [];
  setKernelHost({ live: true, display: (b) => bundles.push(b), track: () => undefined });
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    await viz.show(line({ name: "a", y: [1, 2] }));
    await viz.show(bar(["x"], [3]));
    const notices = stderr.mock.calls.map((c) => String(c[0])).filter((t) => t.includes(NOTICE));
    return { bundles, notices };
  } finally {
    stderr.mockRestore();
  }
}

afterEach(() => {
  setKernelHost(null);
  delete process.env.MOELAB_CHROMIUM;
});

describe("without chromium", () => {
  it("a missing MOELAB_CHROMIUM gives JSON + text (+ HTML when live) and exactly one notice over two shows", async () => {
    const viz = await freshViz("/nonexistent/chromium");
    const { bundles, notices } = await showTwo(viz);
    expect(bundles).toHaveLength(2);
    for (const b of bundles)
      expect(Object.keys(b.data).sort()).toEqual([viz.PLOTLY_MIME, "text/html", "text/plain"].sort());
    // Without a PNG the HTML has no <img> fallback.
    expect(bundles[0].data["text/html"]).not.toContain("<img");
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("MOELAB_CHROMIUM=/nonexistent/chromium does not exist");
    expect(notices[0]).toContain("apt-get install chromium");
    expect(await viz.renderPng(bar(["x"], [1]))).toBeNull();
  });

  it("a chromium that fails to start is reported once, and renderPng gives null", async () => {
    const viz = await freshViz("/bin/false");
    const { bundles, notices } = await showTwo(viz);
    for (const b of bundles) expect(b.data["image/png"]).toBeUndefined();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("chromium failed to start");
    expect(await viz.renderPng(bar(["x"], [1]))).toBeNull();
  });

  it("configureRenderer rejects settings that are not positive numbers", async () => {
    const viz = await freshViz("/nonexistent/chromium");
    expect(() => viz.configureRenderer({ idleCloseMs: 0 })).toThrow(/idleCloseMs must be a positive number, got 0/);
    expect(viz.configureRenderer({ scale: 2 })).toEqual({ ...viz.DEFAULT_RENDERER_CONFIG, scale: 2 });
  });
});
