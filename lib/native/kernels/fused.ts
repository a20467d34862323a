// Native kernels of the fused ops (lib/ops/fused.ts): GELU/SiLU and their derivatives, the SwiGLU gate and its
// gradients, RMSNorm and its two gradients, softmax cross-entropy and its gradient, on native/src/fused.cc. Each takes
// float32 inputs stored as Float32Arrays (the lab's ops only call them with float32 tensors) and writes every element
// of a pooled output.
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap } from "@tensorflow/tfjs";
import { FUSED_ACTIVATIONS, FUSED_KERNELS, type FusedActivationName } from "../../kernel-names";
import type { NativeBackend } from "../native-backend";
import { float32Input, nativeKernel, tensorValues } from "./native-kernel";

/** The addon functions of native/src/fused.cc. */
interface FusedAddon {
  fusedActivation(act: number, x: Float32Array, out: Float32Array): void;
  fusedActivationGrad(act: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  rmsNorm(x: Float32Array, gain: Float32Array, out: Float32Array, eps: number): void;
  rmsNormGrad(x: Float32Array, gain: Float32Array, dy: Float32Array, dx: Float32Array, eps: number): void;
  addRmsNorm(
    x: Float32Array,
    residual: Float32Array,
    gain: Float32Array,
    sum: Float32Array,
    out: Float32Array,
    eps: number,
  ): void;
  rmsNormGainGrad(x: Float32Array, dy: Float32Array, dgain: Float32Array, eps: number): void;
  /** Σ over rows of logsumexp(row) − row[target]. */
  crossEntropy(logits: Float32Array, targets: Int32Array): number;
  crossEntropyGrad(logits: Float32Array, targets: Int32Array, scale: number, dlogits: Float32Array): void;
  swigluGate(a: Float32Array, b: Float32Array, out: Float32Array): void;
  swigluGateGradA(a: Float32Array, b: Float32Array, dy: Float32Array, da: Float32Array): void;
  swigluGateGradB(a: Float32Array, dy: Float32Array, db: Float32Array): void;
}

function actCode(kernel: string, attrs: NamedAttrMap): number {
  const code = FUSED_ACTIVATIONS.indexOf(attrs.activation as FusedActivationName);
  if (code < 0)
    throw new TypeError(`native ${kernel}: attribute activation must be one of ${FUSED_ACTIVATIONS.join(", ")}`);
  return code;
}

/** Fills `out` from the named float32 inputs (`f32(name)`), the attributes and the addon. */
type Fill = (
  addon: FusedAddon,
  f32: (name: string) => Float32Array,
  attrs: NamedAttrMap,
  out: Float32Array,
  backend: NativeBackend,
  inputs: NamedTensorInfoMap,
) => void;

/** A kernel whose float32 output has the shape of input `like` (or its last dimension, when `lastDim`), filled by `fill`. */
function shapedLike(kernelName: string, like: string, fill: Fill, lastDim = false): KernelConfig {
  return nativeKernel<FusedAddon>(kernelName, ({ backend, addon, inputs, attrs }) => {
    const shape = lastDim ? inputs[like]!.shape.slice(-1) : inputs[like]!.shape;
    const out = backend.buffers.float32(tf.util.sizeFromShape(shape));
    const f32 = (name: string) => float32Input(backend, kernelName, inputs, name);
    if (out.length > 0) fill(addon, f32, attrs, out, backend, inputs);
    return backend.makeTensorInfo(shape, "float32", out);
  });
}

/** Targets of the cross-entropy kernels: int32 class ids, one per row. */
function targetIds(backend: NativeBackend, inputs: NamedTensorInfoMap): Int32Array {
  return tensorValues(backend, inputs.targets!) as Int32Array;
}

const K = FUSED_KERNELS;

export const fusedKernels: KernelConfig[] = [
  shapedLike(K.activation, "x", (addon, f32, a, out) => addon.fusedActivation(actCode(K.activation, a), f32("x"), out)),
  shapedLike(K.activationGrad, "x", (addon, f32, a, out) =>
    addon.fusedActivationGrad(actCode(K.activationGrad, a), f32("x"), f32("dy"), out),
  ),
  shapedLike(K.rmsNorm, "x", (addon, f32, a, out) => addon.rmsNorm(f32("x"), f32("gain"), out, a.eps as number)),
  shapedLike(K.rmsNormGrad, "x", (addon, f32, a, out) =>
    addon.rmsNormGrad(f32("x"), f32("gain"), f32("dy"), out, a.eps as number),
  ),
  shapedLike(
    K.rmsNormGainGrad,
    "x",
    (addon, f32, a, out) => addon.rmsNormGainGrad(f32("x"), f32("dy"), out, a.eps as number),
    true, // the gain's gradient: [d]
  ),
  nativeKernel<FusedAddon>(K.addRmsNorm, ({ backend, addon, inputs, attrs }) => {
    const shape = inputs.x!.shape;
    const sum = backend.buffers.float32(tf.util.sizeFromShape(shape));
    const out = backend.buffers.float32(sum.length);
    const f32 = (name: string) => float32Input(backend, K.addRmsNorm, inputs, name);
    if (sum.length > 0) addon.addRmsNorm(f32("x"), f32("residual"), f32("gain"), sum, out, attrs.eps as number);
    return [backend.makeTensorInfo(shape, "float32", sum), backend.makeTensorInfo(shape, "float32", out)];
  }),
  shapedLike(K.swigluGate, "a", (addon, f32, _a, out) => addon.swigluGate(f32("a"), f32("b"), out)),
  shapedLike(K.swigluGateGradA, "a", (addon, f32, _a, out) =>
    addon.swigluGateGradA(f32("a"), f32("b"), f32("dy"), out),
  ),
  shapedLike(K.swigluGateGradB, "a", (addon, f32, _a, out) => addon.swigluGateGradB(f32("a"), f32("dy"), out)),
  nativeKernel<FusedAddon>(K.crossEntropy, ({ backend, addon, inputs }) => {
    const targets = targetIds(backend, inputs);
    const sum = addon.crossEntropy(float32Input(backend, K.crossEntropy, inputs, "logits"), targets);
    return backend.makeTensorInfo([], "float32", new Float32Array([sum / targets.length]));
  }),
  shapedLike(K.crossEntropyGrad, "logits", (addon, f32, _a, out, backend, inputs) => {
    const targets = targetIds(backend, inputs);
    addon.crossEntropyGrad(f32("logits"), targets, f32("dy")[0] / targets.length, out);
  }),
];
