// Weight-only post-training quantization: a quantized Linear (codes + scales kept, the dequantized weight used in
// float32 matmuls, as weight-only kernels do after unpacking) and quantizeWeights(), which fake-quantizes a module's
// matrices in place for evaluation and can restore them. Reference: GPTQ/AWQ-style weight-only deployment (round to
// nearest here, no error compensation); lib/nn/linear.ts for the layer being replaced.
import * as tf from "@tensorflow/tfjs";
import type { Linear } from "../nn/linear";
import type { Module } from "../nn/module";
import { QuantError, quantError } from "./error";
import { QuantConfig, QuantizedTensor, quantize } from "./quantized-tensor";

/** A Linear layer whose weight is stored quantized: y = x·dequant(W)ᵀ + b (float32 math on the dequantized weight). */
export class QuantLinear {
  /** The dequantized weight [out, in], made once. */
  private readonly dequantized: tf.Tensor2D;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(
    /** The quantized weight [out, in]. */
    readonly weight: QuantizedTensor,
    /** The bias [out] (kept in float32), or null. */
    readonly bias: tf.Tensor1D | null,
  ) {
    if (weight.shape.length !== 2)
      throw new Error(`QuantLinear: weight must have shape [out, in], got [${weight.shape}]`);
    [this.outFeatures, this.inFeatures] = weight.shape;
    this.dequantized = weight.toTensor() as tf.Tensor2D;
  }

  /** Quantizes `linear`'s weight per `config` (the bias is copied as is). */
  static fromLinear(linear: Linear, config: Partial<QuantConfig>): QuantLinear {
    return new QuantLinear(quantize(linear.weight, config), linear.bias ? (linear.bias.clone() as tf.Tensor1D) : null);
  }

  /** x [..., in] → [..., out]. */
  apply(x: tf.Tensor): tf.Tensor {
    return applyLinear("QuantLinear.apply(x)", x, this.inFeatures, this.outFeatures, this.bias, (x2) =>
      tf.matMul(x2, this.dequantized, false, true),
    );
  }

  /** Storage of weight (codes + scales) and bias, in bytes. */
  bytes(): number {
    return this.weight.bytes() + (this.bias ? this.bias.size * 4 : 0);
  }

  dispose(): void {
    this.dequantized.dispose();
    this.bias?.dispose();
  }
}

/**
 * A linear layer's shape handling around `matmul` ([N, in] → [N, out]): x [..., in] → [..., out], plus the bias.
 * Errors name `fn` and the expected shape.
 */
export function applyLinear(
  fn: string,
  x: tf.Tensor,
  inFeatures: number,
  outFeatures: number,
  bias: tf.Tensor1D | null,
  matmul: (x2: tf.Tensor2D) => tf.Tensor2D,
): tf.Tensor {
  if (x.rank < 1 || x.shape[x.rank - 1] !== inFeatures)
    throw new Error(`${fn}: expected shape [..., ${inFeatures}], got [${x.shape}]`);
  return tf.tidy(() => {
    let y: tf.Tensor = matmul(tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D); // [N, out]
    if (bias) y = tf.add(y, bias); // [N, out]
    return tf.reshape(y, [...x.shape.slice(0, -1), outFeatures]); // [..., out]
  });
}

/** One quantized parameter. */
export interface QuantizedParam {
  name: string;
  shape: number[];
  bitsPerWeight: number;
  /** Elements clamped by the format's range. */
  saturated: number;
  error: QuantError;
}

/** What quantizeWeights() did; restore() puts the original values back. */
export interface WeightQuantReport {
  params: QuantizedParam[];
  /** Bits per element of the quantized parameters, scales and zero points included. */
  bitsPerWeight: number;
  /** Storage of every parameter of the module (unquantized ones at 32 bits) in bits. */
  modelBits: number;
  /** fp32 model size / quantized model size, over every parameter. */
  compression: number;
  restore(): void;
}

/** Parameters quantizeWeights() takes by default: matrices (rank 2). */
export function isMatrix(_name: string, v: tf.Variable): boolean {
  return v.rank === 2;
}

/**
 * Replaces every parameter of `module` that `select` accepts (default: every matrix) by dequantize(quantize(·))
 * in place, for post-training-quantization evaluation; returns per-parameter bits and errors and a restore().
 */
