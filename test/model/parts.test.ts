// The language model's parts against hand-computed values: norms, RoPE (closed form, relative positions), causal
// mask, cross-entropy, sampling.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { Rng, seed } from "../../lib/random";
import { causalMask } from "../../lib/model/attention";
import { countParams, lmConfig, presetConfig, PRESETS } from "../../lib/model/config";
import { TransformerLM } from "../../lib/model/transformer";
import { DEFAULT_MOE, MoELayer } from "../../lib/moe";
import { sampleToken } from "../../lib/model/generate";
import { softmaxCrossEntropy } from "../../lib/ops/cross-entropy";
import { LayerNorm, RMSNorm } from "../../lib/model/norm";
import { applyRope, ropeTables } from "../../lib/model/rope";

beforeAll(async () => {
  await selectBackend();
});

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i] - e), `index ${i}: ${actual[i]} vs ${e}`).toBeLessThan(tol));
}

describe("norms", () => {
  it("RMSNorm divides by the root mean square and scales by the weight", () => {
    const norm = new RMSNorm(2, 0);
    norm.weight.assign(tf.tensor1d([1, 2]));
    const y = norm.apply(tf.tensor2d([[3, 4]]));
    const rms = Math.sqrt((9 + 16) / 2);
    close(y.dataSync(), [3 / rms, (2 * 4) / rms]);
    expect(norm.numParams()).toBe(2);
    tf.dispose(y);
    norm.dispose();
  });

  it("LayerNorm centres, divides by the biased standard deviation, scales and shifts", () => {
    const norm = new LayerNorm(3, 0);
    norm.bias.assign(tf.tensor1d([0, 1, 0]));
    const y = norm.apply(tf.tensor2d([[1, 2, 3]]));
    const s = Math.sqrt(2 / 3);
    close(y.dataSync(), [-1 / s, 1, 1 / s]);
    expect(norm.numParams()).toBe(6);
    norm.dispose();
  });

  it("name a wrong last axis", () => {
    const norm = new RMSNorm(4, 1e-6);
    expect(() => norm.apply(tf.zeros([2, 3]))).toThrow(/RMSNorm.apply\(x\): expected shape \[\.\.\., 4\], got \[2,3\]/);
    norm.dispose();
  });
});

describe("RoPE (rotate-half)", () => {
  it("rotates feature i with feature i + dh/2 by pos·θ^(−2i/dh)", () => {
    // dh = 4, θ = 100: pair 0 (features 0, 2) turns by pos rad, pair 1 (features 1, 3) by pos/10 rad.
    const x = tf.tensor4d([1, 2, 3, 4, 1, 2, 3, 4], [1, 1, 2, 4]); // positions 5 and 6
    const tables = ropeTables(5, 2, 4, 100);
    const y = applyRope(x, tables).dataSync();
    const expected: number[] = [];
    for (const p of [5, 6]) {
      const [a, b] = [p, p / 10];
      expected.push(1 * Math.cos(a) - 3 * Math.sin(a), 2 * Math.cos(b) - 4 * Math.sin(b));
      expected.push(3 * Math.cos(a) + 1 * Math.sin(a), 4 * Math.cos(b) + 2 * Math.sin(b));
    }
    close(y, expected);
    tf.dispose([x, tables.cos, tables.sin]);
  });

  it("makes q·k depend only on the distance between positions", () => {
    const rng = new Rng(3);
    const q = tf.tensor4d(
      Array.from({ length: 8 }, () => rng.normal()),
      [1, 1, 1, 8],
    );
    const k = tf.tensor4d(
      Array.from({ length: 8 }, () => rng.normal()),
      [1, 1, 1, 8],
    );
    const dot = (m: number, n: number) =>
      tf.tidy(
        () =>
          tf
            .sum(tf.mul(applyRope(q, ropeTables(m, 1, 8, 10000)), applyRope(k, ropeTables(n, 1, 8, 10000))))
            .dataSync()[0],
      );
    expect(dot(7, 3)).toBeCloseTo(dot(24, 20), 4);
    expect(dot(0, 0)).toBeCloseTo(tf.sum(tf.mul(q, k)).dataSync()[0], 5);
    expect(Math.abs(dot(7, 3) - dot(7, 4))).toBeGreaterThan(1e-3);
  });

  it("names odd head widths and mismatched tables", () => {
    expect(() => ropeTables(0, 4, 6 + 1, 10000)).toThrow(/ropeTables: headDim must be even/);
    const t = ropeTables(0, 3, 4, 10000);
    expect(() => applyRope(tf.zeros([1, 1, 2, 4]) as tf.Tensor4D, t)).toThrow(
      /applyRope\(x, tables\): tables must be \[2, 2\]/,
    );
  });
});

describe("causal mask", () => {
  it("hides future keys, offset by the cached prefix", () => {
    const m = causalMask(2, 1).arraySync();
    expect(m).toEqual([
      [0, 0, -1e9],
      [0, 0, 0],
    ]);
  });
});

