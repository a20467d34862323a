// Native MoE kernels (native/src/moe_route.cc, moe_gemm.cc) for the custom ops of lib/moe/ops.ts: dispatch, combine,
// the combine weight gradient and the grouped expert matmul. Inputs are float32 (the ops only pass float32); outputs
// come from the backend's buffer pool and every element is written. Gradients: lib/moe/ops.ts MOE_GRADIENTS.
import type { KernelConfig } from "@tensorflow/tfjs";
import { MOE_KERNELS, type GroupedAttrs, type GroupedMode, type PlanAttrs } from "../../kernel-names";
import { float32Input, nativeKernel } from "./native-kernel";

/** The addon functions these kernels call (native/src/moe_route.cc, moe_gemm.cc). */
export interface MoeAddon {
  moeDispatch(x: Float32Array, slotToken: Int32Array, weights: Float32Array | null, d: number, out: Float32Array): void;
  moeCombine(
    ys: Float32Array,
    weights: Float32Array | null,
    tokenStart: Int32Array,
    tokenSlots: Int32Array,
    d: number,
    out: Float32Array,
  ): void;
  moeSlotDot(a: Float32Array, b: Float32Array, slotToken: Int32Array, d: number, out: Float32Array): void;
  moeGroupedMatmul(
    a: Float32Array,
    b: Float32Array,
    offsets: Int32Array,
    mode: number,
    outDim: number,
    inDim: number,
    out: Float32Array,
  ): void;
}

const MODES: Record<GroupedMode, number> = { nt: 0, nn: 1, tn: 2 };

const K = MOE_KERNELS;

const dispatchKernel = nativeKernel<MoeAddon>(K.dispatch, ({ backend, addon, inputs, attrs }) => {
  const { plan } = attrs as unknown as PlanAttrs;
  const x = float32Input(backend, K.dispatch, inputs, "x");
  const d = inputs.x!.shape[1];
  const weights = inputs.weights ? float32Input(backend, K.dispatch, inputs, "weights") : null;
  const out = backend.buffers.float32(plan.nSlots * d);
  addon.moeDispatch(x, plan.slotToken, weights, d, out);
  return backend.makeTensorInfo([plan.nSlots, d], "float32", out);
});

const combineKernel = nativeKernel<MoeAddon>(K.combine, ({ backend, addon, inputs, attrs }) => {
  const { plan } = attrs as unknown as PlanAttrs;
  const ys = float32Input(backend, K.combine, inputs, "ys");
  const d = inputs.ys!.shape[1];
  const weights = inputs.weights ? float32Input(backend, K.combine, inputs, "weights") : null;
  const out = backend.buffers.float32(plan.nTokens * d);
  addon.moeCombine(ys, weights, plan.tokenStart, plan.tokenSlots, d, out);
  return backend.makeTensorInfo([plan.nTokens, d], "float32", out);
});

const slotDotKernel = nativeKernel<MoeAddon>(K.slotDot, ({ backend, addon, inputs, attrs }) => {
  const { plan } = attrs as unknown as PlanAttrs;
  const a = float32Input(backend, K.slotDot, inputs, "a");
  const out = backend.buffers.float32(plan.nSlots);
  addon.moeSlotDot(a, float32Input(backend, K.slotDot, inputs, "b"), plan.slotToken, inputs.a!.shape[1], out);
  return backend.makeTensorInfo([plan.nSlots], "float32", out);
});

const groupedKernel = nativeKernel<MoeAddon>(K.groupedMatMul, ({ backend, addon, inputs, attrs }) => {
  const { offsets, mode } = attrs as unknown as GroupedAttrs;
  const [aShape, bShape] = [inputs.a!.shape, inputs.b!.shape];
  const E = offsets.length - 1;
  const M = offsets[E];
  // b is [E, out, in] in modes nt/nn; in tn the output is [E, a.cols, b.cols].
  const [outDim, inDim] = mode === "tn" ? [aShape[1], bShape[1]] : [bShape[1], bShape[2]];
  const shape = mode === "nt" ? [M, outDim] : mode === "nn" ? [M, inDim] : [E, outDim, inDim];
  const out = backend.buffers.float32(shape.reduce((n, s) => n * s, 1));
  const a = float32Input(backend, K.groupedMatMul, inputs, "a");
  const b = float32Input(backend, K.groupedMatMul, inputs, "b");
  addon.moeGroupedMatmul(a, b, Int32Array.from(offsets), MODES[mode], outDim, inDim, out);
  return backend.makeTensorInfo(shape, "float32", out);
});

export const moeKernels: KernelConfig[] = [dispatchKernel, combineKernel, slotDotKernel, groupedKernel];
