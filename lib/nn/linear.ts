// Linear layer y = x·Wᵀ + b with W stored [out, in] (torch.nn.Linear's and DeepSeek-V3 model.py's layout).
// Initialisation: normal(0, std) with std = initStd ?? 1/sqrt(in) (a scaled default; nanoGPT uses 0.02 fixed).
import * as tf from "@tensorflow/tfjs";
import { Module } from "./module";
import { randomNormal } from "../random";
import { checkPositiveInt, withDefaults } from "../check";
import { linearProduct } from "./precision";

/** Linear layer settings. */
export interface LinearConfig {
  /** Add a learned bias. Default false (DeepSeek's linears have none). */
  bias: boolean;
  /** Standard deviation of the normal initialisation; null = 1/sqrt(inFeatures). Default null. */
  initStd: number | null;
}

export const DEFAULT_LINEAR: Readonly<LinearConfig> = Object.freeze({ bias: false, initStd: null });

/** Takes over a Linear's product x·Wᵀ (bias excluded): an adapter (lab.adapt's LoRA) or a quantized frozen base. */
export interface LinearHook {
  /** x2 [N, in] → [N, out] for `layer`. */
  matmul(x2: tf.Tensor2D, layer: Linear): tf.Tensor2D;
  /** The [out, in] matrix the hook computes with, for code that needs the matrix itself (MLA's absorbed path). */
  weight(layer: Linear): tf.Tensor2D;
}

export class Linear extends Module {
  readonly weight: tf.Variable; // [out, in]
  readonly bias: tf.Variable | null; // [out]
  /** When set, computes x·Wᵀ in place of the plain product (see LinearHook); null = the plain layer. */
  hook: LinearHook | null = null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    config: Partial<LinearConfig> = {},
  ) {
    super();
    checkPositiveInt("Linear", "inFeatures", inFeatures);
    checkPositiveInt("Linear", "outFeatures", outFeatures);
    const cfg = withDefaults("Linear(inFeatures, outFeatures, config)", DEFAULT_LINEAR, config);
    const std = cfg.initStd ?? 1 / Math.sqrt(inFeatures);
    if (!(std >= 0 && Number.isFinite(std)))
      throw new Error(`Linear: initStd must be a finite number ≥ 0, got ${cfg.initStd}`);
    this.weight = this.param("weight", randomNormal([outFeatures, inFeatures], 0, std));
    this.bias = cfg.bias ? this.param("bias", tf.zeros([outFeatures])) : null;
  }

  /** The [out, in] matrix the layer computes with: the hook's (LoRA: W + (α/r)·B·A), else the weight variable. */
  effectiveWeight(): tf.Tensor2D {
    return this.hook ? this.hook.weight(this) : (this.weight as tf.Tensor2D);
  }

  /** x [..., in] → [..., out]. */
  apply(x: tf.Tensor): tf.Tensor {
    const last = x.shape[x.rank - 1];
    if (x.rank < 1 || last !== this.inFeatures) {
      throw new Error(`Linear.apply(x): expected shape [..., ${this.inFeatures}], got [${x.shape}]`);
    }
    // The plain layer on [N, in] is one product and leaves nothing to free: no scope (decode runs many of these).
    if (x.rank === 2 && !this.hook && !this.bias) return linearProduct(x as tf.Tensor2D, this.weight as tf.Tensor2D); // [N, out]
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, this.inFeatures]); // [N, in]
      let y: tf.Tensor = this.hook
        ? this.hook.matmul(x2 as tf.Tensor2D, this)
        : linearProduct(x2 as tf.Tensor2D, this.weight as tf.Tensor2D); // [N, out] (fp32, or bf16 in withMatmulPrecision)
      if (this.bias) y = tf.add(y, this.bias); // [N, out]
      return x.rank === 2 ? y : tf.reshape(y, [...lead, this.outFeatures]); // [..., out]
    });
  }
}
