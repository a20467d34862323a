// quantizeModel: swaps a model's Linear products (attention, dense FFN, shared experts, MLA projections) and its routed
// experts' grouped products (each expert's [out, in] matrix quantized on its own, as DeepSeek ships them) for
// weight-only quantized ones in place — INT8 per channel, INT4 g128, FP8 E4M3 with 128×128 block scales — run by the
// fused dequant-matmul kernel, optionally with dynamic per-token activation quantisation (the articles'
// `activation_quant=True`: W8A8, W4A8, FP8 activations in 1×128 tiles). The float32 weights stay (checkpoints,
// restore) but decode reads only the codes, and only of the experts a batch routes to. Left in float32 by default: the
// head and embedding, the router gate, and MLA's wkv_b (its absorbed path folds the weight directly, as DeepSeek's
// model.py dequantises it); the naive all-experts reference (impl "naive") keeps reading the float32 experts.
// Reference: DeepSeek-V3 inference/model.py `linear` (fp8 weights, block scales); lib/quant/weights.ts (PTQ).
import * as tf from "@tensorflow/tfjs";
import { EXPERT_PROJECTIONS, RoutedExperts, type ExpertProjection, type ExpertsHook } from "../moe/experts";
import { Linear } from "../nn/linear";
import type { Module } from "../nn/module";
import { dequantMatmul, type ActivationQuant } from "./dequant-matmul";
import { PER_CHANNEL, type Granularity } from "./granularity";
import { QuantConfig, QuantizedTensor, quantLabel, quantize } from "./quantized-tensor";
import type { ScaleFormat } from "./scales";

/** The weight formats of the decode path. */
export const DECODE_FORMATS = Object.freeze(["int8", "int4", "e4m3"] as const);
export type DecodeFormat = (typeof DECODE_FORMATS)[number];

/** How quantizeModel quantizes. */
export interface QuantizeModelConfig {
  /** "int8" (symmetric), "int4" (symmetric), "e4m3" (FP8). Default "int8". */
  format: DecodeFormat;
  /** Group width along the input dim (e4m3: the block side, 128×g blocks are g×g); null = the format's default:
   *  int8 per output channel, int4 128, e4m3 128. Must divide each quantized layer's input dim. Default null. */
  groupSize: number | null;
  /** Quantize activations per call too (int8 per token for int8/int4 weights: W8A8/W4A8; E4M3 1×128 for e4m3). Default false. */
  activationQuant: boolean;
  /** How scales are stored (counted in the bits; fp16 rounds them). Default "fp32". */
  scaleFormat: ScaleFormat;
  /** Which Linear and RoutedExperts modules (by dotted name) to quantize. Default: all except "head" and MLA's "wkv_b". */
  select: (name: string, module: Linear | RoutedExperts) => boolean;
}

/** Default selection: every Linear but the output head and MLA's wkv_b. */
export function defaultDecodeSelect(name: string): boolean {
  const leaf = name.split(".").pop();
  return leaf !== "head" && leaf !== "wkv_b";
}

export const DEFAULT_QUANTIZE_MODEL: Readonly<QuantizeModelConfig> = Object.freeze({
  format: "int8",
  groupSize: null,
  activationQuant: false,
  scaleFormat: "fp32",
  select: defaultDecodeSelect,
});

/** The config merged over the defaults and checked; errors name `fn` and the field. */
export function resolveQuantizeModel(fn: string, config: Partial<QuantizeModelConfig>): QuantizeModelConfig {
  const c = { ...DEFAULT_QUANTIZE_MODEL, ...config };
  if (!DECODE_FORMATS.includes(c.format))
    throw new Error(`${fn}: format must be one of ${DECODE_FORMATS.join(", ")}, got ${JSON.stringify(c.format)}`);
  if (c.groupSize !== null && !(Number.isSafeInteger(c.groupSize) && c.groupSize >= 1)) {
    throw new Error(`${fn}: groupSize must be a positive integer or null, got ${c.groupSize}`);
  }
  if (typeof c.activationQuant !== "boolean")
    throw new Error(`${fn}: activationQuant must be a boolean, got ${String(c.activationQuant)}`);
  if (typeof c.select !== "function") throw new Error(`${fn}: select must be a function (name, linear) => boolean`);
  return c;
}

/** The lab.quant QuantConfig of a decode format (what quantizeWeights would use for the same dequantised weights). */
export function decodeQuantConfig(config: Partial<QuantizeModelConfig> = {}): QuantConfig {
  const c = resolveQuantizeModel("decodeQuantConfig(config)", config);
  const g = c.groupSize ?? (c.format === "int8" ? null : 128);
  const granularity: Granularity =
    g === null ? PER_CHANNEL : c.format === "e4m3" ? { kind: "block", size: g } : { kind: "group", size: g };
  return {
    format: c.format,
    granularity,
    symmetric: true,
    pow2Scales: false,
    scaleFormat: c.scaleFormat,
    saturate: true,
  };
}

/** One quantized weight: a Linear's, or one projection of the routed experts (one QuantizedTensor per expert). */
export interface QuantizedLayer {
  /** The parameter's dotted name ("layers.0.attn.wqkv.weight", "layers.1.ffn.experts.w1"). */
  name: string;
  /** [out, in] of each matrix. */
  shape: [number, number];
  /** The quantized matrices: one for a Linear, E for routed experts (expert e's [out, in]). */
  weights: QuantizedTensor[];
}