describe("cross-entropy (the models' loss: the fused softmaxCrossEntropy)", () => {
  it("equals −log softmax at the target, on average", () => {
    const logits = tf.tensor2d([
      [0, 0, Math.log(2)],
      [1, 1, 1],
    ]); // row 0: p(2) = 2/4; row 1: uniform over 3
    const targets = tf.tensor1d([2, 0], "int32");
    expect(softmaxCrossEntropy(logits, targets).dataSync()[0]).toBeCloseTo((Math.log(2) + Math.log(3)) / 2, 6);
  });

  it("names float or mis-sized targets", () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => softmaxCrossEntropy(logits, tf.tensor1d([0, 1]) as tf.Tensor1D)).toThrow(
      /expected an int32 tensor \[2\], got float32/,
    );
    expect(() => softmaxCrossEntropy(logits, tf.tensor1d([0], "int32"))).toThrow(/expected an int32 tensor \[2\]/);
    expect(() => softmaxCrossEntropy(logits, tf.tensor1d([0, 3], "int32"))).toThrow(
      /targets\[1\] = 3 is outside \[0, 3\)/,
    );
  });
});

describe("sampleToken", () => {
  const logits = [0, Math.log(3), -Infinity, Math.log(6)]; // probabilities 0.1, 0.3, 0, 0.6

  it("greedy at temperature 0 and with top-1", () => {
    expect(sampleToken(logits, { temperature: 0 })).toBe(3);
    expect(sampleToken(logits, { topK: 1 }, new Rng(1))).toBe(3);
  });

  it("draws with the softmax probabilities, restricted to the top-k", () => {
    const rng = new Rng(7);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, {}, rng)]++;
    close(
      counts.map((c) => c / n),
      [0.1, 0.3, 0, 0.6],
      0.015,
    );
    const top2 = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) top2[sampleToken(logits, { topK: 2 }, rng)]++;
    close(
      top2.map((c) => c / n),
      [0, 1 / 3, 0, 2 / 3],
      0.015,
    );
  });

  it("temperature sharpens: T = 0.5 squares the odds", () => {
    const rng = new Rng(8);
    let third = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) if (sampleToken([0, Math.log(2)], { temperature: 0.5 }, rng) === 1) third++;
    expect(third / n).toBeCloseTo(0.8, 1); // 4 : 1
  });

  it("names bad settings", () => {
    expect(() => sampleToken(logits, { temperature: -1 })).toThrow(/temperature must be a finite number ≥ 0/);
    expect(() => sampleToken(logits, { topK: 0 })).toThrow(/topK must be a positive integer/);
  });

  it("names NaN and +Infinity logits instead of returning token 0, at any temperature", () => {
    for (const temperature of [0, 1]) {
      expect(() => sampleToken([NaN, 1, 2], { temperature })).toThrow(
        "sampleToken(logits, config): logits[0] is NaN; logits must be finite or -Infinity",
      );
      expect(() => sampleToken([0, Infinity], { temperature })).toThrow(/logits\[1\] is Infinity/);
    }
    expect(() => sampleToken([-Infinity, -Infinity])).toThrow(/every logit is -Infinity/);
  });
});

describe("lmConfig", () => {
  it("names a width not divisible by the heads, odd head widths and bad dense-layer counts", () => {
    seed(0);
    expect(() => lmConfig({ dim: 66, nHeads: 4 })).toThrow(/lmConfig: dim \(66\) must be divisible by nHeads \(4\)/);
    expect(() => lmConfig({ dim: 12, nHeads: 4 })).toThrow(/head width dim\/nHeads = 3 must be even/);
    expect(() => lmConfig({ nDenseLayers: 3 })).toThrow(/nDenseLayers must be an integer in \[0, nLayers = 2\]/);
    expect(() => lmConfig({ norm: "batchnorm" as never })).toThrow(/norm must be one of rmsnorm, layernorm/);
    expect(() => lmConfig({ ffn: "moe", moe: { topK: 9 } })).toThrow(/lmConfig: moe.topK must be at most/);
  });

  it("resolves once: the frozen result is passed down as given, to the blocks' MoE layers", () => {
    seed(0);
    const c = presetConfig("nano", { ffn: "moe", moe: { topK: 1 } });
    expect(Object.isFrozen(c) && Object.isFrozen(c.moe)).toBe(true);
    expect(lmConfig(c)).toBe(c);
    expect(c.moe).toEqual({ ...DEFAULT_MOE, ...PRESETS.nano.moe, topK: 1 });
    const model = new TransformerLM(c);
    expect(model.config).toBe(c);
    expect(model.moeLayers().every((layer) => layer.config === c.moe)).toBe(true);
    expect(countParams(c).moeFfnActivePerLayer).toBe(model.moeLayers()[0].activeParams());
    model.dispose();
    expect(() => new MoELayer(8, { nRouted: 4, scoreFunc: "tanh" as never })).toThrow(
      /MoELayer: config.scoreFunc must be/,
    );
    expect(() => presetConfig("nano", { ffn: "moe", moe: { capacityFactor: 0 } })).toThrow(
      /lmConfig: moe.capacityFactor must be/,
    );
  });
});
