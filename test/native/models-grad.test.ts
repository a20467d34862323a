// Whole-model gradient parity: the benchmark MLP and tiny transformer give the same loss and parameter gradients on
// the native backend as on tfjs's cpu backend (and on wasm), to 1e-5 norm-wise relative error per parameter
// (‖g_backend − g_cpu‖ / ‖g_cpu‖), same seed, same batch. Native must load: this test fails, never skips, without it.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { BenchModel, disposeBatch } from "../../lib/bench/models/common";
import { Mlp, MlpConfig, mlpBatch } from "../../lib/bench/models/mlp";
import { BenchTransformer, TransformerPatch, transformerBatch } from "../../lib/bench/models/transformer";

const SEED = 1234;
const RTOL = 1e-5;

type Backend = "native" | "cpu" | "wasm";

interface Grads {
  loss: number;
  grads: Record<string, Float32Array>;
}

/** Loss and gradients of a fresh model (seeded) on one fresh batch, on `backend`; asserts no tensor is left behind. */
async function gradsOn<B extends object>(
  backend: Backend,
  build: () => { model: BenchModel<B>; batch: B },
): Promise<Grads> {
  await useBackend(backend);
  const before = tf.memory().numTensors;
  seed(SEED);
  const { model, batch } = build();
  try {
    return model.gradients(batch);
  } finally {
    model.dispose();
    disposeBatch(batch);
    expect(tf.memory().numTensors, `tensors left on ${backend}`).toBe(before);
  }
}

/** ‖a − b‖ / ‖b‖ in float64. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    ref += b[i] ** 2;
  }
  return Math.sqrt(diff) / Math.sqrt(ref);
}

/** Every parameter's gradient of `got` within RTOL of `ref`'s (and not all zero), the losses too. */
function expectSameGrads(got: Grads, ref: Grads, what: string): void {
  expect(Object.keys(got.grads).sort(), what).toEqual(Object.keys(ref.grads).sort());
  expect(
    Math.abs(got.loss - ref.loss) / Math.abs(ref.loss),
    `${what}: loss ${got.loss} vs ${ref.loss}`,
  ).toBeLessThanOrEqual(RTOL);
  const errors = Object.entries(ref.grads).map(([name, g]) => {
    expect(g.length, `${what}: ${name} size`).toBe(got.grads[name].length);
    expect(
      g.some((v) => v !== 0),
      `${what}: ${name} has an all-zero gradient on cpu`,
    ).toBe(true);
    return { name, error: relativeError(got.grads[name], g) };
  });
  const worst = errors.reduce((a, b) => (b.error > a.error || Number.isNaN(b.error) ? b : a));
  expect(worst.error, `${what}: worst parameter ${worst.name}, relative error ${worst.error}`).toBeLessThanOrEqual(
    RTOL,
  );
}

function mlp(config: Partial<MlpConfig>) {
  return () => {
    const model = new Mlp(config);
    return { model, batch: mlpBatch(model.config) };
  };
}

function transformer(config: TransformerPatch) {
  return () => {
    const model = new BenchTransformer(config);
    return { model, batch: transformerBatch(model.config) };
  };
}

/** Small TransformerLMs: one with SIMD-friendly sizes (learned positions, tied head), one with odd sizes (no multiple of 16,
 * head size 10, FFN 50) with RoPE and an untied head. */
const EVEN: TransformerPatch = {
  model: { vocabSize: 96, dim: 64, nHeads: 4, nLayers: 2, contextLen: 32, ffnHidden: 192 },
  seqLen: 32,
  batchSize: 2,
};
const ODD: TransformerPatch = {
  model: {
    vocabSize: 53,
    dim: 40,
    nHeads: 4,
    nLayers: 2,
    contextLen: 19,
    ffnHidden: 50,
    positions: "rope",
    tiedHead: false,
  },
  seqLen: 19,
  batchSize: 3,
};

describe("whole-model gradients: native and wasm equal cpu", () => {
  beforeAll(async () => {
    await useBackend("native"); // throws (fails the file) when the addon is missing
  });

  it("MLP 784→512→512→10, batch 128 (fused matmul + relu, softmax cross-entropy)", async () => {
    const ref = await gradsOn("cpu", mlp({}));
    expectSameGrads(await gradsOn("native", mlp({})), ref, "native MLP");
    expectSameGrads(await gradsOn("wasm", mlp({})), ref, "wasm MLP");
  });

  it("MLP with odd widths 37→29→3→3, batch 1", async () => {
    const config = { inputSize: 37, hidden: [29, 3], classes: 3, batchSize: 1 };
    const ref = await gradsOn("cpu", mlp(config));
    expectSameGrads(await gradsOn("native", mlp(config)), ref, "native odd MLP");
  });

  it("transformer d=64 h=4 L=2 T=32 B=2, learned positions, tied head", async () => {
    const ref = await gradsOn("cpu", transformer(EVEN));
    expectSameGrads(await gradsOn("native", transformer(EVEN)), ref, "native transformer");
    expectSameGrads(await gradsOn("wasm", transformer(EVEN)), ref, "wasm transformer");
  });

  it("transformer with odd sizes d=40 h=4 T=19 B=3 vocab 53, RoPE, untied head", async () => {
    const ref = await gradsOn("cpu", transformer(ODD));
    expectSameGrads(await gradsOn("native", transformer(ODD)), ref, "native odd transformer");
    expectSameGrads(await gradsOn("wasm", transformer(ODD)), ref, "wasm odd transformer");
  });

  it("an Adam train step updates the parameters the same way on native and cpu", async () => {
    // Adam's first step moves each weight by ≈ lr·g/(|g| + ε): with the default ε = 1e-8 a gradient element within
    // rounding of 0 may flip the sign of its update between backends; ε = 1e-3 keeps the update a smooth function of g.
    const config = { ...ODD, adam: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-3 } };
    const after = async (backend: Backend) => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      seed(SEED);
      const { model, batch } = transformer(config)();
      model.trainStep(batch);
      const values = Object.fromEntries(
        Object.entries(model.params).map(([n, v]) => [n, Float32Array.from(v.dataSync())]),
      );
      model.dispose();
      disposeBatch(batch);
      expect(tf.memory().numTensors, `tensors left on ${backend}`).toBe(before);
      return values;
    };
    const [native, cpu] = [await after("native"), await after("cpu")];
    for (const name of Object.keys(cpu)) {
      expect(relativeError(native[name], cpu[name]), name).toBeLessThanOrEqual(RTOL);
    }
  });
});
