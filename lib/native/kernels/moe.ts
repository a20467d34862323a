// Native MoE kernels (native/src/moe_route.cc, moe_gemm.cc) for the custom ops of lib/moe/ops.ts: dispatch, combine,
// the combine weight gradient and the grouped expert matmul. Inputs are float32 (the ops only pass float32); outputs
// come from the backend's buffer pool and every element is written. Gradients: lib/moe/ops.ts MOE_GRADIENTS.
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs";
import type { NativeBackend } from "../backend";
import type { GroupedAttrs, GroupedMode, PlanAttrs } from "../../moe/ops";
import { MOE_COMBINE, MOE_DISPATCH, MOE_GROUPED_MATMUL, MOE_SLOT_DOT } from "../../moe/ops";
import { tensorValues } from "./fallback";

/** The addon functions these kernels call. */
interface MoeAddon {
  moeDispatch(x: Float32Array, slotToken: Int32Array, weights: Float32Array | null, d: number, out: Float32Array): void;
  moeCombine(ys: Float32Array, weights: Float32Array | null, tokenStart: Int32Array, tokenSlots: Int32Array, d: number, out: Float32Array): void;
  moeSlotDot(a: Float32Array, b: Float32Array, slotToken: Int32Array, d: number, out: Float32Array): void;
  moeGroupedMatmul(a: Float32Array, b: Float32Array, offsets: Int32Array, mode: number, outDim: number, inDim: number, out: Float32Array): void;
}

const MODES: Record<GroupedMode, number> = { nt: 0, nn: 1, tn: 2 };

function addon(backend: unknown): MoeAddon {
  return (backend as NativeBackend).addon as unknown as MoeAddon;
}

function f32(backend: unknown, x: TensorInfo | undefined, fn: string): Float32Array | null {
  if (!x) return null;
  const values = tensorValues(backend, x);
  if (x.dtype !== "float32" || !(values instanceof Float32Array)) throw new Error(`native ${fn}: inputs must be float32, got ${x.dtype}`);
  return values;
}

function output(backend: unknown, shape: number[]): { out: Float32Array; info: () => TensorInfo } {
  const out = (backend as NativeBackend).buffers.float32(shape.reduce((a, b) => a * b, 1));
  return { out, info: () => (backend as NativeBackend).makeTensorInfo(shape, "float32", out) };
}

const dispatchKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { plan } = attrs as unknown as PlanAttrs;
  const x = inputs.x as TensorInfo;
  const d = x.shape[1];
  const { out, info } = output(backend, [plan.nSlots, d]);
  addon(backend).moeDispatch(f32(backend, x, MOE_DISPATCH)!, plan.slotToken, f32(backend, inputs.weights, MOE_DISPATCH), d, out);
  return info();
};

const combineKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { plan } = attrs as unknown as PlanAttrs;
  const ys = inputs.ys as TensorInfo;
  const d = ys.shape[1];
  const { out, info } = output(backend, [plan.nTokens, d]);
  const weights = f32(backend, inputs.weights, MOE_COMBINE);
  addon(backend).moeCombine(f32(backend, ys, MOE_COMBINE)!, weights, plan.tokenStart, plan.tokenSlots, d, out);
  return info();
};

const slotDotKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { plan } = attrs as unknown as PlanAttrs;
  const a = inputs.a as TensorInfo;
  const { out, info } = output(backend, [plan.nSlots]);
  addon(backend).moeSlotDot(f32(backend, a, MOE_SLOT_DOT)!, f32(backend, inputs.b, MOE_SLOT_DOT)!, plan.slotToken, a.shape[1], out);
  return info();
};

const groupedKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { offsets, mode } = attrs as unknown as GroupedAttrs;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const E = offsets.length - 1;
  const M = offsets[E];
  // b is [E, out, in] in modes nt/nn; in tn the output is [E, a.cols, b.cols].
  const [outDim, inDim] = mode === "tn" ? [a.shape[1], b.shape[1]] : [b.shape[1], b.shape[2]];
  const shape = mode === "nt" ? [M, outDim] : mode === "nn" ? [M, inDim] : [E, outDim, inDim];
  const { out, info } = output(backend, shape);
  const fn = MOE_GROUPED_MATMUL;
  addon(backend).moeGroupedMatmul(f32(backend, a, fn)!, f32(backend, b, fn)!, Int32Array.from(offsets), MODES[mode], outDim, inDim, out);
  return info();
};

export const moeKernels: KernelConfig[] = [
  { kernelName: MOE_DISPATCH, backendName: "native", kernelFunc: dispatchKernel },
  { kernelName: MOE_COMBINE, backendName: "native", kernelFunc: combineKernel },
  { kernelName: MOE_SLOT_DOT, backendName: "native", kernelFunc: slotDotKernel },
  { kernelName: MOE_GROUPED_MATMUL, backendName: "native", kernelFunc: groupedKernel },
];
