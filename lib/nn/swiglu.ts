// SwiGLU feed-forward w2(silu(w1·x) ⊙ w3·x) (Shazeer 2020, "GLU Variants Improve Transformer"; DeepSeek-V3 model.py
// MLP/Expert). Weights in torch's [out, in] layout: w1, w3 [hidden, dim], w2 [dim, hidden].
import * as tf from "@tensorflow/tfjs";
import { Module } from "./module";
import { Linear } from "./linear";
import { checkPositiveInt, withDefaults } from "../check";
import { swigluGate } from "../ops";

/** The gated product silu(a) ⊙ b of SwiGLU's two input projections (one fused kernel on `native`, lib/ops). */
export function swiGate<T extends tf.Tensor>(a: T, b: T): T {
  return swigluGate(a, b);
}

/** SwiGLU settings. */
export interface SwiGLUConfig {
  /** Standard deviation of the normal initialisation; null = 1/sqrt(fan-in) per projection. Default null. */
  initStd: number | null;
}

export const DEFAULT_SWIGLU: Readonly<SwiGLUConfig> = Object.freeze({ initStd: null });

export class SwiGLU extends Module {
  readonly w1: Linear; // dim → hidden
  readonly w2: Linear; // hidden → dim
  readonly w3: Linear; // dim → hidden

  constructor(
    readonly dim: number,
    readonly hidden: number,
    config: Partial<SwiGLUConfig> = {},
  ) {
    super();
    checkPositiveInt("SwiGLU", "dim", dim);
    checkPositiveInt("SwiGLU", "hidden", hidden);
    const { initStd } = withDefaults("SwiGLU(dim, hidden, config)", DEFAULT_SWIGLU, config);
    this.w1 = this.child("w1", new Linear(dim, hidden, { initStd }));
    this.w2 = this.child("w2", new Linear(hidden, dim, { initStd }));
    this.w3 = this.child("w3", new Linear(dim, hidden, { initStd }));
  }

  /** x [..., dim] → [..., dim]. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.w2.apply(swiGate(this.w1.apply(x), this.w3.apply(x)))); // [..., dim]
  }
}
