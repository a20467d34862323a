// The transformer LM: parameter counts by hand, a block's gradients by finite differences, overfitting one batch,
// cached == uncached logits, seeded generation, named errors, no tensor growth.
import { beforeAll, describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { expectDirectionalGradients, randomTokens } from "../helpers/tensors";
import { selectBackend } from "../../lib/backend-select";
import { Rng, seed } from "../../lib/random";
import { Module } from "../../lib/nn/module";
import { fit } from "../../lib/train";
import {
  Block,
  countParams,
  generate,
  lmConfig,
  LMConfig,
  presetConfig,
  ropeTables,
  TransformerLM,
} from "../../lib/model";

beforeAll(async () => {
  await selectBackend();
});

/** A tiny config for fast tests: V 16, d 16, 2 layers of 2 heads, context 12. */
const TINY: Partial<LMConfig> = { vocabSize: 16, dim: 16, nLayers: 2, nHeads: 2, contextLen: 12, ffnHidden: 24 };
const TINY_MOE: Partial<LMConfig> = {
  ...TINY,
  ffn: "moe",
  nDenseLayers: 1,
  moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 8 },
};

describe("parameter counts", () => {
  it("match hand counts for the presets, dense and MoE, tied and untied", () => {
    // nano dense: embedding 256·64; per layer attention 4·64², SwiGLU 3·64·192, two RMSNorms 2·64; final norm 64.
    const nanoDense = 256 * 64 + 2 * (4 * 64 * 64 + 3 * 64 * 192 + 2 * 64) + 64;
    expect(countParams(presetConfig("nano")).total).toBe(nanoDense);
    expect(countParams(presetConfig("nano")).active).toBe(nanoDense);
    // nano MoE: 8 routed experts of hidden 64 (3·64·64 each) + 1 shared of the same size + a gate 8·64; top-2.
    const expert = 3 * 64 * 64;
    const common = 256 * 64 + 2 * (4 * 64 * 64 + 2 * 64) + 64;
    const moe = countParams(presetConfig("nano", { ffn: "moe" }));
    expect(moe.total).toBe(common + 2 * (8 * 64 + 9 * expert));
    expect(moe.active).toBe(common + 2 * (8 * 64 + 3 * expert));
    expect(moe.utilisation).toBeCloseTo(moe.active / moe.total, 12);
    // micro untied with LayerNorm: the head adds V·d, each norm has a bias too.
    const micro = countParams(presetConfig("micro", { tiedHead: false, norm: "layernorm" }));
    expect(micro.total).toBe(2 * 256 * 128 + 4 * (4 * 128 * 128 + 3 * 128 * 384 + 2 * 2 * 128) + 2 * 128);
  });

  it("equal the built models' numParams()", () => {
    seed(0);
    for (const cfg of [
      TINY,
      TINY_MOE,
      { ...TINY_MOE, tiedHead: false, norm: "layernorm" as const },
      { ...TINY, positions: "learned" as const },
    ]) {
      const model = new TransformerLM(cfg);
      expect(model.numParams()).toBe(countParams(model.config).total);
      model.dispose();
    }
  });
});

/** Σ out ⊙ r of block(x), for directional finite differences. */
function blockObjective(block: Block, x: tf.Tensor3D, r: tf.Tensor): tf.Scalar {
  const rope = ropeTables(0, x.shape[1], 16 / 2, 10000);
  const out = block.apply(x, rope);
  const moeAux = out.moe ? out.moe.auxLoss : tf.scalar(0);
  return tf.add(tf.sum(tf.mul(out.x, r)), moeAux) as tf.Scalar;
}

describe("Block gradients", () => {
  for (const [name, cfg] of [
    ["dense", TINY],
    ["MoE", { ...TINY_MOE, nDenseLayers: 0 }],
  ] as const) {
    it(`${name}: every parameter's gradient matches central differences along a random direction`, () => {
      seed(11);
      const config = lmConfig(cfg);
      const block = new Block(config, 0);
      const rng = new Rng(12);
      const x = tf.tensor3d(
        Array.from({ length: 2 * 5 * 16 }, () => rng.normal()),
        [2, 5, 16],
      );
      const r = tf.tensor3d(
        Array.from({ length: 2 * 5 * 16 }, () => rng.normal()),
        [2, 5, 16],
      );
      const params = block.trainableVariables();
      expectDirectionalGradients(() => blockObjective(block, x, r), params, rng);
      tf.dispose([x, r]);
      block.dispose();
    });
  }
});

