// Native kernels of the fused ops (lib/ops/fused.ts): GELU/SiLU and their derivatives, the SwiGLU gate and its gradients, RMSNorm and its two gradients,
// softmax cross-entropy and its gradient, on native/src/fused.cc. Each takes float32 inputs stored as Float32Arrays
// (the lab's ops only call them with float32 tensors) and writes every element of a pooled output.
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import type { NativeBackend } from "../backend";
import { FUSED_ACTIVATIONS } from "../../ops/activations";
import { FUSED_KERNELS } from "../../ops/fused";
import { float32Values } from "./fallback";

/** The addon functions of native/src/fused.cc. */
interface FusedAddon {
  fusedActivation(act: number, x: Float32Array, out: Float32Array): void;
  fusedActivationGrad(act: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  rmsNorm(x: Float32Array, gain: Float32Array, out: Float32Array, eps: number): void;
  rmsNormGrad(x: Float32Array, gain: Float32Array, dy: Float32Array, dx: Float32Array, eps: number): void;
  rmsNormGainGrad(x: Float32Array, dy: Float32Array, dgain: Float32Array, eps: number): void;
  /** Σ over rows of logsumexp(row) − row[target]. */
  crossEntropy(logits: Float32Array, targets: Int32Array): number;
  crossEntropyGrad(logits: Float32Array, targets: Int32Array, scale: number, dlogits: Float32Array): void;
  swigluGate(a: Float32Array, b: Float32Array, out: Float32Array): void;
  swigluGateGradA(a: Float32Array, b: Float32Array, dy: Float32Array, da: Float32Array): void;
  swigluGateGradB(a: Float32Array, dy: Float32Array, db: Float32Array): void;
}

function addon(backend: NativeBackend): FusedAddon {
  return backend.addon as unknown as FusedAddon;
}

/** The Float32Array of float32 input `name`; anything else is a caller bug, reported by name. */
function f32(backend: NativeBackend, kernel: string, inputs: Record<string, TensorInfo>, name: string): Float32Array {
  const values = float32Values(backend, inputs[name]);
  if (!values) throw new TypeError(`native ${kernel}: input ${name} must be a float32 tensor`);
  return values;
}

function actCode(kernel: string, attrs: NamedAttrMap): number {
  const code = FUSED_ACTIVATIONS.indexOf(attrs.activation as (typeof FUSED_ACTIVATIONS)[number]);
  if (code < 0) throw new TypeError(`native ${kernel}: attribute activation must be one of ${FUSED_ACTIVATIONS.join(", ")}`);
  return code;
}

type Fill = (backend: NativeBackend, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap, out: Float32Array) => void;

/** A kernel whose float32 output has the shape of input `like` (or its last dimension, when `lastDim`), filled by `fill`. */
function shapedLike(kernelName: string, like: string, fill: Fill, lastDim = false): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as NativeBackend;
    const inputs = args.inputs as Record<string, TensorInfo>;
    const shape = lastDim ? inputs[like].shape.slice(-1) : inputs[like].shape;
    const out = backend.buffers.float32(tf.util.sizeFromShape(shape));
    if (out.length > 0) fill(backend, inputs, args.attrs as NamedAttrMap, out);
    return backend.makeTensorInfo(shape, "float32", out);
  };
  return { kernelName, backendName: "native", kernelFunc };
}

const K = FUSED_KERNELS;

export const fusedKernels: KernelConfig[] = [
  shapedLike(K.activation, "x", (b, i, a, out) => addon(b).fusedActivation(actCode(K.activation, a), f32(b, K.activation, i, "x"), out)),
  shapedLike(K.activationGrad, "x", (b, i, a, out) =>
    addon(b).fusedActivationGrad(actCode(K.activationGrad, a), f32(b, K.activationGrad, i, "x"), f32(b, K.activationGrad, i, "dy"), out),
  ),
  shapedLike(K.rmsNorm, "x", (b, i, a, out) => addon(b).rmsNorm(f32(b, K.rmsNorm, i, "x"), f32(b, K.rmsNorm, i, "gain"), out, a.eps as number)),
  shapedLike(K.rmsNormGrad, "x", (b, i, a, out) =>
    addon(b).rmsNormGrad(f32(b, K.rmsNormGrad, i, "x"), f32(b, K.rmsNormGrad, i, "gain"), f32(b, K.rmsNormGrad, i, "dy"), out, a.eps as number),
  ),
  shapedLike(
    K.rmsNormGainGrad,
    "x",
    (b, i, a, out) => addon(b).rmsNormGainGrad(f32(b, K.rmsNormGainGrad, i, "x"), f32(b, K.rmsNormGainGrad, i, "dy"), out, a.eps as number),
    true, // the gain's gradient: [d]
  ),
  shapedLike(K.swigluGate, "a", (b, i, _a, out) => addon(b).swigluGate(f32(b, K.swigluGate, i, "a"), f32(b, K.swigluGate, i, "b"), out)),
  shapedLike(K.swigluGateGradA, "a", (b, i, _a, out) =>
    addon(b).swigluGateGradA(f32(b, K.swigluGateGradA, i, "a"), f32(b, K.swigluGateGradA, i, "b"), f32(b, K.swigluGateGradA, i, "dy"), out),
  ),
  shapedLike(K.swigluGateGradB, "a", (b, i, _a, out) =>
    addon(b).swigluGateGradB(f32(b, K.swigluGateGradB, i, "a"), f32(b, K.swigluGateGradB, i, "dy"), out),
  ),
  {
    kernelName: K.crossEntropy,
    backendName: "native",
    kernelFunc: (args) => {
      const backend = args.backend as NativeBackend;
      const inputs = args.inputs as Record<string, TensorInfo>;
      const targets = backend.data.get(inputs.targets.dataId).values as Int32Array;
      const sum = addon(backend).crossEntropy(f32(backend, K.crossEntropy, inputs, "logits"), targets);
      return backend.makeTensorInfo([], "float32", new Float32Array([sum / targets.length]));
    },
  },
  shapedLike(K.crossEntropyGrad, "logits", (b, i, _a, out) => {
    const targets = b.data.get(i.targets.dataId).values as Int32Array;
    const dy = f32(b, K.crossEntropyGrad, i, "dy")[0];
    addon(b).crossEntropyGrad(f32(b, K.crossEntropyGrad, i, "logits"), targets, dy / targets.length, out);
  }),
];
