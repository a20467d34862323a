// LoRA modules: the low-rank update W x + (α/r)·B A x on a Linear (activations path, with input dropout) and on routed
// experts' stacked projections (one A, B per expert, applied to the weight: W_e + (α/r)·B_e A_e). The base they add to
// is the layer's frozen variable or, for QLoRA, a frozen quantized copy dequantized on use (in the forward pass and
// again in the backward pass). Reference: Hu et al. 2021 eq. (3); HF PEFT tuners/lora/layer.py (Linear.forward,
// get_delta_weight, merge/unmerge); Dettmers et al. 2023 (QLoRA) eq. (5).
import * as tf from "@tensorflow/tfjs";
import type { Linear, LinearHook } from "../nn/linear";
import { Module } from "../nn/module";
import type { ExpertProjection, ExpertsHook, RoutedExperts } from "../moe/experts";
import type { QuantizedTensor } from "../quant/quantized-tensor";
import { randomNormal, randomUniform } from "../random";
import { LoraConfig, loraScale } from "./config";

/** One LoRA factor: a trainable matrix named "weight" (PEFT's lora_A.weight / lora_B.weight). */
export class LoraFactor extends Module {
  readonly weight: tf.Variable;
  constructor(init: tf.Tensor) {
    super();
    this.weight = this.param("weight", init);
  }
}

/** State an adapter shares with its modules: training (dropout on) or evaluation. */
export interface LoraMode {
  training: boolean;
}

/** A's initial values, shape [..., r, in]: PEFT's Kaiming-uniform (a = √5 gives U(±1/√in)) or Gaussian N(0, 1/r). */
function initA(shape: number[], c: LoraConfig): tf.Tensor {
  const fanIn = shape[shape.length - 1];
  return c.init === "gaussian"
    ? randomNormal(shape, 0, 1 / c.r)
    : randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
}

/** Inverted dropout with a mask from the lab's seeded stream: x·m/(1 − rate), m ~ Bernoulli(1 − rate). */
function dropout(x: tf.Tensor, rate: number): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.div(tf.cast(tf.greaterEqual(randomUniform(x.shape), rate), "float32"), 1 - rate)));
}

/** x2 [N, in] · dequant(q)ᵀ; the gradient to x2 dequantizes q again (nothing of q is trained or kept between passes). */
export function quantizedMatmul(x2: tf.Tensor2D, q: QuantizedTensor): tf.Tensor2D {
  const op = tf.customGrad((x) => {
    const w = q.toTensor(); // [out, in]
    const value = tf.matMul(x as tf.Tensor2D, w, false, true); // [N, out]
    w.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.matMul(dy as tf.Tensor2D, q.toTensor() as tf.Tensor2D)),
    }; // [N, in]
  });
  return op(x2) as tf.Tensor2D;
}

/** LoRA on one Linear: y = x·W₀ᵀ + (α/r)·dropout(x)·Aᵀ·Bᵀ, A [r, in], B [out, r] (zero at first). */
export class LoraLinear extends Module implements LinearHook {
  readonly lora_A: LoraFactor; // [r, in]
  readonly lora_B: LoraFactor; // [out, r]
  readonly scale: number;
  /** True while B·A is folded into the base weight (the hook then computes the base product only). */
  merged = false;

  constructor(
    readonly layer: Linear,
    private readonly config: LoraConfig,
    private readonly mode: LoraMode,
    /** A frozen quantized copy of the base weight to compute with (QLoRA), or null for the layer's own weight. */
    readonly quantizedBase: QuantizedTensor | null,
  ) {
    super();
    this.lora_A = this.child("lora_A", new LoraFactor(initA([config.r, layer.inFeatures], config)));
    this.lora_B = this.child("lora_B", new LoraFactor(tf.zeros([layer.outFeatures, config.r])));
    this.scale = loraScale(config);
  }

  /** x2 [N, in] → [N, out]. */
  matmul(x2: tf.Tensor2D, layer: Linear): tf.Tensor2D {
    return tf.tidy((): tf.Tensor2D => {
      const base = this.quantizedBase
        ? quantizedMatmul(x2, this.quantizedBase)
        : tf.matMul(x2, layer.weight, false, true); // [N, out]
      if (this.merged) return base as tf.Tensor2D;
      const xa = this.mode.training && this.config.dropout > 0 ? dropout(x2, this.config.dropout) : x2; // [N, in]
      const low = tf.matMul(xa, this.lora_A.weight, false, true); // [N, r]
      return tf.add(base, tf.mul(tf.matMul(low, this.lora_B.weight, false, true), this.scale)) as tf.Tensor2D; // [N, out]
    });
  }

  /**
   * W₀ + (α/r)·B·A [out, in] (W₀ alone when merged; W₀ dequantized for QLoRA): the matrix for paths that use the weight
   * itself (MLA's absorbed attention). No dropout here: it acts on the adapter's input, which such paths never form.
   */
  weight(layer: Linear): tf.Tensor2D {
    return tf.tidy(() => {
      const base = (this.quantizedBase ? this.quantizedBase.toTensor() : layer.weight) as tf.Tensor2D; // [out, in]
      return this.merged ? tf.clone(base) : (tf.add(base, this.deltaWeight()) as tf.Tensor2D); // [out, in]
    });
  }

  /** (α/r)·B·A [out, in]: what merging adds to the weight. */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(this.lora_B.weight, this.lora_A.weight), this.scale) as tf.Tensor2D); // [out, in]
  }
}

/**
 * LoRA on one stacked projection of routed experts: W_e + (α/r)·B_e·A_e for every expert e, A [E, r, in], B [E, out, r]
 * (each expert its own adapter). The update is applied to the weight, so the adapter's input dropout has no place
 * here (config.dropout must be 0 for expert targets).
 */
export class LoraExperts extends Module implements ExpertsHook {
  readonly lora_A: LoraFactor; // [E, r, in]
  readonly lora_B: LoraFactor; // [E, out, r]
  readonly scale: number;
  merged = false;

  constructor(
    readonly experts: RoutedExperts,
    readonly projection: ExpertProjection,
    config: LoraConfig,
    /** A frozen quantized copy of the [E, out, in] base weight (QLoRA), or null for the variable. */
    readonly quantizedBase: QuantizedTensor | null,
  ) {
    super();
    const [E, out, inner] = experts[projection].shape;
    this.lora_A = this.child("lora_A", new LoraFactor(initA([E, config.r, inner], config)));
    this.lora_B = this.child("lora_B", new LoraFactor(tf.zeros([E, out, config.r])));
    this.scale = loraScale(config);
  }

  /** The [E, out, in] weight the experts compute with. */
  weight(name: ExpertProjection, experts: RoutedExperts): tf.Tensor3D {
    return tf.tidy(() => {
      const base = (this.quantizedBase ? this.quantizedBase.toTensor() : experts[name]) as tf.Tensor3D; // [E, out, in]
      return this.merged ? tf.clone(base) : (tf.add(base, this.deltaWeight()) as tf.Tensor3D); // [E, out, in]
    });
  }

  /** (α/r)·B_e·A_e for every expert [E, out, in]. */
  deltaWeight(): tf.Tensor3D {
    return tf.tidy(() => tf.mul(tf.matMul(this.lora_B.weight, this.lora_A.weight), this.scale) as tf.Tensor3D); // [E, out, in]
  }
}