describe("TransformerLM", () => {
  it("overfits one batch (lab.train.fit, AdamW without decay)", async () => {
    seed(1);
    const model = new TransformerLM(TINY);
    const rng = new Rng(2);
    const inputs = randomTokens(rng, 4, 10, 16);
    const targets = randomTokens(rng, 4, 10, 16);
    const result = await fit({
      module: model,
      loss: () => model.stepLoss(inputs, targets),
      batches: () => ({}),
      config: {
        steps: 150,
        schedule: { kind: "constant", lr: 1e-2, warmupSteps: 0 },
        optimizer: { weightDecay: 0 },
        clipNorm: null,
      },
    });
    expect(result.history[0].loss).toBeCloseTo(Math.log(16), 0);
    expect(result.history[149].loss).toBeLessThan(0.1);
    expect(result.history[149].metrics.aux).toBe(0);
    model.dispose();
  });

  const untied: Partial<LMConfig> = { ...TINY, tiedHead: false, norm: "layernorm" };
  const learned: Partial<LMConfig> = { ...TINY, positions: "learned" };
  for (const [name, cfg] of [
    ["dense", TINY],
    ["MoE", TINY_MOE],
    ["untied LayerNorm", untied],
    ["learned positions", learned],
  ] as const) {
    it(`${name}: logits decoded with the KV cache equal the uncached forward pass`, () => {
      seed(3);
      const model = new TransformerLM(cfg);
      const tokens = randomTokens(new Rng(4), 2, 9, 16);
      const full = model.forward(tokens).logits.arraySync(); // [2, 9, 16]
      const cache = model.newCache();
      const pieces = [
        [0, 4],
        [4, 1],
        [5, 1],
        [6, 3],
      ];
      for (const [start, len] of pieces) {
        const part = tf.slice(tokens, [0, start], [2, len]);
        const logits = tf.tidy(() => model.forward(part, cache).logits.arraySync());
        for (let b = 0; b < 2; b++)
          for (let t = 0; t < len; t++) {
            logits[b][t].forEach((v, i) => expect(Math.abs(v - full[b][start + t][i])).toBeLessThan(1e-4));
          }
        part.dispose();
      }
      expect(cache.length).toBe(9);
      expect(cache.elements()).toBe(2 * 2 * 2 * 9 * 16); // layers · (k, v) · B · T · d
      cache.dispose();
      model.dispose();
    });
  }

  it("MoE: a cached (decoding) pass computes no balance loss; the uncached (training) pass does", () => {
    seed(3);
    const model = new TransformerLM(TINY_MOE);
    const tokens = randomTokens(new Rng(4), 2, 5, 16);
    const before = tf.memory().numTensors;
    const training = tf.tidy(() => model.forward(tokens).auxLoss.dataSync()[0]);
    const cache = model.newCache();
    const decoding = tf.tidy(() => model.forward(tokens, cache).auxLoss.dataSync()[0]);
    cache.dispose();
    expect(training).toBeGreaterThan(0);
    expect(decoding).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    tokens.dispose();
    model.dispose();
  });

  it("generates the same tokens with one seed, with and without the cache (greedy), and frees its tensors", () => {
    seed(5);
    const model = new TransformerLM(TINY_MOE);
    const before = tf.memory().numTensors;
    const greedy = generate(model, [1, 2, 3], 6, { temperature: 0 });
    expect(generate(model, [1, 2, 3], 6, { temperature: 0, useCache: false })).toEqual(greedy);
    const a = generate(model, [1, 2, 3], 6, { temperature: 1, topK: 5 }, new Rng(9));
    const b = generate(model, [1, 2, 3], 6, { temperature: 1, topK: 5 }, new Rng(9));
    expect(a).toEqual(b);
    expect(a.every((t) => t >= 0 && t < 16)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => generate(model, [1, 2, 3], 10)).toThrow(/prompt \(3\) \+ maxNewTokens \(10\) exceeds contextLen 12/);
    model.dispose();
  });

  it("refuses a config too big for this machine before allocating (names params and bytes) and frees a failed build", () => {
    const before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes };
    const huge: Partial<LMConfig> = {
      vocabSize: 256,
      dim: 2 ** 20,
      nHeads: 16,
      nLayers: 100,
      ffnHidden: 2 ** 22,
      contextLen: 16,
    };
    const params = countParams(lmConfig(huge)).total; // ≈ 1.7e15
    expect(params).toBeGreaterThan(1e15);
    expect(() => new TransformerLM(huge)).toThrow(
      new RegExp(
        `^TransformerLM\\(config\\): the model would have ${params.toExponential(2).replace("+", "\\+")} parameters = ${(4 * params).toExponential(2).replace("+", "\\+")} bytes \\(.* PiB\\) as float32, more than this machine's memory .*nothing was allocated`,
      ),
    );
    expect(tf.memory().numBytes).toBe(before.bytes);
    // a construction that fails part-way (here: registering the final norm, after the embedding and every block) frees what it built
    const original = (Module.prototype as unknown as Record<string, (...a: unknown[]) => unknown>).child;
    const failing = vi
      .spyOn(Module.prototype as unknown as Record<string, (...a: unknown[]) => unknown>, "child")
      .mockImplementation(function (this: unknown, ...args: unknown[]) {
        if (args[0] === "norm" && this instanceof TransformerLM) throw new Error("simulated failure");
        return original.apply(this, args);
      });
    seed(8);
    expect(() => new TransformerLM(TINY)).toThrow("simulated failure");
    failing.mockRestore();
    expect(tf.memory().numTensors).toBe(before.tensors);
    expect(tf.memory().numBytes).toBe(before.bytes);
  });

  it("generate refuses non-integer or out-of-vocabulary prompt ids and a NaN model (no token 0), freeing its tensors", () => {
    seed(7);
    const model = new TransformerLM(TINY);
    const before = tf.memory().numTensors;
    expect(() => generate(model, [1, 2.5, 3], 2)).toThrow(
      "generate(model, prompt, maxNewTokens): prompt[1] must be an integer token id in [0, 16), got 2.5",
    );
    expect(() => generate(model, [1, 16], 2)).toThrow(/prompt\[1\] must be an integer token id in \[0, 16\), got 16/);
    tf.tidy(() => {
      for (const v of model.stateDict().values()) v.assign(tf.fill(v.shape, NaN));
    });
    expect(() => generate(model, [1, 2], 2)).toThrow(
      /generate\(model, prompt, maxNewTokens\): new token 0: sampleToken\(logits, config\): logits\[0\] is NaN/,
    );
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("names sequences longer than the context, ids outside the vocabulary and bad shapes", () => {
    seed(6);
    const model = new TransformerLM(TINY);
    expect(() => model.forward(tf.zeros([1, 13], "int32") as tf.Tensor2D)).toThrow(
      /forward\(tokens\): sequence length 13 exceeds contextLen 12/,
    );
    expect(() => model.forward(tf.fill([1, 4], 16, "int32") as tf.Tensor2D)).toThrow(
      /token id 16 at index 0 is outside the vocabulary \[0, 16\)/,
    );
    expect(() => model.forward(tf.zeros([1, 4]) as tf.Tensor2D)).toThrow(/expected int32 \[B, T\], got float32/);
    const cache = model.newCache();
    model.forward(tf.zeros([1, 10], "int32") as tf.Tensor2D, cache);
    expect(() => model.forward(tf.zeros([1, 3], "int32") as tf.Tensor2D, cache)).toThrow(
      /sequence length 13 \(10 cached \+ 3\) exceeds contextLen 12/,
    );
    cache.dispose();
    const inputs = tf.zeros([1, 4], "int32") as tf.Tensor2D;
    expect(() => model.loss(inputs, tf.fill([1, 4], 20, "int32") as tf.Tensor2D)).toThrow(
      /targets\[0\] = 20 is outside \[0, 16\)/,
    );
    expect(() => model.loss(inputs, tf.zeros([1, 5], "int32") as tf.Tensor2D)).toThrow(/targets must be int32 \[1,4\]/);
    model.dispose();
  });

  it("its cross-entropy is the fused softmaxCrossEntropy's: −log softmax at the target, averaged (float64 reference)", () => {
    seed(16);
    const model = new TransformerLM(TINY);
    const rng = new Rng(16);
    const inputs = randomTokens(rng, 2, 5, 16);
    const targets = randomTokens(rng, 2, 5, 16);
    const logits = tf.tidy(() => Array.from(model.forward(inputs).logits.dataSync())); // [2·5·16]
    const t = targets.dataSync();
    let sum = 0;
    for (let n = 0; n < t.length; n++) {
      const row = logits.slice(n * 16, (n + 1) * 16);
      const max = Math.max(...row);
      sum += max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0)) - row[t[n]];
    }
    expect(tf.tidy(() => model.loss(inputs, targets).ce.dataSync()[0])).toBeCloseTo(sum / t.length, 5);
    tf.dispose([inputs, targets]);
    model.dispose();
  });

  it("MoE training under fit keeps the tensor count flat, logs ce + aux and moves the aux-free bias", async () => {
    seed(7);
    const model = new TransformerLM({
      ...TINY_MOE,
      nDenseLayers: 0,
      moe: { ...TINY_MOE.moe, balance: "auxfree", scoreFunc: "sigmoid" },
    });
    const rng = new Rng(8);
    const inputs = randomTokens(rng, 2, 8, 16);
    const targets = randomTokens(rng, 2, 8, 16);
    const biases = () => [...model.namedBuffers().values()].map((b) => Array.from(b.dataSync()));
    const bias0 = biases();
    const loads: number[][][] = [];
    const counts: number[] = [];
    const result = await fit({
      module: model,
      loss: () => model.stepLoss(inputs, targets),
      batches: () => ({}),
      afterStep: (info) => {
        loads.push(model.afterStep(info.aux));
        counts.push(tf.memory().numTensors);
      },
      config: { steps: 8 },
    });
    expect(new Set(counts.slice(1)).size).toBe(1);
    for (const step of loads) {
      expect(step).toHaveLength(2);
      for (const load of step) expect(load.reduce((a, b) => a + b, 0)).toBe(2 * 8 * 2); // every token to topK experts
    }
    const { ce, aux } = result.history[7].metrics;
    expect(ce).toBeCloseTo(result.history[7].loss, 6); // aux-free: no auxiliary loss term
    expect(aux).toBe(0);
    expect(biases()).not.toEqual(bias0);
    model.dispose();
  });

  it("a Switch-balanced MoE adds its aux losses to the cross-entropy", () => {
    seed(9);
    const model = new TransformerLM(TINY_MOE);
    const rng = new Rng(10);
    const out = model.stepLoss(randomTokens(rng, 2, 8, 16), randomTokens(rng, 2, 8, 16));
    const [loss, ce, aux] = [out.loss, out.metrics.ce, out.metrics.aux].map((t) => t.dataSync()[0]);
    expect(aux).toBeGreaterThan(0.9e-2); // Switch α·N·Σ fᵢPᵢ ≥ α at α = 1e-2, one MoE layer
    expect(loss).toBeCloseTo(ce + aux, 6);
    tf.dispose([out.loss, ...Object.values(out.metrics), ...Object.values(out.aux)]);
    model.dispose();
  });
});