/** What quantizeModel did; restore() and activate() switch between the float32 and the quantized products. */
export interface QuantizedModel {
  /** quantLabel of the weights plus the activation mode: "int8 channel", "int4 1x128 W4A8", "e4m3 128x128" ... */
  label: string;
  layers: QuantizedLayer[];
  /** Bytes of the quantized layers' codes + scales. */
  quantizedBytes: number;
  /** Bytes of the same layers in float32. */
  fp32Bytes: number;
  /** Routes the layers through the quantized products again after restore() (quantizeModel leaves them routed). */
  activate(): void;
  /** Puts the float32 products back. */
  restore(): void;
}

/** Expert e's segment of xs through its quantized matrix, segments stacked back: xs [M, in] → [M, out]. */
function groupedDequantMatmul(
  xs: tf.Tensor2D,
  weights: QuantizedTensor[],
  offsets: readonly number[],
  act: ActivationQuant,
): tf.Tensor2D {
  const [out, inF] = weights[0].shape;
  const parts: tf.Tensor2D[] = [];
  for (let e = 0; e < weights.length; e++) {
    const rows = offsets[e + 1] - offsets[e];
    if (rows > 0) parts.push(dequantMatmul(tf.slice(xs, [offsets[e], 0], [rows, inF]), weights[e], act)); // [rows, out]
  }
  return parts.length ? (tf.concat(parts, 0) as tf.Tensor2D) : tf.zeros([0, out]); // [M, out]
}

/**
 * Quantizes the selected Linear and RoutedExperts modules of `model` (any Module: TransformerLM, a block ...) in place:
 * from now on their products run dequantMatmul on the codes. Returns the layers, activate() and restore(). Errors name
 * the layer and the setting. For inference: the quantized products have no gradient with respect to the weights.
 */
export function quantizeModel(model: Module, config: Partial<QuantizeModelConfig> = {}): QuantizedModel {
  const fn = "quantizeModel(model, config)";
  const c = resolveQuantizeModel(fn, config);
  const qc = decodeQuantConfig(c);
  const act: ActivationQuant = c.activationQuant ? (c.format === "e4m3" ? "e4m3" : "int8") : null;
  const quantizeMatrix = (name: string, w: tf.Tensor): QuantizedTensor => {
    if (c.format === "int4" && w.shape[w.rank - 1] % 2)
      throw new Error(`${fn}: int4 needs an even input dim, layer "${name}" has ${w.shape[w.rank - 1]}`);
    try {
      return quantize(w, qc);
    } catch (e) {
      throw new Error(`${fn}: layer "${name}" [${w.shape}]: ${(e as Error).message}`);
    }
  };
  const layers: QuantizedLayer[] = [];
  const routes: (() => void)[] = [];
  const targets = [...model.namedModules()].filter(
    (e): e is [string, Linear | RoutedExperts] =>
      (e[1] instanceof Linear || e[1] instanceof RoutedExperts) && c.select(e[0], e[1]),
  );
  for (const [name, m] of targets) {
    if (m instanceof Linear ? m.hook : Object.keys(m.hooks).length)
      throw new Error(`${fn}: layer "${name}" is already quantized or adapted (restore() it first)`);
    if (m instanceof Linear) {
      const weight = quantizeMatrix(name, m.weight);
      layers.push({ name: `${name}.weight`, shape: [m.outFeatures, m.inFeatures], weights: [weight] });
      routes.push(
        () =>
          (m.hook = { matmul: (x2) => dequantMatmul(x2, weight, act), weight: () => weight.toTensor() as tf.Tensor2D }),
      );
      continue;
    }
    const byProjection = {} as Record<ExpertProjection, QuantizedTensor[]>;
    for (const p of ["w1", "w2", "w3"] as const) {
      const [, out, inF] = m[p].shape;
      const slices = tf.unstack(m[p]); // E × [out, in]
      try {
        byProjection[p] = slices.map((w, e) => quantizeMatrix(`${name}.${p}[${e}]`, w));
      } finally {
        tf.dispose(slices);
      }
      layers.push({ name: `${name}.${p}`, shape: [out, inF], weights: byProjection[p] });
    }
    const hook: ExpertsHook = {
      weight: (p) => tf.tidy(() => tf.stack(byProjection[p].map((w) => w.toTensor())) as tf.Tensor3D), // [E, out, in]
      matmul: (xs, p, offsets) => groupedDequantMatmul(xs, byProjection[p], offsets, act),
    };
    routes.push(() => EXPERT_PROJECTIONS.forEach((p) => (m.hooks[p] = hook)));
  }
  const activate = () => routes.forEach((route) => route());
  activate();
  const label = `${quantLabel(qc)}${act ? (c.format === "int4" ? " W4A8" : c.format === "int8" ? " W8A8" : " +e4m3 act") : ""}`;
  return {
    label,
    layers,
    quantizedBytes: layers.reduce((s, l) => s + l.weights.reduce((t, w) => t + w.bytes(), 0), 0),
    fp32Bytes: layers.reduce((s, l) => s + 4 * l.weights.length * l.shape[0] * l.shape[1], 0),
    activate,
    restore() {
      for (const [, m] of targets) {
        if (m instanceof Linear) m.hook = null;
        else EXPERT_PROJECTIONS.forEach((p) => delete m.hooks[p]);
      }
    },
  };
}
