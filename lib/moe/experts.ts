// Routed experts: E SwiGLU experts w2(silu(w1·x) ⊙ w3·x) with their weights stacked ([E, out, in], torch layout per
// expert), run two ways: dispatch (only routed tokens, one grouped matmul per projection over the expert-sorted buffer)
// and the articles' naive reference (every expert on every token, then select). Reference: DeepSeek-V3 model.py
// Expert/MoE; MegaBlocks grouped GEMM.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { swiGate } from "../nn/swiglu";
import { randomNormal } from "../random";
import { checkPositiveInt, checkShape } from "../check";
import { combine, dispatch, groupedMatMul } from "./ops";
import type { RoutingPlan } from "./plan";
import { scatterAddRows } from "./rows";

/** The stacked projections of the routed experts. */
export const EXPERT_PROJECTIONS = Object.freeze(["w1", "w2", "w3"] as const);
export type ExpertProjection = (typeof EXPERT_PROJECTIONS)[number];

/** Supplies the weight a projection computes with (lab.adapt: base + per-expert LoRA, or a dequantized frozen base). */
export interface ExpertsHook {
  /** The [E, out, in] weight to use for `name`. */
  weight(name: ExpertProjection, experts: RoutedExperts): tf.Tensor3D;
  /**
   * Optional: the dispatch path's grouped product itself over the expert-sorted rows (xs [M, in], segment e = rows
   * [offsets[e], offsets[e+1]) → [M, out]), reading only the routed experts' weights (lab.quant.quantizeModel).
   */
  matmul?(xs: tf.Tensor2D, name: ExpertProjection, offsets: readonly number[]): tf.Tensor2D;
}

export class RoutedExperts extends Module {
  readonly w1: tf.Variable; // [E, hidden, dim]
  readonly w2: tf.Variable; // [E, dim, hidden]
  readonly w3: tf.Variable; // [E, hidden, dim]
  /** Per projection, a hook that supplies its weight in place of the variable (absent = the variable). */
  readonly hooks: Partial<Record<ExpertProjection, ExpertsHook>> = {};

  /** `initStd` null = 1/sqrt(fan-in) per projection. */
  constructor(
    readonly nExperts: number,
    readonly dim: number,
    readonly hidden: number,
    initStd: number | null = null,
  ) {
    super();
    checkPositiveInt("RoutedExperts", "nExperts", nExperts);
    checkPositiveInt("RoutedExperts", "dim", dim);
    checkPositiveInt("RoutedExperts", "hidden", hidden);
    this.w1 = this.param("w1", randomNormal([nExperts, hidden, dim], 0, initStd ?? 1 / Math.sqrt(dim)));
    this.w2 = this.param("w2", randomNormal([nExperts, dim, hidden], 0, initStd ?? 1 / Math.sqrt(hidden)));
    this.w3 = this.param("w3", randomNormal([nExperts, hidden, dim], 0, initStd ?? 1 / Math.sqrt(dim)));
  }

  /** The weight projection `name` computes with: the hook's, or the variable. */
  weightOf(name: ExpertProjection): tf.Tensor3D {
    const hook = this.hooks[name];
    return hook ? hook.weight(name, this) : (this[name] as tf.Tensor3D);
  }

  /** Expert e applied to segment e of the expert-sorted rows: xs [M, dim], offsets [E + 1] → [M, dim]. */
  applySorted(xs: tf.Tensor2D, offsets: readonly number[]): tf.Tensor2D {
    return tf.tidy(() => {
      const mm = (a: tf.Tensor2D, p: ExpertProjection) => {
        const hook = this.hooks[p];
        return hook?.matmul ? hook.matmul(a, p, offsets) : groupedMatMul(a, this.weightOf(p), offsets); // [M, out]
      };
      const h = swiGate(mm(xs, "w1"), mm(xs, "w3")); // [M, hidden]
      return mm(h, "w2"); // [M, dim]
    });
  }

  /** Routed output Σ_slots w·E_e(x) by dispatch: x [T, dim], slot weights [M] → [T, dim]. */
  apply(x: tf.Tensor2D, slotWeights: tf.Tensor1D, plan: RoutingPlan): tf.Tensor2D {
    checkShape("RoutedExperts.apply", "x", x.shape, [{ tokens: plan.nTokens }, { dim: this.dim }]);
    return tf.tidy(() => combine(this.applySorted(dispatch(x, plan), plan.offsets), slotWeights, plan)); // [T, dim]
  }

  /** Every expert on every token (the articles' reference): x [T, dim] → [E, T, dim]. */
  applyAll(x: tf.Tensor2D): tf.Tensor3D {
    checkShape("RoutedExperts.applyAll", "x", x.shape, ["T", { dim: this.dim }]);
    const [E, d, h] = [this.nExperts, this.dim, this.hidden];
    const T = x.shape[0];
    return tf.tidy(() => {
      const a1 = tf.matMul(x, this.weightOf("w1").reshape([E * h, d]), false, true).reshape([T, E, h]); // [T, E, h]
      const a3 = tf.matMul(x, this.weightOf("w3").reshape([E * h, d]), false, true).reshape([T, E, h]); // [T, E, h]
      const act = tf.transpose(swiGate(a1, a3), [1, 0, 2]); // [E, T, h]
      return tf.matMul(act, this.weightOf("w2"), false, true) as tf.Tensor3D; // [E, T, d]
    });
  }

  /**
   * The naive reference of apply(): all experts on all tokens, then each token's selected outputs weighted by a
   * dense [T, E] gate matrix built from the same plan (dropped pairs weigh 0). Equal to apply() up to rounding.
   */
  applyNaive(x: tf.Tensor2D, slotWeights: tf.Tensor1D, plan: RoutingPlan): tf.Tensor2D {
    checkShape("RoutedExperts.applyNaive", "x", x.shape, [{ tokens: plan.nTokens }, { dim: this.dim }]);
    const [T, E] = [plan.nTokens, this.nExperts];
    return tf.tidy(() => {
      const cell = new Int32Array(plan.nSlots); // slot → t·E + e
      for (let e = 0; e < E; e++)
        for (let s = plan.offsets[e]; s < plan.offsets[e + 1]; s++) cell[s] = plan.slotToken[s] * E + e;
      const dense = scatterAddRows(slotWeights, cell, T * E).reshape([T, E, 1]); // [T, E, 1]
      const all = tf.transpose(this.applyAll(x), [1, 0, 2]); // [T, E, d]
      return tf.sum(tf.mul(dense, all), 1) as tf.Tensor2D; // [T, d]
    });
  }
}
