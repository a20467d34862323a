// What a MoE layer costs: matmul FLOPs of one forward (dispatch vs the naive all-experts reference) and a timed
// forward+backward step, shared by the routing notebook and scripts/bench-moe.ts. FLOPs count 2 per multiply-add;
// backward ≈ 2× forward (gradients to inputs and weights).
import * as tf from "@tensorflow/tfjs";
import type { MoELayer } from "./layer";

/** Matmul FLOPs of one forward over `tokens` tokens, with `slots` routed (token, expert) pairs (dispatch: kept slots). */
export function moeForwardFlops(layer: MoELayer, tokens: number, slots: number): number {
  const { nRouted, nShared, impl } = layer.config;
  const [d, h] = [layer.dim, layer.hidden];
  const gate = 2 * tokens * d * nRouted;
  const routedRows = impl === "naive" ? tokens * nRouted : slots; // naive runs every expert on every token
  return gate + 3 * 2 * routedRows * d * h + 3 * 2 * tokens * d * nShared * h;
}

/** One forward + backward of `layer` on x [N, dim] with loss mean(y²) + auxLoss; returns the loss and the slot count. */
export function moeStep(layer: MoELayer, x: tf.Tensor2D): { loss: number; slots: number } {
  let slots = 0;
  const { value, grads } = tf.variableGrads(() => {
    const out = layer.forward(x);
    slots = out.plan.nSlots;
    const loss = tf.add(tf.mean(tf.square(out.y)), out.auxLoss) as tf.Scalar;
    tf.dispose([out.load, out.indices]);
    return loss;
  }, layer.trainableVariables());
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, slots };
}
