// PNG rendering of figures: one headless Debian chromium (puppeteer-core 24) reused, renders queued one at a time.
// Reference: https://pptr.dev/api/puppeteer.puppeteernode.launch and Plotly.toImage (plotly.js static image export).

import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { DEFAULT_STYLE, Figure } from "./figure";
import { plotlySource } from "./plotlyjs";

/** Renderer settings. */
export interface RendererConfig {
  /** Close the browser after this many ms without a render, so command-line processes can exit. */
  idleCloseMs: number;
  /** Give up starting chromium after this many ms. */
  launchTimeoutMs: number;
  /** Give up one render after this many ms (the browser is then restarted for the next figure). */
  renderTimeoutMs: number;
  /** Device pixels per CSS pixel of the PNG (1: the PNG is exactly layout.width × layout.height). */
  scale: number;
}

/** Defaults: idle close after 5 s, 30 s launch and render limits, scale 1. */
export const DEFAULT_RENDERER_CONFIG: Readonly<RendererConfig> = Object.freeze({
  idleCloseMs: 5000,
  launchTimeoutMs: 30_000,
  renderTimeoutMs: 30_000,
  scale: 1,
});

/** Environment variable naming the chromium executable (overrides the default locations). */
export const CHROMIUM_ENV = "MOELAB_CHROMIUM";
/** Where chromium is looked for when the environment variable is unset; then `chromium` on PATH. */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";
/** Flags for a quiet headless chromium that works as root and never reaches the network by itself. */
export const CHROMIUM_FLAGS: readonly string[] = Object.freeze([
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
]);

let config: RendererConfig = { ...DEFAULT_RENDERER_CONFIG };

/** Changes renderer settings (merged over the current ones); returns the settings now in force. */
export function configureRenderer(patch: Partial<RendererConfig>): RendererConfig {
  const next = { ...config, ...patch };
  for (const key of Object.keys(DEFAULT_RENDERER_CONFIG) as (keyof RendererConfig)[]) {
    const v = next[key];
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) {
      throw new Error(`configureRenderer: ${key} must be a positive number, got ${String(v)}`);
    }
  }
  config = next;
  return { ...config };
}

/** Where chromium is: `MOELAB_CHROMIUM`, else /usr/bin/chromium, else `chromium` on PATH; or why it is not found. */
export function findChromium(): { path: string } | { reason: string } {
  const fromEnv = process.env[CHROMIUM_ENV];
  if (fromEnv) return existsSync(fromEnv) ? { path: fromEnv } : { reason: `${CHROMIUM_ENV}=${fromEnv} does not exist` };
  if (existsSync(DEFAULT_CHROMIUM)) return { path: DEFAULT_CHROMIUM };
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "chromium");
    if (dir && existsSync(candidate)) return { path: candidate };
  }
  return { reason: `chromium was not found (${CHROMIUM_ENV} unset, no ${DEFAULT_CHROMIUM}, none on PATH)` };
}

interface Session {
  browser: Browser;
  page: Page;
}

let session: Promise<Session> | null = null;
let unavailable: string | null = null;
let queue: Promise<unknown> = Promise.resolve();
let pending = 0;
let idleTimer: ReturnType<typeof setTimeout> | null = null;

function notice(reason: string): void {
  process.stderr.write(
    `moelab: figures get no PNG image (plotly JSON and text only): ${reason}. ` +
      `Install chromium with \`apt-get install chromium\` (or run \`bash scripts/setup.sh\`), ` +
      `or set ${CHROMIUM_ENV} to a chromium executable.\n`,
  );
}

class RenderTimeout extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RenderTimeout(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

async function launchSession(executablePath: string): Promise<Session> {
  const { launch } = await import("puppeteer-core");
  const browser = await launch({
    executablePath,
    headless: true,
    pipe: true,
    args: [...CHROMIUM_FLAGS],
    timeout: config.launchTimeoutMs,
  });
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>");
    await page.addScriptTag({ content: plotlySource() });
    return { browser, page };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

/** The running browser, launching it on first use; null (after one notice) when chromium cannot run. */
async function currentSession(): Promise<Session | null> {
  if (unavailable !== null) return null;
  if (session === null) {
    const found = findChromium();
    if ("reason" in found) {
      unavailable = found.reason;
      notice(unavailable);
      return null;
    }
    const starting = launchSession(found.path);
    session = starting;
    starting.then(
      ({ browser }) =>
        browser.on("disconnected", () => {
          if (session === starting) session = null;
        }),
      () => undefined,
    );
  }
  try {
    return await session;
  } catch (e) {
    session = null;
    unavailable = `chromium failed to start: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
    notice(unavailable);
    return null;
  }
}

async function renderNow(fig: Pick<Figure, "data" | "layout">): Promise<string | null> {
  const s = await currentSession();
  if (!s) return null;
  const width = fig.layout.width ?? DEFAULT_STYLE.width;
  const height = fig.layout.height ?? DEFAULT_STYLE.height;
  const draw = s.page.evaluate(
    (data, layout, opts) =>
      (window as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly.toImage(
        { data, layout },
        opts,
      ),
    fig.data as unknown[],
    fig.layout as Record<string, unknown>,
    { format: "png", width, height, scale: config.scale },
  );
  let url: string;
  try {
    url = await withTimeout(draw, config.renderTimeoutMs, "rendering a figure");
  } catch (e) {
    if (e instanceof RenderTimeout) await closeRenderer();
    throw new Error(`renderPng: chromium could not render the figure: ${e instanceof Error ? e.message : String(e)}`);
  }
  const prefix = "data:image/png;base64,";
  if (!url.startsWith(prefix))
    throw new Error(`renderPng: Plotly.toImage returned ${url.slice(0, 40)}…, not a PNG data URL`);
  return url.slice(prefix.length);
}

/** Renders the figure to PNG as base64 (null when chromium is unavailable). Renders run one at a time. */
export function renderPngBase64(fig: Pick<Figure, "data" | "layout">): Promise<string | null> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  pending++;
  const job = queue.then(() => renderNow(fig));
  queue = job.then(
    () => undefined,
    () => undefined,
  );
  return job.finally(() => {
    if (--pending === 0 && session) {
      idleTimer = setTimeout(() => void closeRenderer(), config.idleCloseMs);
      (idleTimer as { unref?: () => void }).unref?.();
    }
  });
}

/** Renders the figure to PNG bytes (null when chromium is unavailable). */
export async function renderPng(fig: Pick<Figure, "data" | "layout">): Promise<Uint8Array | null> {
  const b64 = await renderPngBase64(fig);
  if (b64 === null) return null;
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Closes the browser now (a later render starts a new one). Safe to call at any time. */
export async function closeRenderer(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  const current = session;
  session = null;
  if (!current) return;
  const started = await current.catch(() => null);
  if (started) await started.browser.close();
}
