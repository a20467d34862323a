// Custom differentiable ops and the gradients tfjs lacks, registered for every backend on import (DESIGN.md §1 "ops",
// §2 "tfjs gaps").
import { maximumGradConfig, minimumGradConfig, squaredDifferenceGradConfig } from "./broadcast-grads";
import { cumsumGradConfig } from "./cumsum";
import { gatherGradConfig } from "./gather";
import { gatherNdGradConfig, scatterNdGradConfig } from "./gather-scatter-nd";
import { ensureGradient, ensureKernel } from "./registry";
import { topkGradConfig } from "./topk";
import { wasmUnsortedSegmentSumConfig } from "./wasm-segment-sum";

/** The gradients this module adds to (or fixes in) tfjs's registry, one per kernel. */
export const GRADIENTS = Object.freeze([
  topkGradConfig,
  cumsumGradConfig,
  gatherGradConfig,
  gatherNdGradConfig,
  scatterNdGradConfig,
  maximumGradConfig,
  minimumGradConfig,
  squaredDifferenceGradConfig,
]);

/** Kernels those gradients need where a backend lacks them (wasm has no UnsortedSegmentSum, tf.gather's gradient). */
export const GRADIENT_KERNELS = Object.freeze([wasmUnsortedSegmentSumConfig]);

/**
 * Registers the lab's gradients (TopK, Cumsum, GatherV2, GatherNd, ScatterNd, and broadcasting Maximum, Minimum,
 * SquaredDifference) for every backend, and the kernels they
 * need where a backend lacks one. Idempotent; runs when this module is imported, and re-installs any gradient that
 * something else replaced since.
 */
export function registerGradients(): void {
  for (const config of GRADIENTS) ensureGradient(config);
  for (const config of GRADIENT_KERNELS) ensureKernel(config);
}

registerGradients();

export { stopGradient } from "./stop-gradient";
export { topk } from "./topk";
export { cumsum } from "./cumsum";
export { gelu, silu } from "./activations";
export { FUSED_ACTIVATIONS, FUSED_KERNELS } from "../kernel-names";
export type { FusedActivationName } from "../kernel-names";
export { rmsNorm } from "./rms-norm";
export { addRmsNorm } from "./add-rms-norm";
export { swigluGate } from "./swiglu-gate";
export { softmaxCrossEntropy } from "./cross-entropy";
export { causalAttention, visibilityMask } from "./causal-attention";
export { slotAttention } from "./slot-attention";
export type { SlotAttentionOptions } from "./slot-attention";
export { rotary } from "./rotary";
export { matmulBf16 } from "./matmul-bf16";
export type { CausalAttentionOptions } from "./causal-attention";
export { hasFusedKernel, runFused } from "./fused";
