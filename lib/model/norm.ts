// RMSNorm and LayerNorm over the last axis. References: Zhang & Sennrich, "Root Mean Square Layer Normalization"
// (2019) and DeepSeek-V3 inference/model.py `RMSNorm`; Ba et al., "Layer Normalization" (2016), torch.nn.LayerNorm.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { checkPositiveInt, checkRange } from "../check";
import { rmsNorm } from "../ops/rms-norm";

/** Which normalisation a model uses: "rmsnorm" (LLaMA, DeepSeek) or "layernorm" (GPT-2). */
export type NormKind = "rmsnorm" | "layernorm";

/** The normalisations, for config checks. */
export const NORM_KINDS: readonly NormKind[] = Object.freeze(["rmsnorm", "layernorm"] as NormKind[]);

function checkLastAxis(fn: string, x: tf.Tensor, dim: number): void {
  if (x.rank < 1 || x.shape[x.rank - 1] !== dim)
    throw new Error(`${fn}: expected shape [..., ${dim}], got [${x.shape}]`);
}

/** y = x / sqrt(mean(x²) + eps) · weight, weight initialised to ones. */
export class RMSNorm extends Module {
  readonly weight: tf.Variable; // [dim]

  constructor(
    readonly dim: number,
    readonly eps: number,
  ) {
    super();
    checkPositiveInt("RMSNorm", "dim", dim);
    checkRange("RMSNorm", "eps", eps, 0, 1);
    this.weight = this.param("weight", tf.ones([dim]));
  }

  /** x [..., dim] → [..., dim]. */
  apply(x: tf.Tensor): tf.Tensor {
    checkLastAxis("RMSNorm.apply(x)", x, this.dim);
    return rmsNorm(x, this.weight, this.eps); // [..., dim] (one fused kernel on native, lib/ops)
  }
}

/** y = (x − mean) / sqrt(var + eps) · weight + bias (biased variance, as torch.nn.LayerNorm). */
export class LayerNorm extends Module {
  readonly weight: tf.Variable; // [dim]
  readonly bias: tf.Variable; // [dim]

  constructor(
    readonly dim: number,
    readonly eps: number,
  ) {
    super();
    checkPositiveInt("LayerNorm", "dim", dim);
    checkRange("LayerNorm", "eps", eps, 0, 1);
    this.weight = this.param("weight", tf.ones([dim]));
    this.bias = this.param("bias", tf.zeros([dim]));
  }

  /** x [..., dim] → [..., dim]. */
  apply(x: tf.Tensor): tf.Tensor {
    checkLastAxis("LayerNorm.apply(x)", x, this.dim);
    return tf.tidy(() => {
      const centred = tf.sub(x, tf.mean(x, -1, true)); // [..., dim]
      const variance = tf.mean(tf.square(centred), -1, true); // [..., 1]
      return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, this.eps))), this.weight), this.bias); // [..., dim]
    });
  }
}

/** A norm module of the given kind. */
export function makeNorm(kind: NormKind, dim: number, eps: number): RMSNorm | LayerNorm {
  if (kind === "rmsnorm") return new RMSNorm(dim, eps);
  if (kind === "layernorm") return new LayerNorm(dim, eps);
  throw new Error(`makeNorm: kind must be one of ${NORM_KINDS.join(", ")}, got ${String(kind)}`);
}

/** Parameters of one norm of this kind over `dim` features (weight; plus bias for LayerNorm). */
export function normParams(kind: NormKind, dim: number): number {
  return kind === "layernorm" ? 2 * dim : dim;
}
