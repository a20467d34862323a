// Progress bars: a display updated in place in notebooks, a terminal bar (or periodic lines) on the command line.
// Reference: tqdm's status line (https://github.com/tqdm/tqdm#usage): "label 45% |███░░| 45/100 [00:03<00:04, 12.3 it/s]".

import { cancelled } from "./cancel";
import { DisplayBundle, KernelHost, kernelHost } from "./display";
import { escapeHtml } from "./html-escape";
import { compact } from "./viz/format";

/** Drawing settings. */
export interface ProgressConfig {
  /** Least ms between two redraws (notebook updates, terminal redraws); the final state is always drawn. */
  throttleMs: number;
  /** Characters in the text bar. */
  barWidth: number;
  /** Without a TTY: print a line whenever progress passes another multiple of this many percent. */
  linePercentStep: number;
  /** Without a TTY: also print a line when this many ms passed since the last one. */
  lineIntervalMs: number;
}

/** Defaults: redraw at most every 150 ms, a 24-character bar, plain lines every 10% or 10 s. */
export const DEFAULT_PROGRESS_CONFIG: Readonly<ProgressConfig> = Object.freeze({
  throttleMs: 150,
  barWidth: 24,
  linePercentStep: 10,
  lineIntervalMs: 10_000,
});

/** Where a command-line bar writes (process.stderr by default). */
export interface ProgressStream {
  write(text: string): unknown;
  /** true: redraw one line with \r; otherwise print whole lines now and then. */
  isTTY?: boolean;
}

/** Options of `progress` (any config field may be overridden per bar). */
export interface ProgressOptions extends Partial<ProgressConfig> {
  /** Text before the bar (default: none). */
  label?: string;
  /** Name of one step in the rate (default: "it"). */
  unit?: string;
  /** Terminal stream used outside a kernel (default: process.stderr). */
  stream?: ProgressStream;
  /** Milliseconds clock (default: performance.now); tests inject a fake one. */
  clock?: () => number;
}

/** A running progress bar. */
export interface ProgressBar {
  /** Steps expected, or null when unknown. */
  readonly total: number | null;
  /** Steps done so far. */
  readonly count: number;
  /** Latest metrics shown after the bar. */
  readonly metrics: Readonly<Record<string, number>>;
  /** Advances by `n` steps (default 1) and merges `metrics` into the shown ones. */
  tick(n?: number, metrics?: Record<string, number>): void;
  /** Sets the number of steps done and merges `metrics`. */
  set(done: number, metrics?: Record<string, number>): void;
  /** Finishes the bar: draws the final state (once; later calls do nothing), marked "interrupted" when the work was cancelled. */
  done(): void;
}

function clockTime(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

function checkCount(what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new Error(`progress: ${what} must be a finite number >= 0, got ${String(v)}`);
  }
  return v;
}

let barCounter = 0;

class Bar implements ProgressBar {
  readonly total: number | null;
  count = 0;
  metrics: Record<string, number> = {};
  private readonly config: ProgressConfig;
  private readonly label: string;
  private readonly unit: string;
  private readonly clock: () => number;
  private readonly start: number;
  private readonly host: KernelHost | null;
  private readonly stream: ProgressStream;
  private readonly displayId: string;
  private finished = false;
  /** done() ran while the work was cancelled (Kernel › Interrupt): the final state says so. */
  private interrupted = false;
  private lastDraw = -Infinity;
  private lastLineStep = 0;
  /** Without a TTY: something changed since the last printed line. */
  private unprinted = true;

  constructor(total: number | null, opts: ProgressOptions) {
    this.total = total === null ? null : checkCount("total", total);
    this.config = { ...DEFAULT_PROGRESS_CONFIG };
    for (const key of Object.keys(DEFAULT_PROGRESS_CONFIG) as (keyof ProgressConfig)[]) {
      const v = opts[key];
      if (v !== undefined) this.config[key] = checkCount(`options.${key}`, v);
    }
    if (!(Number.isInteger(this.config.barWidth) && this.config.barWidth >= 1)) {
      throw new Error(`progress: options.barWidth must be an integer >= 1, got ${this.config.barWidth}`);
    }
    if (!(this.config.linePercentStep > 0)) {
      throw new Error(`progress: options.linePercentStep must be > 0, got ${this.config.linePercentStep}`);
    }
    this.label = opts.label ?? "";
    this.unit = opts.unit ?? "it";
    this.clock = opts.clock ?? (() => performance.now());
    this.start = this.clock();
    this.host = kernelHost();
    this.stream = opts.stream ?? process.stderr;
    this.displayId = `moelab-progress-${Date.now().toString(36)}-${++barCounter}`;
    if (this.host) {
      this.host.display(this.bundle(), { displayId: this.displayId });
      this.lastDraw = this.start;
    }
  }

  tick(n = 1, metrics?: Record<string, number>): void {
    this.set(this.count + checkCount("tick(n)", n), metrics);
  }