export function quantizeWeights(
  module: Module,
  config: Partial<QuantConfig>,
  select: (name: string, v: tf.Variable) => boolean = isMatrix,
): WeightQuantReport {
  const originals = new Map<tf.Variable, tf.Tensor>();
  const params: QuantizedParam[] = [];
  let quantBits = 0;
  let quantCount = 0;
  let modelBits = 0;
  let total = 0;
  for (const [name, v] of module.namedParameters()) {
    total += v.size;
    if (!select(name, v)) {
      modelBits += 32 * v.size;
      continue;
    }
    const values = v.dataSync() as Float32Array;
    const q = quantize(values, config, { shape: v.shape });
    const deq = q.dequantize();
    originals.set(v, v.clone());
    tf.tidy(() => v.assign(tf.tensor(deq, v.shape, "float32")));
    params.push({
      name,
      shape: [...v.shape],
      bitsPerWeight: q.bitsPerWeight(),
      saturated: q.saturated,
      error: quantError(values, deq),
    });
    quantBits += q.bits();
    quantCount += v.size;
    modelBits += q.bits();
  }
  return {
    params,
    bitsPerWeight: quantCount ? quantBits / quantCount : 32,
    modelBits,
    compression: (32 * total) / modelBits,
    restore() {
      for (const [v, original] of originals) {
        v.assign(original);
        original.dispose();
      }
      originals.clear();
    },
  };
}

/** One post-training-quantization setting and what it gave. */
export interface PtqRow {
  label: string;
  /** Bits per quantized weight, scales included. */
  bitsPerWeight: number;
  /** fp32 model size / quantized model size, every parameter counted. */
  compression: number;
  /** The evaluation's result with the quantized weights. */
  metric: number;
  /** Mean DeepGEMM error of the quantized parameters. */
  weightError: number;
}

/**
 * Evaluates `module` once per setting with its selected weights quantized (restored after each), in order.
 * `evaluate` returns the metric (accuracy, loss ...).
 */
export function ptqSweep(
  module: Module,
  settings: readonly { label: string; config: Partial<QuantConfig> }[],
  evaluate: () => number,
  select: (name: string, v: tf.Variable) => boolean = isMatrix,
): PtqRow[] {
  return settings.map(({ label, config }) => {
    const report = quantizeWeights(module, config, select);
    try {
      const metric = evaluate();
      const weightError = report.params.reduce((s, p) => s + p.error.deepgemm, 0) / Math.max(1, report.params.length);
      return { label, bitsPerWeight: report.bitsPerWeight, compression: report.compression, metric, weightError };
    } finally {
      report.restore();
    }
  });
}

/** The post-training-quantization settings the quantization notebook compares (weights only, round to nearest). */
export const PTQ_SETTINGS: readonly { label: string; config: Partial<QuantConfig> }[] = Object.freeze([
  { label: "INT8 per-tensor", config: { format: "int8", granularity: { kind: "tensor" } } },
  { label: "INT8 per-channel", config: { format: "int8", granularity: { kind: "channel" } } },
  { label: "INT4 per-channel", config: { format: "int4", granularity: { kind: "channel" } } },
  {
    label: "INT4 g128 (fp16 scales)",
    config: { format: "int4", granularity: { kind: "group", size: 128 }, scaleFormat: "fp16" },
  },
  { label: "E4M3 per-tensor", config: { format: "e4m3", granularity: { kind: "tensor" } } },
  { label: "E4M3 per-channel", config: { format: "e4m3", granularity: { kind: "channel" } } },
  { label: "E4M3 1x128", config: { format: "e4m3", granularity: { kind: "group", size: 128 } } },
  { label: "E4M3 128x128", config: { format: "e4m3", granularity: { kind: "block", size: 128 } } },
  { label: "E5M2 per-tensor", config: { format: "e5m2", granularity: { kind: "tensor" } } },
  { label: "E5M2 1x128", config: { format: "e5m2", granularity: { kind: "group", size: 128 } } },
  { label: "E5M2 128x128", config: { format: "e5m2", granularity: { kind: "block", size: 128 } } },
] as const);
