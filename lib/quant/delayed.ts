// Delayed scaling: the scale for this step comes from the largest amax of the previous `historyLength` steps
// (times 2^-margin headroom), and this step's amax joins the history — so quantizing needs no extra pass over the
// data, at the price of clamping when a tensor grows faster than its history. Reference: NVIDIA Transformer Engine
// DelayedScaling recipe (amax_history_len, amax_compute_algo "max", margin); DeepSeek-V3 §3.3.2 argues for current
// (online) fine-grained scales instead.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, withDefaults } from "../check";
import { formatMax } from "./formats";
import { blockLayout } from "./granularity";
import { QuantConfig, QuantizedTensor, blockAmax, quantize, resolveQuantConfig } from "./quantized-tensor";
import { symmetricScales } from "./scales";

/** Delayed-scaling settings. */
export interface DelayedScalingConfig {
  /** Steps of amax history kept. */
  historyLength: number;
  /** Scales are multiplied by 2^margin (headroom against growth). */
  margin: number;
}

export const DEFAULT_DELAYED_SCALING: Readonly<DelayedScalingConfig> = Object.freeze({ historyLength: 16, margin: 0 });

/** Quantizes a stream of same-shaped tensors with scales from the amax history of the previous calls. */
export class DelayedScaling {
  readonly config: DelayedScalingConfig;
  readonly quant: QuantConfig;
  /** Per-block amax of the last calls, oldest first. */
  readonly history: Float32Array[] = [];

  constructor(quant: Partial<QuantConfig> = {}, config: Partial<DelayedScalingConfig> = {}) {
    this.quant = resolveQuantConfig("DelayedScaling(quant)", { ...quant, symmetric: true });
    this.config = withDefaults("DelayedScaling(quant, config)", DEFAULT_DELAYED_SCALING, config);
    checkPositiveInt("DelayedScaling", "historyLength", this.config.historyLength);
    if (!Number.isFinite(this.config.margin))
      throw new Error(`DelayedScaling: margin must be a finite number, got ${this.config.margin}`);
  }

  /** Quantizes x with the history's scales (the first call uses its own amax), then records x's amax. */
  quantize(x: tf.Tensor | Float32Array, shape?: readonly number[]): QuantizedTensor {
    const fn = "DelayedScaling.quantize(x)";
    const values = x instanceof tf.Tensor ? (x.dataSync() as Float32Array) : x;
    const dims = x instanceof tf.Tensor ? x.shape : (shape ?? [values.length]);
    const layout = blockLayout(fn, dims, this.quant.granularity);
    const amax = blockAmax(values, layout);
    if (this.history.length && this.history[0].length !== amax.length) {
      throw new Error(
        `${fn}: x has ${amax.length} scale blocks, the history ${this.history[0].length}; use one DelayedScaling per tensor`,
      );
    }
    const reference = this.history.length ? amax.map((_, b) => Math.max(...this.history.map((h) => h[b]))) : amax;
    const scaled = reference.map((a) => a * 2 ** this.config.margin);
    const scales = symmetricScales(
      fn,
      scaled,
      formatMax(this.quant.format),
      this.quant.pow2Scales,
      this.quant.scaleFormat,
    );
    this.history.push(amax);
    if (this.history.length > this.config.historyLength) this.history.shift();
    return quantize(values, this.quant, { shape: dims, scales });
  }
}
