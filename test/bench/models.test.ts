// The benchmark models on tfjs cpu: config checks, seeded determinism, causality of the transformer, training
// lowers the loss, and no tensor is left behind.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { disposeBatch } from "../../lib/bench/models/common";
import { Mlp, mlpBatch, mlpConfig } from "../../lib/bench/models/mlp";
import { TinyTransformer, TransformerConfig, transformerBatch, transformerConfig } from "../../lib/bench/models/transformer";

const TINY: Partial<TransformerConfig> = { vocabSize: 13, dModel: 16, heads: 2, layers: 2, seqLen: 6, batchSize: 2 };

describe("benchmark models", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("checks configs and names the field", () => {
    expect(() => mlpConfig({ hidden: [4, 0] })).toThrow(/mlpConfig\(patch\): hidden\[1\] must be a positive integer, got 0/);
    expect(() => transformerConfig({ dModel: 10, heads: 4 })).toThrow(/heads \(4\) must divide dModel \(10\)/);
    expect(() => transformerConfig({ activation: "relu" as "gelu" })).toThrow(/activation must be "gelu" or "silu"/);
    expect(() => transformerConfig({ adam: { learningRate: -1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } })).toThrow(/adam.learningRate/);
    expect(transformerConfig({ adam: { epsilon: 1e-3 } as never }).adam).toEqual({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-3, weightDecay: 0, decayMinRank: 0 });
  });

  it("is deterministic under seed() and has a head only when untied", () => {
    const loss = (s: number, patch: Partial<TransformerConfig> = {}) => {
      seed(s);
      const m = new TinyTransformer({ ...TINY, ...patch });
      const b = transformerBatch(m.config);
      const v = tf.tidy(() => m.loss(b).dataSync()[0]);
      const names = Object.keys(m.params);
      m.dispose();
      disposeBatch(b);
      return { v, names };
    };
    expect(loss(3).v).toBe(loss(3).v);
    expect(loss(3).v).not.toBe(loss(4).v);
    expect(loss(3).names).not.toContain("head");
    expect(loss(3, { tiedHead: false }).names).toContain("head");
    expect(loss(3).v).toBeCloseTo(Math.log(13), 1); // small init: near-uniform predictions
  });

  it("is causal: changing a token changes the logits at and after it only", () => {
    seed(5);
    const m = new TinyTransformer(TINY);
    const a = transformerBatch(m.config);
    const ids = a.tokens.arraySync();
    ids[3] = (ids[3] + 1) % 13; // sequence 0, position 3
    const b = { ...a, tokens: tf.tensor1d(ids, "int32") };
    const [la, lb] = tf.tidy(() => [m.logits(a).arraySync(), m.logits(b).arraySync()]);
    for (let t = 0; t < 3; t++) expect(lb[t], `position ${t}`).toEqual(la[t]);
    for (let t = 3; t < 6; t++) expect(lb[t], `position ${t}`).not.toEqual(la[t]);
    for (let t = 6; t < 12; t++) expect(lb[t], `sequence 1, position ${t - 6}`).toEqual(la[t]);
    m.dispose();
    disposeBatch(a);
    b.tokens.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });

  it("trains: Adam steps lower the loss on a fixed batch, without leaking tensors", () => {
    const before = tf.memory().numTensors;
    seed(9);
    const mlp = new Mlp({ inputSize: 20, hidden: [16], classes: 4, batchSize: 8, adam: { learningRate: 1e-2 } as never });
    const mb = mlpBatch(mlp.config);
    const tr = new TinyTransformer({ ...TINY, activation: "silu", adam: { learningRate: 1e-2 } as never });
    const tb = transformerBatch(tr.config);
    const first = [mlp.trainStep(mb), tr.trainStep(tb)];
    const counted = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 15; i++) last = [mlp.trainStep(mb), tr.trainStep(tb)];
    expect(tf.memory().numTensors).toBe(counted); // steps after the first (which creates Adam's moments) add nothing
    expect(last[0]).toBeLessThan(first[0] * 0.7);
    expect(last[1]).toBeLessThan(first[1] * 0.9);
    mlp.dispose();
    tr.dispose();
    disposeBatch(mb);
    disposeBatch(tb);
    expect(tf.memory().numTensors).toBe(before);
  });
});
