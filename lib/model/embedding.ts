// Token embedding: a [vocab, dim] table looked up by token id (torch.nn.Embedding). The lab's gather gradient
// (lib/ops) makes the lookup differentiable on every backend, wasm included.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { randomNormal } from "../random";
import { checkPositiveInt } from "../check";
import { registerGradients } from "../ops";

export class Embedding extends Module {
  readonly weight: tf.Variable; // [vocab, dim]

  /** Rows drawn from normal(0, initStd) on the global seeded stream. */
  constructor(
    readonly vocabSize: number,
    readonly dim: number,
    initStd: number,
  ) {
    super();
    checkPositiveInt("Embedding", "vocabSize", vocabSize);
    checkPositiveInt("Embedding", "dim", dim);
    if (!(Number.isFinite(initStd) && initStd >= 0))
      throw new Error(`Embedding: initStd must be a finite number ≥ 0, got ${initStd}`);
    registerGradients();
    this.weight = this.param("weight", randomNormal([vocabSize, dim], 0, initStd));
  }

  /** ids [...] int32 → [..., dim]. */
  apply(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== "int32") throw new Error(`Embedding.apply(ids): expected int32 token ids, got ${ids.dtype}`);
    return tf.tidy(() => {
      const flat = tf.gather(this.weight, tf.reshape(ids, [-1])); // [n, dim]
      return tf.reshape(flat, [...ids.shape, this.dim]); // [..., dim]
    });
  }
}
