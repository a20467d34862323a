// Trainable vs total parameters and the memory training needs: weights (fp32, or a QLoRA target's 4-bit codes and
// scales), gradients (fp32, trainable only) and AdamW's state (m and v in fp32: 8 bytes per trainable parameter).
// Reference: Hu et al. 2021 §4.2 (trainable parameters, VRAM); Dettmers et al. 2023 §2 (QLoRA memory).
import type { Module } from "../nn/module";
import type { LoraAdapter } from "./adapter";
import { LoraLinear } from "./lora";

/** Bytes per trainable parameter of each kind of training state (fp32 training with AdamW). */
export const FP32_BYTES = 4;
export const ADAMW_STATE_BYTES = 8;

/** Parameters and training memory of a model, with or without an adapter. */
export interface TrainingFootprint {
  /** Base parameters plus adapter parameters. */
  totalParams: number;
  /** Parameters the optimizer updates. */
  trainableParams: number;
  /** trainableParams / totalParams. */
  trainableFraction: number;
  /** Weights as stored: fp32, except quantized bases (codes + scales, QuantizedTensor.bytes()). */
  weightBytes: number;
  /** One fp32 gradient per trainable parameter. */
  gradientBytes: number;
  /** AdamW's m and v per trainable parameter. */
  optimizerBytes: number;
  /** weightBytes + gradientBytes + optimizerBytes. */
  totalBytes: number;
}

/**
 * The footprint of training `model` as it is (full fine-tuning: its trainable parameters) or, with `adapter`, of training
 * the adapter on the frozen (possibly quantized) base.
 */
export function trainingFootprint(model: Module, adapter: LoraAdapter | null = null): TrainingFootprint {
  const params = [...model.namedParameters().values()];
  let weightBytes = params.reduce((s, v) => s + v.size * FP32_BYTES, 0);
  let trainableParams = params.filter((v) => v.trainable).reduce((s, v) => s + v.size, 0);
  let totalParams = params.reduce((s, v) => s + v.size, 0);
  if (adapter) {
    if (adapter.model !== model) throw new Error("trainingFootprint(model, adapter): the adapter belongs to another model");
    for (const [name, q] of adapter.quantizedBases()) {
      const a = adapter.adapterOf(name);
      const base = a instanceof LoraLinear ? a.layer.weight : a.experts[a.projection];
      weightBytes += q.bytes() - base.size * FP32_BYTES;
    }
    const n = adapter.numParams();
    totalParams += n;
    trainableParams = n;
    weightBytes += n * FP32_BYTES;
  }
  const gradientBytes = trainableParams * FP32_BYTES;
  const optimizerBytes = trainableParams * ADAMW_STATE_BYTES;
  return { totalParams, trainableParams, trainableFraction: trainableParams / totalParams, weightBytes, gradientBytes, optimizerBytes, totalBytes: weightBytes + gradientBytes + optimizerBytes };
}

/**
 * LoRA parameters for weight matrices of shapes [out, in] at rank r: Σ r·(in + out) (the paper's |Θ| = 2·L̂·d·r when
 * out = in = d). For a paper-scale count from a config, without building the model.
 */
export function loraParamCount(shapes: readonly (readonly [number, number])[], r: number): number {
  if (!(Number.isSafeInteger(r) && r > 0)) throw new Error(`loraParamCount(shapes, r): r must be an integer > 0, got ${r}`);
  return shapes.reduce((s, [out, inner]) => s + r * (out + inner), 0);
}
