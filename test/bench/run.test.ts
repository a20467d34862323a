// The benchmark loop with stand-in engines: statuses (ok, skipped, unavailable, unsupported, failed), skipping by
// estimated call time, interleaved order; and the timing helpers that cut slow engines' repeats.
import { describe, expect, it } from "vitest";
import type { Engine, EngineName, RepeatPlan } from "../../lib/bench/engine";
import { openEngines, runBench, skipReason } from "../../lib/bench/run";
import { fitRepeats, timeWithinBudget } from "../../lib/bench/timing";
import { benchCases } from "../../lib/bench/workloads";

const plan = { warmup: 1, warmupMs: 0, repeats: 3, budgetMs: 1000, maxCallMs: 50 };

/** An engine that "runs" at `gflops`, records its calls, and fails or refuses where told. */
function fake(name: EngineName, gflops: number, opts: { open?: string; fail?: string; unsupported?: string } = {}) {
  const calls: string[] = [];
  const engine: Engine = {
    name,
    open: async () => opts.open ?? null,
    info: () => ({ version: "1" }),
    unsupported: (c) => (c.id === opts.unsupported ? "GEMM only" : null),
    measure: async (c, p: RepeatPlan) => {
      calls.push(c.id);
      if (c.id === opts.fail) throw new Error("boom\nsecond line");
      return { samples: Array(p.repeats).fill(c.flops / (gflops * 1e6)) };
    },
    close: async () => undefined,
  };
  return { engine, calls };
}

describe("runBench", () => {
  it("measures case by case across engines and records every status", async () => {
    const cases = benchCases({ only: ["gemm", "mlp"], gemmSizes: [64, 128, 256] });
    const fast = fake("native", 100, { fail: "gemm-128" });
    const slow = fake("cpu", 1, { unsupported: "mlp-step" });
    const gone = fake("torch", 1, { open: "not installed (no torch)" });
    const opened = await openEngines([fast.engine, slow.engine, gone.engine]);
    expect(opened.map((o) => o.unavailable)).toEqual([null, null, "not installed (no torch)"]);
    const order: string[] = [];
    const ms = await runBench(cases, opened, plan, (m) => order.push(`${m.caseId}/${m.engine}`));
    expect(order.slice(0, 3)).toEqual(["gemm-64/native", "gemm-64/cpu", "gemm-64/torch"]);
    const get = (c: string, e: EngineName) => ms.find((m) => m.caseId === c && m.engine === e)!;
    expect(get("gemm-64", "native")).toMatchObject({ status: "ok" });
    expect(get("gemm-64", "native").gflops).toBeCloseTo(100, 9);
    expect(get("gemm-64", "native").timing!.samples).toHaveLength(3);
    expect(get("gemm-128", "native")).toEqual({ caseId: "gemm-128", engine: "native", status: "failed", note: "boom" });
    expect(get("gemm-64", "torch")).toMatchObject({ status: "unavailable", note: "not installed (no torch)" });
    expect(get("mlp-step", "cpu")).toMatchObject({ status: "unsupported", note: "GEMM only" });
    // cpu at 1 GFLOP/s: 128³ takes ~4 ms, 256³ ~34 ms (under the 50 ms limit); the MLP step (~0.5 GFLOP) is skipped.
    expect(get("gemm-256", "cpu").status).toBe("ok");
    expect(get("mlp-step", "native").status).toBe("ok");
    expect(slow.calls).toEqual(["gemm-64", "gemm-128", "gemm-256"]);
    expect(gone.calls).toEqual([]);
  });

  it("skips a case whose estimated call exceeds the limit, saying why", () => {
    const [c] = benchCases({ only: ["gemm"], gemmSizes: [2048] });
    expect(skipReason(c, [], 1000)).toBeNull();
    expect(skipReason(c, [100, 500], 1000)).toBeNull(); // 17 GFLOP at 100 GFLOP/s: 172 ms
    expect(skipReason(c, [0.8, 30], 10_000)).toBe("skipped: ~21 s a call at 0.800 GFLOP/s (limit 10 s)");
  });
});

describe("timing within a budget", () => {
  it("fits repeats to the budget, at least one", () => {
    expect(fitRepeats(10, 5, 1000)).toBe(5);
    expect(fitRepeats(300, 5, 1000)).toBe(3);
    expect(fitRepeats(5000, 5, 1000)).toBe(1);
    expect(fitRepeats(0, 5, 1000)).toBe(5);
    expect(() => fitRepeats(1, 5, 0)).toThrow(/budgetMs/);
  });

  it("warms up for a minimum time, then times the fitted repeats", async () => {
    let calls = 0;
    const fast = await timeWithinBudget(() => calls++, { warmup: 1, warmupMs: 20, repeats: 4, budgetMs: 1000 });
    expect(fast.samples).toHaveLength(4);
    expect(calls).toBeGreaterThan(5); // the 20 ms warmup takes many sub-millisecond calls
    calls = 0;
    const slow = await timeWithinBudget(
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 30));
      },
      { warmup: 1, warmupMs: 0, repeats: 5, budgetMs: 70 },
    );
    expect(slow.samples.length).toBeGreaterThanOrEqual(1);
    expect(slow.samples.length).toBeLessThanOrEqual(2);
    expect(calls).toBe(1 + slow.samples.length);
  });
});
