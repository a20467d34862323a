// FLOP counting, in one place: GEMMs, MLP and language-model train steps, MoE layer forwards. Counts are matmul
// FLOPs only, 2 per multiply-add; a train step = forward + backward ≈ 3 × forward (gradients to inputs and weights).
// Reference: Kaplan et al. 2020, "Scaling Laws for Neural Language Models", §2.1 (C ≈ 6·N per token + attention).
import type { LMConfig } from "./model/config";
import type { MoEConfig } from "./moe/config";
import { moeParamCounts } from "./moe/config";

/** 2·batch·m·n·k: C[b] (m×n) = A[b] (m×k) · B[b] (k×n) for b < batch. */
export function gemmFlops(s: { batch: number; m: number; n: number; k: number }): number {
  return 2 * s.batch * s.m * s.n * s.k;
}

/** Train step of a dense MLP with layer widths `widths` (input first) on `batchSize` rows: 3 · 2·B·Σ in·out. */
export function mlpStepFlops(widths: readonly number[], batchSize: number): number {
  let macs = 0;
  for (let i = 0; i + 1 < widths.length; i++) macs += widths[i] * widths[i + 1];
  return 3 * 2 * batchSize * macs;
}

/**
 * Train step of the language model `c` on B sequences of T tokens (N = B·T): per block the fused qkv and output
 * projections 2·N·4d², attention scores and mixing 2·2·B·T²·d, the FFN (dense SwiGLU 2·N·3·d·ffnHidden; MoE: the
 * parameters a token uses, 2·N·active, dropless); the head 2·N·d·V; all × 3 for the backward pass.
 */
export function lmStepFlops(c: LMConfig, batchSize: number, seqLen: number): number {
  const n = batchSize * seqLen;
  const d = c.dim;
  const attention = 2 * n * 4 * d * d + 2 * 2 * batchSize * seqLen * seqLen * d;
  const denseFfn = 2 * n * 3 * d * c.ffnHidden;
  const moeLayers = c.ffn === "moe" ? c.nLayers - c.nDenseLayers : 0;
  const moeFfn = moeLayers ? 2 * n * moeParamCounts(d, c.moe as MoEConfig).active : 0;
  return (
    3 * (c.nLayers * attention + (c.nLayers - moeLayers) * denseFfn + moeLayers * moeFfn + 2 * n * d * c.vocabSize)
  );
}

/** What moeForwardFlops reads of an MoE layer (lab.moe.MoELayer has it). */
export interface MoEShape {
  config: Pick<MoEConfig, "nRouted" | "nShared" | "impl">;
  /** Model width. */
  dim: number;
  /** One routed expert's hidden width. */
  hidden: number;
}

/** The gate's and the experts' forward matmul FLOPs (moeForwardFlops is their sum). */
function moeForwardParts(layer: MoEShape, tokens: number, slots: number): { gate: number; experts: number } {
  const { nRouted, nShared, impl } = layer.config;
  const [d, h] = [layer.dim, layer.hidden];
  const routedRows = impl === "naive" ? tokens * nRouted : slots; // naive runs every expert on every token
  return { gate: 2 * tokens * d * nRouted, experts: 3 * 2 * routedRows * d * h + 3 * 2 * tokens * d * nShared * h };
}

/** Matmul FLOPs of one MoE forward over `tokens` tokens, with `slots` routed (token, expert) pairs (dispatch: kept slots). */
export function moeForwardFlops(layer: MoEShape, tokens: number, slots: number): number {
  const { gate, experts } = moeForwardParts(layer, tokens, slots);
  return gate + experts;
}

/**
 * Matmul FLOPs of lab.experiments.moeStep: the forward and the gradients of the layer's parameters only (its input is
 * not trained, so no product towards it runs): the gate's weight gradient (1 product to its forward's 1), and per
 * SwiGLU expert the three weight gradients and the gradient into w2's input (4 products to the forward's 3).
 */
export function moeStepFlops(layer: MoEShape, tokens: number, slots: number): number {
  const { gate, experts } = moeForwardParts(layer, tokens, slots);
  return 2 * gate + (7 / 3) * experts;
}
