// lab.nn.Module's call convention: every computing module answers apply(); where a module also has forward(), apply()
// is forward()'s output exactly and frees the rest (tensor count flat), so callers never branch on the module type.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { Block, ropeTables, TransformerLM, lmConfig } from "../../lib/model";
import { MoELayer } from "../../lib/moe";
import { SwiGLU } from "../../lib/nn";
import { randomNormal, seed } from "../../lib/random";
import { ActorCritic } from "../../lib/rl";

/** apply(...) against `main(forward(...))`: same values, and apply leaves only its output behind. */
function expectApplyIsForwardOutput(apply: () => tf.Tensor, forwardOutput: () => tf.Tensor): void {
  const expected = tf.tidy(() => forwardOutput().arraySync());
  const before = tf.memory().numTensors;
  const out = apply();
  expect(tf.memory().numTensors).toBe(before + 1);
  expect(out.arraySync()).toEqual(expected);
  out.dispose();
}

describe("Module call convention", () => {
  it("MoELayer.apply is forward().y; a dense SwiGLU and an MoE FFN are called the same way", () => {
    seed(1);
    const moe = new MoELayer(8, { nRouted: 4, nShared: 1, topK: 2, expertHidden: 4 });
    const x = randomNormal([6, 8]) as tf.Tensor2D; // [N, d]
    expectApplyIsForwardOutput(
      () => moe.apply(x),
      () => moe.forward(x).y,
    );
    const dense = new SwiGLU(8, 12);
    for (const ffn of [dense, moe] as (SwiGLU | MoELayer)[]) {
      const y = tf.tidy(() => ffn.apply(x));
      expect(y.shape).toEqual([6, 8]);
      y.dispose();
    }
    tf.dispose([x]);
    moe.dispose();
    dense.dispose();
  });

  it("TransformerLM.apply is forward().logits; Block.apply runs a block", () => {
    seed(2);
    const config = {
      vocabSize: 16,
      dim: 16,
      nLayers: 2,
      nHeads: 2,
      contextLen: 12,
      ffnHidden: 24,
      ffn: "moe" as const,
      nDenseLayers: 1,
      moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 8 },
    };
    const model = new TransformerLM(config);
    const tokens = tf.tensor2d(
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
      undefined,
      "int32",
    ) as tf.Tensor2D; // [B, T]
    expectApplyIsForwardOutput(
      () => model.apply(tokens),
      () => model.forward(tokens).logits,
    );
    const block = new Block(lmConfig(config), 0);
    const rope = ropeTables(0, 4, 8, 10000);
    const h = randomNormal([2, 4, 16]) as tf.Tensor3D; // [B, T, d]
    const out = tf.tidy(() => block.apply(h, rope).x.shape);
    expect(out).toEqual([2, 4, 16]);
    tf.dispose([tokens, h, rope.cos, rope.sin]);
    model.dispose();
    block.dispose();
  });

  it("ActorCritic.apply is forward().logProbs", () => {
    seed(3);
    const agent = new ActorCritic(4, 3, { hidden: [8] });
    const obs = randomNormal([5, 4]); // [B, obs]
    expectApplyIsForwardOutput(
      () => agent.apply(obs),
      () => agent.forward(obs).logProbs,
    );
    obs.dispose();
    agent.dispose();
  });
});
