// One forward + backward step of a lone MoE layer (scripts/bench-moe.ts times it; its FLOPs: lib/flops.ts
// moeStepFlops). Reference: DeepSeek-V3 model.py `MoE` as a standalone layer.
import * as tf from "@tensorflow/tfjs";
import type { MoELayer } from "../moe/layer";

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
