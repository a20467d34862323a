// The benchmark models on tfjs cpu: config checks, seeded determinism, causality of the transformer (the lab's
// TransformerLM with learned positions), training lowers the loss, and no tensor is left behind.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { disposeBatch } from "../../lib/bench/models/common";
import { Mlp, mlpBatch, mlpConfig } from "../../lib/bench/models/mlp";
import {
  BenchTransformer,
  TransformerPatch,
  transformerBatch,
  transformerConfig,
} from "../../lib/bench/models/transformer";

const TINY: TransformerPatch = {
  model: { vocabSize: 13, dim: 16, nHeads: 2, nLayers: 2, contextLen: 6, ffnHidden: 24 },
  seqLen: 6,
  batchSize: 2,
};

describe("benchmark models", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("checks configs and names the field", () => {
    expect(() => mlpConfig({ hidden: [4, 0] })).toThrow(
      /mlpConfig\(patch\): hidden\[1\] must be a positive integer, got 0/,
    );
    expect(() => transformerConfig({ model: { dim: 10, nHeads: 4 } })).toThrow(
      /lmConfig: dim \(10\) must be divisible by nHeads \(4\)/,
    );
    expect(() => transformerConfig({ model: { positions: "alibi" as never } })).toThrow(
      /positions must be "rope" or "learned"/,
    );
    expect(() => transformerConfig({ model: { ffn: "moe" } })).toThrow(/model.ffn must be "dense"/);
    expect(() => transformerConfig({ seqLen: 200 })).toThrow(/seqLen \(200\) must be at most model.contextLen \(128\)/);
    expect(() => transformerConfig({ adam: { learningRate: -1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } })).toThrow(
      /adam.learningRate/,
    );
    expect(transformerConfig({ adam: { epsilon: 1e-3 } }).adam).toEqual({
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-3,
      weightDecay: 0,
      decayMinRank: 0,
    });
    expect(transformerConfig({ model: { dim: 64 } }).model).toMatchObject({
      dim: 64,
      nHeads: 4,
      positions: "learned",
      tiedHead: true,
    });
  });

  it("is deterministic under seed() and has a head only when untied", () => {
    const loss = (s: number, patch: TransformerPatch["model"] = {}) => {
      seed(s);
      const m = new BenchTransformer({ ...TINY, model: { ...TINY.model, ...patch } });
      const b = transformerBatch(m.config);
      const v = tf.tidy(() => m.loss(b).dataSync()[0]);
      const names = Object.keys(m.params);
      m.dispose();
      disposeBatch(b);
      return { v, names };
    };
    expect(loss(3).v).toBe(loss(3).v);
    expect(loss(3).v).not.toBe(loss(4).v);
    expect(loss(3).names).not.toContain("head.weight");
    expect(loss(3).names).toContain("pos.weight");
    expect(loss(3, { tiedHead: false }).names).toContain("head.weight");
    expect(loss(3).v).toBeCloseTo(Math.log(13), 1); // small init: near-uniform predictions
  });

  it("is causal: changing a token changes the logits at and after it only", () => {
    seed(5);
    const m = new BenchTransformer(TINY);
    const a = transformerBatch(m.config);
    const ids = a.inputs.arraySync();
    ids[0][3] = (ids[0][3] + 1) % 13; // sequence 0, position 3
    const b = { ...a, inputs: tf.tensor2d(ids, [2, 6], "int32") };
    const [la, lb] = tf.tidy(() => [m.logits(a).arraySync(), m.logits(b).arraySync()]);
    for (let t = 0; t < 3; t++) expect(lb[0][t], `position ${t}`).toEqual(la[0][t]);
    for (let t = 3; t < 6; t++) expect(lb[0][t], `position ${t}`).not.toEqual(la[0][t]);
    for (let t = 0; t < 6; t++) expect(lb[1][t], `sequence 1, position ${t}`).toEqual(la[1][t]);
    m.dispose();
    disposeBatch(a);
    b.inputs.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });

  it("trains: Adam steps lower the loss on a fixed batch, without leaking tensors", () => {
    const before = tf.memory().numTensors;
    seed(9);
    const mlp = new Mlp({
      inputSize: 20,
      hidden: [16],
      classes: 4,
      batchSize: 8,
      adam: { learningRate: 1e-2 } as never,
    });
    const mb = mlpBatch(mlp.config);
    const tr = new BenchTransformer({ ...TINY, adam: { learningRate: 1e-2 } });
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
