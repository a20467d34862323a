// The tfjs engines on tiny cases: samples per repeat plan (wasm trains the transformer: the lab's ops give it the
// gather gradient), no tensor leaks, and the
// kernel profile adds up tf.profile's kernel times by name.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { aggregateKernels, profileKernels } from "../../lib/bench/profile";
import { profileTfjsCase, tfjsEngine } from "../../lib/bench/tfjs";
import { benchCases } from "../../lib/bench/workloads";
import { TINY_MLP, tinyTransformer } from "./tiny-cases";

const cases = benchCases({
  gemmSizes: [9],
  only: ["gemm", "tgemm", "mlp", "transformer"],
  mlp: TINY_MLP,
  transformer: tinyTransformer(true),
});
const plan = { warmup: 1, warmupMs: 0, repeats: 2, budgetMs: 10_000 };

describe("tfjs engines", () => {
  it("cpu runs every workload kind (transposed and batched GEMMs included)", async () => {
    const engine = tfjsEngine("cpu");
    expect(await engine.open()).toBeNull();
    expect(engine.info()).toMatchObject({ tfjs: tf.version.tfjs, threads: 1 });
    for (const c of cases) {
      const r = await engine.measure(c, plan);
      expect(r.samples, c.id).toHaveLength(2);
      expect(r.note, c.id).toBeUndefined();
    }
  });

  it("wasm trains the transformer (gather's gradient through the lab's UnsortedSegmentSum)", async () => {
    const engine = tfjsEngine("wasm");
    expect(await engine.open()).toBeNull();
    const r = await engine.measure(
      cases.find((c) => c.id === "transformer-step")!,
      plan,
    );
    expect(r.samples).toHaveLength(2);
    expect(r.note).toBeUndefined();
  });

  it("profiles a call by kernel name", async () => {
    await useBackend("cpu");
    const a = tf.ones([8, 8]);
    const p = await profileKernels(() => tf.tidy(() => tf.add(tf.matMul(a, a), tf.matMul(a, a)).dataSync()));
    a.dispose();
    expect(p.backend).toBe("cpu");
    expect(p.nativeKernels).toBeNull();
    const mm = p.kernels.find((k) => k.kernel === "BatchMatMul")!;
    expect(mm.calls).toBe(2);
    expect(p.kernels.find((k) => k.kernel === "Add")!.calls).toBe(1);
    expect(p.kernelMs).toBeLessThanOrEqual(p.wallMs);
    const agg = aggregateKernels(
      [
        { name: "A", kernelTimeMs: 2 },
        { name: "B", kernelTimeMs: 5 },
        { name: "A", kernelTimeMs: 4 },
        { name: "C", kernelTimeMs: { error: "x" } },
      ],
      20,
    );
    expect(agg).toEqual([
      { kernel: "A", calls: 2, ms: 6, share: 0.3 },
      { kernel: "B", calls: 1, ms: 5, share: 0.25 },
      { kernel: "C", calls: 1, ms: 0, share: 0 },
    ]);
    const step = await profileTfjsCase(
      "cpu",
      cases.find((c) => c.id === "mlp-step")!,
    );
    expect(step.kernels.map((k) => k.kernel)).toContain("_FusedMatMul");
    expect(step.kernels.map((k) => k.kernel)).not.toContain("logSoftmax__op"); // a composite op, not a kernel
    expect(step.split!.stepMs).toBeGreaterThan(0);
    expect(step.split!.optimizerMs).toBeCloseTo(step.split!.stepMs - step.split!.gradientsMs, 9);
    expect(tf.memory().numTensors).toBe(0);
  });
});
