// A tiny next-token model for the training tests: embedding table → tanh → Linear head, with seeded dropout drawn from
// the global stream (so step seeding is exercised), and a cross-entropy loss over int32 [B, T] batches.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../../lib/nn/module";
import { Linear } from "../../lib/nn/linear";
import { randomNormal, randomUniform } from "../../lib/random";
import type { Batch } from "../../lib/data/batch";

export class TinyLM extends Module {
  readonly embed: tf.Variable; // [V, d]
  readonly head: Linear;
  readonly gain: tf.Variable; // [d], rank 1: left out of weight decay

  constructor(
    readonly vocab: number,
    readonly dim: number,
    readonly dropout = 0.1,
  ) {
    super();
    this.embed = this.param("embed", randomNormal([vocab, dim], 0, 0.5));
    this.gain = this.param("gain", tf.ones([dim]));
    this.head = this.child("head", new Linear(dim, vocab, { bias: true }));
  }

  logits(inputs: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = tf.mul(tf.tanh(tf.gather(this.embed, tf.reshape(inputs, [-1]))), this.gain); // [B·T, d]
      if (this.dropout > 0)
        h = tf.mul(h, tf.div(tf.cast(tf.greater(randomUniform(h.shape), this.dropout), "float32"), 1 - this.dropout));
      return this.head.apply(h); // [B·T, V]
    });
  }

  loss(batch: Batch): tf.Scalar {
    return tf.tidy(() => {
      const labels = tf.oneHot(tf.reshape(batch.targets, [-1]), this.vocab); // [B·T, V] (int32 one-hot, cast below)
      return tf.losses.softmaxCrossEntropy(tf.cast(labels, "float32"), this.logits(batch.inputs)) as tf.Scalar;
    });
  }
}

/** A token stream with structure to learn: t_{i+1} = (3·t_i + noise) mod V. */
export function tinyStream(vocab: number, length: number, seed = 1): Int32Array {
  let s = seed;
  const out = new Int32Array(length);
  for (let i = 1; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (3 * out[i - 1] + (s >>> 28 === 0 ? 1 : 0)) % vocab;
  }
  return out;
}
