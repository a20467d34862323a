// Progress bars: in-place notebook updates (throttled, final always drawn), terminal redraws, plain log lines.
import { afterEach, describe, expect, it } from "vitest";
import { DisplayBundle, DisplayOptions, setKernelHost } from "../lib/display";
import { DEFAULT_PROGRESS_CONFIG, progress, trackProgress } from "../lib/progress";

/** A settable millisecond clock. */
function fakeClock(start = 0) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

/** A stream that records what is written. */
function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, write: (t: string) => writes.push(t) };
}

function captureHost() {
  const calls: { bundle: DisplayBundle; options?: DisplayOptions }[] = [];
  setKernelHost({ live: true, display: (bundle, options) => calls.push({ bundle, options }), track: () => undefined });
  return calls;
}

afterEach(() => setKernelHost(null));

describe("progress in a kernel", () => {
  it("shows one display and updates it in place, throttled, always drawing the final state", () => {
    const calls = captureHost();
    const clock = fakeClock(1000);
    const bar = progress(10, { label: "train", clock: clock.read });
    expect(calls).toHaveLength(1);
    const id = calls[0].options!.displayId!;
    expect(id).toMatch(/^moelab-progress-/);
    expect(calls[0].options!.update).toBeFalsy();

    clock.now = 1050;
    bar.tick(); // 50 ms after the first draw: throttled
    expect(calls).toHaveLength(1);
    clock.now = 1000 + DEFAULT_PROGRESS_CONFIG.throttleMs;
    bar.tick(2, { loss: 0.5 });
    expect(calls).toHaveLength(2);
    expect(calls[1].options).toEqual({ displayId: id, update: true });
    clock.now += 10;
    bar.set(10); // throttled even though complete: only done() is final
    expect(calls).toHaveLength(2);
    bar.done();
    bar.done(); // idempotent
    expect(calls).toHaveLength(3);
    const last = calls[2];
    expect(last.options).toEqual({ displayId: id, update: true });
    expect(last.bundle.data["text/plain"]).toMatch(
      /^train 100% \|█{24}\| 10\/10 \[00:00<00:00, 62\.5 it\/s\] loss=0\.5$/,
    );
    const html = last.bundle.data["text/html"] as string;
    expect(html).toContain('<progress max="1" value="1"');
    expect(html).toContain("100% 10/10");
  });

  it("escapes the label in HTML and keeps bars apart with their own display ids", () => {
    const calls = captureHost();
    progress(1, { label: "<b>x</b>" });
    progress(1);
    expect(calls[0].bundle.data["text/html"]).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(calls[0].options!.displayId).not.toBe(calls[1].options!.displayId);
  });
});

describe("progress on a terminal", () => {
  it("redraws one line with \\r on a TTY, throttled, and ends with a newline", () => {
    const clock = fakeClock();
    const out = fakeStream(true);
    const bar = progress(4, { label: "eval", barWidth: 8, clock: clock.read, stream: out });
    expect(out.writes).toEqual([]);
    clock.now = 1000;
    bar.tick(1, { loss: 0.25 });
    expect(out.writes).toEqual(["\reval  25% |██░░░░░░| 1/4 [00:01<00:03, 1 it/s] loss=0.25\x1b[K"]);
    clock.now = 1100;
    bar.tick(); // within 150 ms of the last redraw
    expect(out.writes).toHaveLength(1);
    clock.now = 2000;
    bar.tick();
    bar.done();
    expect(out.writes).toEqual([
      "\reval  25% |██░░░░░░| 1/4 [00:01<00:03, 1 it/s] loss=0.25\x1b[K",
      "\reval  75% |██████░░| 3/4 [00:02<00:01, 1.5 it/s] loss=0.25\x1b[K",
      "\reval  75% |██████░░| 3/4 [00:02<00:01, 1.5 it/s] loss=0.25\x1b[K\n",
    ]);
  });

  it("prints plain lines every 10% without a TTY, and once more only if something changed", () => {
    const clock = fakeClock();
    const out = fakeStream(false);
    const bar = progress(100, { clock: clock.read, stream: out, barWidth: 10 });
    for (let i = 0; i < 100; i++) {
      clock.now += 10;
      bar.tick();
    }
    bar.done();
    expect(out.writes).toHaveLength(10);
    expect(out.writes[0]).toBe(" 10% |█░░░░░░░░░| 10/100 [00:00<00:01, 100 it/s]\n");
    expect(out.writes[9]).toBe("100% |██████████| 100/100 [00:01<00:00, 100 it/s]\n");
  });

  it("prints a line after lineIntervalMs even without a new percentage step", () => {
    const clock = fakeClock();
    const out = fakeStream(false);
    const bar = progress(1000, { clock: clock.read, stream: out, lineIntervalMs: 5000 });
    clock.now = 4999;
    bar.tick();
    expect(out.writes).toHaveLength(0);
    clock.now = 5000;
    bar.tick();
    expect(out.writes).toHaveLength(1);
    // 2 steps in 5 s: 0.4 it/s, shown as 2.5 s/it; 998 steps left take 2495 s.
    expect(out.writes[0]).toBe("  0% |░░░░░░░░░░░░░░░░░░░░░░░░| 2/1000 [00:05<41:35, 2.5 s/it]\n");
  });

  it("shows count, elapsed and rate when the total is unknown, and hours in long runs", () => {
    const clock = fakeClock();
    const out = fakeStream(false);
    const bar = progress(null, { clock: clock.read, stream: out, unit: "batch" });
    clock.now = 3_726_000;
    bar.set(7452);
    bar.done();
    expect(out.writes).toEqual(["7452 batch [1:02:06, 2 batch/s]\n"]);
  });

  it("rejects bad arguments with messages naming them", () => {
    const out = fakeStream(false);
    expect(() => progress(NaN)).toThrow(/total must be a finite number >= 0, got NaN/);
    expect(() => progress(3, { barWidth: 0, stream: out })).toThrow(/barWidth must be an integer >= 1/);
    const bar = progress(3, { stream: out });
    expect(() => bar.tick(-1)).toThrow(/tick\(n\) must be a finite number >= 0/);
    expect(() => bar.tick(1, { loss: "x" as never })).toThrow(/metric loss must be a number/);
    bar.done();
    expect(() => bar.tick()).toThrow(/already done/);
  });
});

describe("trackProgress", () => {
  it("yields every item, takes the total from length or size, and finishes the bar", () => {
    const out = fakeStream(false);
    expect([...trackProgress([1, 2, 3], { stream: out })]).toEqual([1, 2, 3]);
    expect(out.writes.at(-1)).toMatch(/^100% \|█+\| 3\/3 /);
    out.writes.length = 0;
    expect([...trackProgress(new Set(["a", "b"]), { stream: out, label: "set" })]).toEqual(["a", "b"]);
    expect(out.writes.at(-1)).toMatch(/^set 100% .* 2\/2 /);
  });

  it("counts items whose processing finished when the loop breaks early, and handles unknown totals", () => {
    const out = fakeStream(false);
    for (const x of trackProgress([1, 2, 3, 4], { stream: out })) if (x === 3) break;
    expect(out.writes.at(-1)).toMatch(/ 2\/4 /);
    out.writes.length = 0;
    function* gen() {
      yield 1;
      yield 2;
    }
    expect([...trackProgress(gen(), { stream: out })]).toEqual([1, 2]);
    expect(out.writes).toHaveLength(1);
    expect(out.writes[0]).toMatch(/^2 it \[/);
  });
});