describe("presets and backends", () => {
  it("the presets' documented counts (config.ts) hold", () => {
    const rows = (["nano", "micro", "small"] as const).map((name) => {
      const moe = countParams(presetConfig(name, { ffn: "moe" }));
      return [countParams(presetConfig(name)).total, moe.total, moe.active];
    });
    expect(rows).toEqual([
      [123200, 271680, 124224],
      [885888, 2069632, 889984],
      [5180672, 12270848, 5192960],
    ]);
  });

  it("cpu and wasm give the native backend's MoE loss and gradients", async () => {
    const results: { loss: number; grads: Float32Array[] }[] = [];
    for (const backend of ["native", "cpu", "wasm"]) {
      await selectBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      seed(13);
      const model = new TransformerLM(TINY_MOE);
      const rng = new Rng(14);
      const inputs = randomTokens(rng, 2, 6, 16);
      const targets = randomTokens(rng, 2, 6, 16);
      const { value, grads } = tf.variableGrads(() => model.loss(inputs, targets).loss, model.trainableVariables());
      results.push({
        loss: value.dataSync()[0],
        grads: model.trainableVariables().map((v) => grads[v.name].dataSync() as Float32Array),
      });
      tf.dispose([value, inputs, targets, ...Object.values(grads)]);
      model.dispose();
    }
    await selectBackend();
    for (const other of results.slice(1)) {
      expect(other.loss).toBeCloseTo(results[0].loss, 4);
      other.grads.forEach((g, i) =>
        g.forEach((v, j) => expect(Math.abs(v - results[0].grads[i][j])).toBeLessThan(1e-4)),
      );
    }
  });
});
