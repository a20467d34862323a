// Trainable vs total parameters and the memory training needs: weights (fp32, or a QLoRA target's 4-bit codes and
// scales), gradients (fp32, trainable only) and AdamW's state (m and v in fp32: 8 bytes per trainable parameter).
// And the same count at paper scale from a published shape (lab.plan.SHAPES). Reference: Hu et al. 2021 §4.2, §7.1
// (|Θ| = 2·L̂·d·r; GPT-3 175B: 18M at r = 4 on Wq, Wv); Dettmers et al. 2023 §2 (QLoRA memory).
import type { Module } from "../nn/module";
import { shapeParams } from "../plan/shapes";
import type { ModelShape } from "../plan/shapes";
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
    if (adapter.model !== model)
      throw new Error("trainingFootprint(model, adapter): the adapter belongs to another model");
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
  return {
    totalParams,
    trainableParams,
    trainableFraction: trainableParams / totalParams,
    weightBytes,
    gradientBytes,
    optimizerBytes,
    totalBytes: weightBytes + gradientBytes + optimizerBytes,
  };
}

/**
 * LoRA parameters for weight matrices of shapes [out, in] at rank r: Σ r·(in + out) (the paper's |Θ| = 2·L̂·d·r when
 * out = in = d). For a paper-scale count from a config, without building the model.
 */
export function loraParamCount(shapes: readonly (readonly [number, number])[], r: number): number {
  if (!(Number.isSafeInteger(r) && r > 0))
    throw new Error(`loraParamCount(shapes, r): r must be an integer > 0, got ${r}`);
  return shapes.reduce((s, [out, inner]) => s + r * (out + inner), 0);
}

/** Attention projections LoRA can target in a published shape: MHA's wq/wk/wv/wo, MLA's wq_a/wq_b (or wq)/wkv_a/wkv_b/wo. */
export type AttentionProjection = "wq" | "wk" | "wv" | "wo" | "wq_a" | "wq_b" | "wkv_a" | "wkv_b";

/** [out, in] of one attention projection of `shape` (one layer); errors name a projection the attention kind lacks. */
export function projectionShape(shape: ModelShape, name: AttentionProjection): [number, number] {
  const d = shape.hidden;
  const h = shape.heads;
  const a = shape.attention;
  const fn = `projectionShape(shape, "${name}")`;
  if (a.kind === "mha") {
    const dh = d / h;
    const table: Partial<Record<AttentionProjection, [number, number]>> = {
      wq: [d, d],
      wk: [a.kvHeads * dh, d],
      wv: [a.kvHeads * dh, d],
      wo: [d, d],
    };
    const s = table[name];
    if (!s) throw new Error(`${fn}: ${shape.name} has multi-head attention (wq, wk, wv, wo)`);
    return s;
  }
  const qk = a.qkNopeDim + a.qkRopeDim;
  const table: Partial<Record<AttentionProjection, [number, number]>> = {
    wkv_a: [a.kvLoraRank + a.qkRopeDim, d],
    wkv_b: [h * (a.qkNopeDim + a.vDim), a.kvLoraRank],
    wo: [d, h * a.vDim],
    ...(a.qLoraRank > 0 ? { wq_a: [a.qLoraRank, d], wq_b: [h * qk, a.qLoraRank] } : { wq: [h * qk, d] }),
  };
  const s = table[name];
  if (!s) throw new Error(`${fn}: ${shape.name}'s MLA has ${Object.keys(table).join(", ")}`);
  return s;
}

/** LoRA on a published shape's attention projections in every layer. */
export interface LoraArithmetic {
  /** Adapter parameters: Σ over layers and targets of r·(in + out). */
  trainable: number;
  /** The model's parameters (lab.plan.shapeParams). */
  total: number;
  /** total / trainable. */
  reduction: number;
  /** Full fine-tuning with mixed-precision AdamW: 16 bytes per parameter (fp16 weight and gradient, fp32 master, m, v). */
  fullBytes: number;
  /** LoRA: the frozen base in fp16 (2 bytes per parameter) plus 16 bytes per adapter parameter. */
  loraBytes: number;
}

/** Trainable parameters and training-state memory of LoRA at rank `r` on `targets` in every layer of `shape`. */
export function loraArithmetic(shape: ModelShape, targets: readonly AttentionProjection[], r: number): LoraArithmetic {
  const perLayer = targets.map((t) => projectionShape(shape, t));
  const trainable = shape.layers * loraParamCount(perLayer, r);
  const total = shapeParams(shape).total;
  return {
    trainable,
    total,
    reduction: total / trainable,
    fullBytes: 16 * total,
    loraBytes: 2 * total + 16 * trainable,
  };
}
