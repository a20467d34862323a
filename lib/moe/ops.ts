// MoE dispatch / expert matmul / combine as custom differentiable ops. Each op runs the fused kernel registered for the
// current backend under its name (lib/kernel-names.ts MOE_KERNELS; lib/native/kernels/moe.ts registers them for
// `native`; gradients below), else a composite of tfjs ops that runs on any backend (tfjs differentiates it).
// Reference: the sort-by-expert "grouped GEMM" MoE of MegaBlocks (Gale et al. 2022) and DeepSeek-V3 model.py
// MoE.forward (index_add_ back to tokens).
import * as tf from "@tensorflow/tfjs";
import type { NamedAttrMap, NamedTensorMap } from "@tensorflow/tfjs";
import { checkShape } from "../check";
import { MOE_KERNELS, type GroupedAttrs, type PlanAttrs } from "../kernel-names";
import { runFused } from "../ops/fused";
import { ensureGradient } from "../ops/registry";
import type { RoutingPlan } from "./plan";
import { gatherRows, scatterAddRows } from "./rows";

function run<T extends tf.Tensor>(name: string, inputs: NamedTensorMap, attrs: PlanAttrs | GroupedAttrs): T {
  return tf.engine().runKernel(name, inputs, attrs as unknown as NamedAttrMap) as T;
}

/** The fused kernel `name` where the backend has one, else `composite()`. */
function fusedOr<T extends tf.Tensor>(
  name: string,
  inputs: NamedTensorMap,
  attrs: PlanAttrs | GroupedAttrs,
  composite: () => T,
): T {
  return runFused(name, inputs, attrs as unknown as NamedAttrMap, composite);
}

/** The expert-sorted buffer: row s is x[slotToken[s]], [M, d]. Gradient: each token sums its slots' gradients. */
export function dispatch(x: tf.Tensor2D, plan: RoutingPlan): tf.Tensor2D {
  checkShape("moe.dispatch", "x", x.shape, [{ tokens: plan.nTokens }, "d"]);
  if (plan.nSlots === 0) return tf.zeros([0, x.shape[1]]);
  return fusedOr(MOE_KERNELS.dispatch, { x }, { plan }, () => gatherRows(x, plan.slotToken)); // [M, d]
}

/** Weighted combine back to tokens: y[t] = Σ_{slots s of t} weights[s]·ys[s], [T, d]; tokens with no slot get 0. */
export function combine(ys: tf.Tensor2D, weights: tf.Tensor1D, plan: RoutingPlan): tf.Tensor2D {
  const fn = "moe.combine";
  checkShape(fn, "ys", ys.shape, [{ slots: plan.nSlots }, "d"]);
  checkShape(fn, "weights", weights.shape, [{ slots: plan.nSlots }]);
  if (plan.nSlots === 0) return tf.zeros([plan.nTokens, ys.shape[1]]);
  return fusedOr(MOE_KERNELS.combine, { ys, weights }, { plan }, () =>
    tf.tidy(() => scatterAddRows(tf.mul(ys, tf.expandDims(weights, 1)) as tf.Tensor2D, plan.slotToken, plan.nTokens)),
  ); // [T, d]
}

/** Per-expert matmul on contiguous segments: out[seg e] = a[seg e]·b[e]ᵀ; a [M, in], b [E, out, in] → [M, out]. */
export function groupedMatMul(a: tf.Tensor2D, b: tf.Tensor3D, offsets: readonly number[]): tf.Tensor2D {
  const fn = "moe.groupedMatMul";
  const [E, out, inner] = b.shape;
  checkShape(fn, "a", a.shape, ["M", { in: inner }]);
  if (
    offsets.length !== E + 1 ||
    offsets[0] !== 0 ||
    offsets[E] !== a.shape[0] ||
    offsets.some((o, e) => e > 0 && o < offsets[e - 1])
  ) {
    throw new Error(`${fn}: offsets must be ${E + 1} non-decreasing entries from 0 to a.shape[0] = ${a.shape[0]}`);
  }
  if (a.shape[0] === 0) return tf.zeros([0, out]);
  return fusedOr(MOE_KERNELS.groupedMatMul, { a, b }, { offsets: [...offsets], mode: "nt" }, () =>
    composite(a, b, offsets),
  );
}

/**
 * The grouped matmul from tfjs ops, differentiated by tfjs: segments packed into [E, Cmax, in] (padding rows read a
 * zero row), one batched matMul, the valid rows gathered back. Per-expert slices/unstack would cost O(E) full-size
 * gradient tensors (and wasm's Unpack is very slow); this costs E·Cmax rows, Cmax the largest segment.
 */
function composite(a: tf.Tensor2D, b: tf.Tensor3D, offsets: readonly number[]): tf.Tensor2D {
  const [E, out, inner] = b.shape;
  const M = a.shape[0];
  const sizes = offsets.slice(1).map((end, e) => end - offsets[e]);
  const cmax = Math.max(...sizes);
  const packIdx = new Int32Array(E * cmax).fill(M); // row M = the zero row
  const validIdx = new Int32Array(M);
  for (let e = 0; e < E; e++) {
    for (let c = 0; c < sizes[e]; c++) {
      packIdx[e * cmax + c] = offsets[e] + c;
      validIdx[offsets[e] + c] = e * cmax + c;
    }
  }
  return tf.tidy(() => {
    const padded = tf.concat([a, tf.zeros([1, inner])], 0); // [M + 1, in]
    const packed = gatherRows(padded, packIdx).reshape([E, cmax, inner]); // [E, Cmax, in]
    const y = tf.matMul(packed, b, false, true).reshape([E * cmax, out]); // [E·Cmax, out]
    return gatherRows(y, validIdx) as tf.Tensor2D; // [M, out]
  });
}

/** Gradients of the fused kernels (the composite path is differentiated by tfjs). */
export const MOE_GRADIENTS: readonly tf.GradConfig[] = Object.freeze([
  {
    kernelName: MOE_KERNELS.dispatch,
    inputsToSave: [],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], _saved: tf.Tensor[], attrs: NamedAttrMap) => ({
      x: () => run(MOE_KERNELS.combine, { ys: dy as tf.Tensor }, attrs as unknown as PlanAttrs),
    }),
  },
  {
    kernelName: MOE_KERNELS.combine,
    inputsToSave: ["ys", "weights"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const [ys, weights] = saved;
      const plan = attrs as unknown as PlanAttrs;
      return {
        ys: () => run(MOE_KERNELS.dispatch, { x: dy as tf.Tensor, weights }, plan),
        weights: () => run(MOE_KERNELS.slotDot, { a: dy as tf.Tensor, b: ys }, plan),
      };
    },
  },
  {
    kernelName: MOE_KERNELS.groupedMatMul,
    inputsToSave: ["a", "b"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const [a, b] = saved;
      const { offsets, mode } = attrs as unknown as GroupedAttrs;
      if (mode !== "nt")
        throw new Error(`${MOE_KERNELS.groupedMatMul} gradient: only mode "nt" is differentiable, got "${mode}"`);
      return {
        a: () => run(MOE_KERNELS.groupedMatMul, { a: dy as tf.Tensor, b }, { offsets, mode: "nn" }),
        b: () => run(MOE_KERNELS.groupedMatMul, { a: dy as tf.Tensor, b: a }, { offsets, mode: "tn" }),
      };
    },
  },
]);

/** Registers the fused kernels' gradients (idempotent; runs on import). */
export function registerMoeGradients(): void {
  for (const config of MOE_GRADIENTS) ensureGradient(config);
}

registerMoeGradients();
