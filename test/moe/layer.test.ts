// MoELayer's contract for the model code: output shapes and dtypes, parameter names and counts (active vs total),
// the aux loss per balance method, expert-choice indices, flat tensor count across training steps.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { DEFAULT_MOE, MoELayer, sequenceWiseLoss, switchLoss, zLoss } from "../../lib/moe";
import { randomNormal, seed } from "../../lib/random";

function outputs(layer: MoELayer, x: tf.Tensor2D, seqLen?: number) {
  const out = layer.forward(x, { seqLen });
  const res = {
    y: out.y.shape,
    aux: out.auxLoss.dataSync()[0],
    load: Array.from(out.load.dataSync()),
    loadDtype: out.load.dtype,
    indices: Array.from(out.indices.dataSync()),
    indicesShape: out.indices.shape,
    indicesDtype: out.indices.dtype,
    dropped: out.droppedFraction,
  };
  tf.dispose([out.y, out.auxLoss, out.load, out.indices]);
  return res;
}

describe("MoELayer", () => {
  it("has DeepSeek-style parameter names and counts; active params = gate + shared + topK experts", () => {
    seed(1);
    const layer = new MoELayer(8, { nRouted: 6, nShared: 2, topK: 2, expertHidden: 4, balance: "auxfree" });
    expect([...layer.namedParameters().keys()]).toEqual([
      "gate.weight",
      "experts.w1",
      "experts.w2",
      "experts.w3",
      "shared.w1.weight",
      "shared.w2.weight",
      "shared.w3.weight",
    ]);
    expect([...layer.namedBuffers().keys()]).toEqual(["gate.bias"]);
    const gate = 6 * 8,
      expert = 3 * 8 * 4,
      shared = 3 * 8 * 8;
    expect(layer.numParams()).toBe(gate + 6 * expert + shared);
    expect(layer.activeParams()).toBe(gate + 2 * expert + shared);
    expect(layer.hidden).toBe(4);
    expect(new MoELayer(8).hidden).toBe(8); // expertHidden null = dim
    expect(DEFAULT_MOE).toMatchObject({ nRouted: 8, topK: 2, capacityFactor: null, balance: "switch" });
    expect(Object.isFrozen(DEFAULT_MOE)).toBe(true);
    layer.dispose();
  });

  it("returns y [N, dim], load [E] float32 summing to N·k, indices [N, k] int32", () => {
    seed(2);
    const layer = new MoELayer(8, { nRouted: 4, topK: 2, expertHidden: 4 });
    const x = randomNormal([10, 8]) as tf.Tensor2D;
    const o = outputs(layer, x);
    expect(o.y).toEqual([10, 8]);
    expect(o.loadDtype).toBe("float32");
    expect(o.load.reduce((a, b) => a + b)).toBe(20);
    expect(o.indicesShape).toEqual([10, 2]);
    expect(o.indicesDtype).toBe("int32");
    expect(o.dropped).toBe(0);
    tf.dispose(x);
    layer.dispose();
  });

  it("auxLoss = coefficient × the configured loss (+ z-loss); 0 for none / auxfree", () => {
    seed(3);
    const x = randomNormal([12, 8]) as tf.Tensor2D;
    const base = new MoELayer(8, { nRouted: 4, topK: 2, expertHidden: 4, balance: "none" });
    expect(outputs(base, x).aux).toBe(0);
    const expected = tf.tidy(() => {
      const g = base.gate.route(x);
      return {
        switch: switchLoss(g.scores, g.indices).loss.dataSync()[0],
        sequence: sequenceWiseLoss(g.scores, g.indices, 4).loss.dataSync()[0],
        z: zLoss(g.logits).dataSync()[0],
      };
    });
    const variant = (cfg: object) => {
      const l = new MoELayer(8, { ...base.config, ...cfg });
      l.loadStateDict(base.stateDict());
      const aux = outputs(l, x, 4).aux;
      l.dispose();
      return aux;
    };
    expect(variant({ balance: "switch", balanceCoef: 0.01 })).toBeCloseTo(0.01 * expected.switch, 7);
    expect(variant({ balance: "sequence", balanceCoef: 1e-4 })).toBeCloseTo(1e-4 * expected.sequence, 9);
    expect(variant({ balance: "none", zLossCoef: 1e-3 })).toBeCloseTo(1e-3 * expected.z, 8);
    const free = new MoELayer(8, { ...base.config, balance: "auxfree", scoreFunc: "sigmoid" });
    expect(outputs(free, x).aux).toBe(0);
    free.dispose();
    tf.dispose(x);
    base.dispose();
  });

  it("expert choice: every expert takes its capacity, indices list the choosing experts (−1 padded)", () => {
    seed(4);
    const layer = new MoELayer(8, {
      nRouted: 4,
      topK: 1,
      expertHidden: 4,
      routing: "expert-choice",
      capacityFactor: 2,
    });
    const x = randomNormal([8, 8]) as tf.Tensor2D;
    const o = outputs(layer, x);
    expect(o.load).toEqual([4, 4, 4, 4]); // capacity ceil(8·1/4·2) = 4
    expect(o.indices.every((e) => e >= -1 && e < 4)).toBe(true);
    tf.dispose(x);
    layer.dispose();
  });

  it("trains: loss falls and the tensor count stays flat across steps", () => {
    seed(5);
    const layer = new MoELayer(8, { nRouted: 4, topK: 2, expertHidden: 8, zLossCoef: 1e-3 });
    const x = randomNormal([32, 8]) as tf.Tensor2D;
    const target = tf.tidy(() => tf.tanh(tf.matMul(x, randomNormal([8, 8])))) as tf.Tensor2D;
    const opt = tf.train.adam(0.02);
    const losses: number[] = [];
    let count = 0;
    for (let step = 0; step < 40; step++) {
      const loss = opt.minimize(
        () => {
          const out = layer.forward(x);
          const l = tf.add(tf.mean(tf.square(tf.sub(out.y, target))), out.auxLoss) as tf.Scalar;
          tf.dispose([out.load, out.indices]);
          return l;
        },
        true,
        layer.trainableVariables(),
      )!;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      if (step === 1) count = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(count);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.7);
    opt.dispose();
    tf.dispose([x, target]);
    layer.dispose();
  });
});
