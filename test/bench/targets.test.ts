// Ratio and target logic: speedups are baseline time / native time, peak fractions use GFLOP/s, and a target whose
// cells are missing is "n/a" with the reason, never a pass.
import { describe, expect, it } from "vitest";
import type { EngineName } from "../../lib/bench/engine";
import type { Measurement } from "../../lib/bench/run";
import { evaluateTargets, peakFraction, speedup, targetLines, TARGETS } from "../../lib/bench/targets";
import { summarize } from "../../lib/bench/timing";

function ok(caseId: string, engine: EngineName, ms: number, gflops = 1): Measurement {
  return { caseId, engine, status: "ok", timing: summarize([ms, ms * 1.1, ms * 0.9]), gflops };
}

describe("targets", () => {
  it("computes speedups and peak fractions from medians", () => {
    const ms = [ok("gemm-1024", "native", 8, 270), ok("gemm-1024", "torch", 10)];
    expect(speedup(ms, "gemm-1024", "native", "torch")).toBeCloseTo(1.25, 12);
    expect(speedup(ms, "gemm-1024", "native", "cpu")).toBeNull();
    expect(peakFraction(ms, "gemm-1024", "native", 300)).toBeCloseTo(0.9, 12);
    expect(peakFraction([{ ...ms[0], status: "failed" }], "gemm-1024", "native", 300)).toBeNull();
  });

  it("passes, fails and says n/a with the reason", () => {
    const ms: Measurement[] = [
      ok("gemm-1024", "native", 8, 280),
      ok("gemm-1024", "torch", 9),
      ok("mlp-step", "native", 10),
      ok("mlp-step", "cpu", 400),
      ok("mlp-step", "wasm", 120),
      ok("transformer-step", "native", 100),
      { caseId: "transformer-step", engine: "torch", status: "unavailable", note: "not installed (torch missing)" },
    ];
    const r = Object.fromEntries(evaluateTargets(ms, 300).map((t) => [t.id, t]));
    expect(Object.keys(r)).toEqual(TARGETS.map((t) => t.id));
    expect(r["gemm1024-torch"]).toMatchObject({ status: "pass", required: 1 });
    expect(r["gemm1024-torch"].measured).toBeCloseTo(9 / 8, 12);
    expect(r["gemm1024-peak"]).toMatchObject({ status: "pass" });
    expect(r["gemm1024-peak"].note).toMatch(/93\.3% \(280\.0 of 300\.0 GFLOP\/s\)/);
    expect(r["mlp-cpu"]).toMatchObject({ status: "fail", measured: 40 });
    expect(r["mlp-wasm"]).toMatchObject({ status: "pass", measured: 12 });
    expect(r["transformer-torch"]).toMatchObject({ status: "n/a", measured: null });
    expect(r["transformer-torch"].note).toMatch(/PyTorch unavailable \(not installed/);
    const lines = targetLines(Object.values(r));
    expect(lines[0]).toMatch(/^PASS  GEMM 1024³: native ≥ 1\.0× PyTorch — 1\.13×/);
    expect(lines[2]).toMatch(/^FAIL  MLP train step/);
    expect(lines[4]).toMatch(/^N\/A   tiny-transformer/);
  });

  it("a target with no native measurement at all is n/a", () => {
    const [t] = evaluateTargets([], 300);
    expect(t).toMatchObject({ status: "n/a", note: "tfjs native not measured in this run" });
  });
});