  set(done: number, metrics?: Record<string, number>): void {
    if (this.finished) throw new Error("progress: the bar is already done()");
    this.count = checkCount("set(done)", done);
    if (metrics) {
      for (const [k, v] of Object.entries(metrics)) {
        if (typeof v !== "number") throw new Error(`progress: metric ${k} must be a number, got ${typeof v}`);
        this.metrics[k] = v;
      }
    }
    this.unprinted = true;
    this.draw(false);
  }

  done(): void {
    if (this.finished) return;
    this.finished = true;
    this.interrupted = cancelled();
    if (this.interrupted) this.unprinted = true; // a line that says so, even without progress since the last one
    this.draw(true);
  }

  /** Fraction done in [0, 1], or null when the total is unknown. */
  private fraction(): number | null {
    if (this.total === null) return null;
    if (this.total === 0) return this.finished ? 1 : 0;
    return Math.min(1, this.count / this.total);
  }

  /** "45/100 [00:03<00:04, 12.3 it/s] loss=0.1": everything after the bar. */
  private status(now: number): string {
    const elapsed = now - this.start;
    const rate = elapsed > 0 ? (this.count * 1000) / elapsed : 0;
    const speed =
      rate === 0
        ? `? ${this.unit}/s`
        : rate >= 1
          ? `${compact(rate)} ${this.unit}/s`
          : `${compact(1 / rate)} s/${this.unit}`;
    let times = clockTime(elapsed);
    if (this.total !== null)
      times += "<" + (rate > 0 ? clockTime(((this.total - Math.min(this.count, this.total)) / rate) * 1000) : "?");
    const counts =
      this.total === null ? `${compact(this.count)} ${this.unit}` : `${compact(this.count)}/${compact(this.total)}`;
    const metrics = Object.entries(this.metrics).map(([k, v]) => `${k}=${compact(v)}`);
    return [counts, `[${times}, ${speed}]`, ...metrics, ...(this.interrupted ? ["interrupted"] : [])].join(" ");
  }

  /** The full text line: label, percent, bar, status. */
  private text(now: number): string {
    const f = this.fraction();
    const parts = this.label ? [this.label] : [];
    if (f !== null) {
      const filled = Math.floor(f * this.config.barWidth);
      parts.push(
        `${String(Math.floor(f * 100)).padStart(3)}%`,
        `|${"█".repeat(filled)}${"░".repeat(this.config.barWidth - filled)}|`,
      );
    }
    parts.push(this.status(now));
    return parts.join(" ");
  }

  private bundle(now = this.clock()): DisplayBundle {
    const f = this.fraction();
    const bar = f === null ? "<progress" : `<progress max="1" value="${f}"`;
    const html =
      `<div style="font-family:monospace;white-space:pre">` +
      (this.label ? `${escapeHtml(this.label)} ` : "") +
      `${bar} style="width:20em;vertical-align:middle"></progress> ` +
      (f === null ? "" : `${Math.floor(f * 100)}% `) +
      `${escapeHtml(this.status(now))}</div>`;
    return { data: { "text/plain": this.text(now), "text/html": html } };
  }

  private draw(final: boolean): void {
    const now = this.clock();
    if (this.host) {
      if (!final && now - this.lastDraw < this.config.throttleMs) return;
      this.lastDraw = now;
      this.host.display(this.bundle(now), { displayId: this.displayId, update: true });
      return;
    }
    if (this.stream.isTTY) {
      if (!final && now - this.lastDraw < this.config.throttleMs) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.text(now)}\x1b[K${final ? "\n" : ""}`);
      return;
    }
    const f = this.fraction();
    const step = f === null ? 0 : Math.floor((f * 100) / this.config.linePercentStep);
    const due =
      final || step > this.lastLineStep || now - Math.max(this.lastDraw, this.start) >= this.config.lineIntervalMs;
    if (!due || !this.unprinted) return;
    this.lastLineStep = step;
    this.lastDraw = now;
    this.unprinted = false;
    this.stream.write(this.text(now) + "\n");
  }
}

/** A progress bar over `total` steps (null: unknown). In a kernel it is one display updated in place. */
export function progress(total: number | null, opts: ProgressOptions = {}): ProgressBar {
  return new Bar(total, opts);
}

/** Options of `trackProgress`: those of `progress` plus the total when the iterable has no length or size. */
export interface TrackProgressOptions extends ProgressOptions {
  /** Number of items (default: the iterable's `length` or `size`, else unknown). */
  total?: number;
}

/** Yields every item of `items`, ticking a progress bar after each; the bar finishes when iteration ends. */
export function* trackProgress<T>(items: Iterable<T>, opts: TrackProgressOptions = {}): Generator<T, void, undefined> {
  const sized = items as { length?: unknown; size?: unknown };
  const total =
    opts.total ??
    (typeof sized.length === "number" ? sized.length : typeof sized.size === "number" ? sized.size : null);
  const bar = progress(total, opts);
  try {
    for (const item of items) {
      yield item;
      bar.tick();
    }
  } finally {
    bar.done();
  }
}
