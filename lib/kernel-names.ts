// Names and attributes of the lab's own tfjs kernels, in one neutral file: the ops that run them (lib/ops, lib/moe)
// and the backend that implements them (lib/native/kernels) both import from here, never from each other. Every name
// starts with "Moelab" (tfjs's own kernels have plain names: "Sum", "BatchMatMul"). Reference: tfjs-core
// src/kernel_names.ts (kernel names and attribute interfaces side by side, imported by ops and backends alike).

/** The fused ops' kernels (lib/ops: activations, RMSNorm, SwiGLU gate, cross-entropy) and their gradients. */
export const FUSED_KERNELS = Object.freeze({
  activation: "MoelabActivation",
  activationGrad: "MoelabActivationGrad",
  rmsNorm: "MoelabRmsNorm",
  rmsNormGrad: "MoelabRmsNormGrad",
  rmsNormGainGrad: "MoelabRmsNormGainGrad",
  /** Residual add + RMSNorm: outputs [x + residual, rmsNorm(x + residual)]; gradients via rmsNormGrad/rmsNormGainGrad. */
  addRmsNorm: "MoelabAddRmsNorm",
  crossEntropy: "MoelabCrossEntropy",
  crossEntropyGrad: "MoelabCrossEntropyGrad",
  swigluGate: "MoelabSwigluGate",
  swigluGateGradA: "MoelabSwigluGateGradA",
  swigluGateGradB: "MoelabSwigluGateGradB",
});

/**
 * Fused causal attention (lib/ops/causal-attention.ts): the forward returns [out, lse] (lse: each query row's
 * log-sum-exp, saved for the backward), the gradient kernel [dq, dk, dv]. Attributes: CausalAttentionAttrs.
 */
export const ATTENTION_KERNELS = Object.freeze({
  forward: "MoelabCausalAttention",
  backward: "MoelabCausalAttentionGrad",
});

/**
 * Decode attention over a KV cache's slot buffers (lib/ops/slot-attention.ts): inputs q, k, v, queryPositions,
 * keyPositions; one output. Attributes: SlotAttentionAttrs.
 */
export const SLOT_ATTENTION_KERNEL = "MoelabSlotAttention";

/** Attributes of the slot-attention kernel: softmax scale, value columns read, sliding window (0 = none), global tokens. */
export interface SlotAttentionAttrs {
  scale: number;
  dv: number;
  window: number;
  globalTokens: number;
  [name: string]: number;
}

/** Fused RoPE (lib/ops/rotary.ts): rotates x [B, H, T, dh] by cos/sin [T, dh/2]; attrs { interleaved, inverse }. */
export const ROTARY_KERNEL = "MoelabRotary";

/** Attributes of the attention kernels: softmax scale, the position of query 0, sliding window (0 = none), global tokens. */
export interface CausalAttentionAttrs {
  scale: number;
  kOffset: number;
  window: number;
  globalTokens: number;
  [name: string]: number;
}

/** The activation kernels' `activation` attribute values; the index is the native code (native/src/fused.cc). */
export const FUSED_ACTIVATIONS = Object.freeze(["gelu", "silu"] as const);
export type FusedActivationName = (typeof FUSED_ACTIVATIONS)[number];

/**
 * The bf16 product (lib/ops/matmul-bf16.ts): out [m, n] = bf16(op(a)) · bf16(op(b)), fp32 accumulation; inputs a, b;
 * attributes transposeA, transposeB (BatchMatMul's meaning). Implemented by the native backend on AMX or AVX512-BF16.
 */
export const BF16_MATMUL_KERNEL = "MoelabMatMulBf16";

/** Attributes of the bf16 product kernel. */
export interface MatMulBf16Attrs {
  transposeA: boolean;
  transposeB: boolean;
  [name: string]: boolean;
}

/** The MoE kernels (lib/moe/ops.ts): dispatch, combine, the combine weights' gradient, the grouped expert matmul. */
export const MOE_KERNELS = Object.freeze({
  dispatch: "MoelabMoeDispatch",
  combine: "MoelabMoeCombine",
  slotDot: "MoelabMoeSlotDot",
  groupedMatMul: "MoelabMoeGroupedMatMul",
});

/** What the dispatch, combine and slot-dot kernels read of a routing plan (lib/moe/plan.ts RoutingPlan). */
export interface KernelRoutingPlan {
  /** Tokens T. */
  nTokens: number;
  /** Kept slots M (sorted by expert). */
  nSlots: number;
  /** Token of each slot, [M]. */
  slotToken: Int32Array;
  /** CSR of the slots each token reads: token t owns tokenSlots[tokenStart[t] .. tokenStart[t+1]), [T + 1]. */
  tokenStart: Int32Array;
  /** Slots grouped by token (each token's in pair order), [M]. */
  tokenSlots: Int32Array;
}

/** Attributes of the dispatch, combine and slot-dot kernels: the plan travels as a (host) attribute. */
export interface PlanAttrs {
  plan: KernelRoutingPlan;
}

/**
 * Grouped matmul layouts, segment e = rows [offsets[e], offsets[e+1]):
 * "nt": out[seg] = a[seg]·b[e]ᵀ (a [M, in], b [E, out, in] → [M, out]);
 * "nn": out[seg] = a[seg]·b[e]  (a [M, out], b [E, out, in] → [M, in]);
 * "tn": out[e] = a[seg]ᵀ·b[seg] (a [M, out], b [M, in] → [E, out, in]).
 */
export type GroupedMode = "nt" | "nn" | "tn";

/** Attributes of the grouped matmul kernel. */
export interface GroupedAttrs {
  offsets: number[];
  mode: GroupedMode;
}

/** The quantized-inference kernels (lib/quant/dequant-matmul.ts). */
export const QUANT_KERNELS = Object.freeze({
  dequantMatMul: "MoelabDequantMatMul",
});

/** A weight-only quantized matrix [n, k] as the dequant-matmul kernel reads it (lab.quant's QuantizedTensor fields). */
export interface KernelQuantWeight {
  /** 0 = INT8 symmetric, 1 = INT4 symmetric (two codes per byte, low nibble first), 2 = FP8 E4M3, 3 = FP8 E5M2. */
  format: 0 | 1 | 2 | 3;
  codes: Int8Array | Uint8Array;
  /** Dequant multipliers, one per groupRows × groupCols block of the [n, k] matrix. */
  scales: Float32Array;
  /** FP8: the value of each of the 256 codes (the kernel reads its NaN/Inf codes here); else null. */
  lut: Float32Array | null;
  n: number;
  k: number;
  groupRows: number;
  groupCols: number;
}

/** Attributes of the dequant-matmul kernel (x [M, k] · dequant(w)ᵀ → [M, n]): the weight travels as a host attribute. */
export interface DequantMatMulAttrs {
  weight: KernelQuantWeight;
}
