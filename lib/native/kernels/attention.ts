// Native kernels of the fused causal attention (lib/ops/causal-attention.ts) on native/src/attention.cc: the forward
// ([out, lse]) and the gradient ([dq, dk, dv]); and the decode attention over KV-cache slot buffers
// (lib/ops/slot-attention.ts) on native/src/slot_attention.cc. Inputs are float32 (the ops check; positions int32);
// outputs come from the buffer pool.
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { ATTENTION_KERNELS, SLOT_ATTENTION_KERNEL } from "../../kernel-names";
import { float32Input, nativeKernel, tensorValues } from "./native-kernel";

/** The addon functions of native/src/attention.cc (dims = [B, H, Hkv, T, S, dk, dv]). */
interface AttentionAddon {
  attentionForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    dims: Float64Array,
    scale: number,
    offset: number,
    window: number,
    global: number,
  ): void;
  attentionBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    dout: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    dims: Float64Array,
    scale: number,
    offset: number,
    window: number,
    global: number,
  ): void;
  slotAttention(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    queryPositions: Int32Array,
    keyPositions: Int32Array,
    out: Float32Array,
    dims: Float64Array,
    scale: number,
    window: number,
    global: number,
  ): void;
}

function dims(q: TensorInfo, k: TensorInfo, v: TensorInfo): Float64Array {
  const [B, H, T, dk] = q.shape;
  const [, Hkv, S] = k.shape;
  return Float64Array.from([B, H, Hkv, T, S, dk, v.shape[3]]);
}

const rest = (a: NamedAttrMap) =>
  [a.scale as number, a.kOffset as number, a.window as number, a.globalTokens as number] as const;

export const attentionKernels: KernelConfig[] = [
  nativeKernel<AttentionAddon>(ATTENTION_KERNELS.forward, ({ backend, addon, inputs, attrs }) => {
    const K = ATTENTION_KERNELS.forward;
    const { q, k, v } = inputs as Record<string, TensorInfo>;
    const [B, H, T] = q.shape;
    const outShape = [B, H, T, v.shape[3]];
    const out = backend.buffers.float32(tf.util.sizeFromShape(outShape));
    const lse = backend.buffers.float32(B * H * T);
    const f32 = (name: string) => float32Input(backend, K, inputs, name);
    addon.attentionForward(f32("q"), f32("k"), f32("v"), out, lse, dims(q, k, v), ...rest(attrs));
    return [backend.makeTensorInfo(outShape, "float32", out), backend.makeTensorInfo([B, H, T], "float32", lse)];
  }),
  nativeKernel<AttentionAddon>(ATTENTION_KERNELS.backward, ({ backend, addon, inputs, attrs }) => {
    const K = ATTENTION_KERNELS.backward;
    const { q, k, v } = inputs as Record<string, TensorInfo>;
    const dq = backend.buffers.float32(tf.util.sizeFromShape(q.shape));
    const dk = backend.buffers.float32(tf.util.sizeFromShape(k.shape));
    const dv = backend.buffers.float32(tf.util.sizeFromShape(v.shape));
    const f32 = (name: string) => float32Input(backend, K, inputs, name);
    addon.attentionBackward(
      f32("q"),
      f32("k"),
      f32("v"),
      f32("out"),
      f32("lse"),
      f32("dy"),
      dq,
      dk,
      dv,
      dims(q, k, v),
      ...rest(attrs),
    );
    return [
      backend.makeTensorInfo(q.shape, "float32", dq),
      backend.makeTensorInfo(k.shape, "float32", dk),
      backend.makeTensorInfo(v.shape, "float32", dv),
    ];
  }),
  nativeKernel<AttentionAddon>(SLOT_ATTENTION_KERNEL, ({ backend, addon, inputs, attrs }) => {
    const K = SLOT_ATTENTION_KERNEL;
    const { q, k, v, queryPositions, keyPositions } = inputs as Record<string, TensorInfo>;
    const qpos = tensorValues(backend, queryPositions);
    const kpos = tensorValues(backend, keyPositions);
    if (!(qpos instanceof Int32Array && kpos instanceof Int32Array))
      throw new TypeError(`native ${K}: queryPositions and keyPositions must be int32 tensors`);
    const [B, H, T, dk] = q.shape;
    const [, Hkv, cap, kw] = k.shape;
    const dv = attrs.dv as number;
    const outShape = [B, H, T, dv];
    const out = backend.buffers.float32(B * H * T * dv);
    const f32 = (name: string) => float32Input(backend, K, inputs, name);
    const dims = Float64Array.from([B, H, Hkv, T, keyPositions.shape[1], cap, dk, kw, dv, v.shape[3]]);
    addon.slotAttention(
      f32("q"),
      f32("k"),
      f32("v"),
      qpos,
      kpos,
      out,
      dims,
      attrs.scale as number,
      attrs.window as number,
      attrs.globalTokens as number,
    );
    return backend.makeTensorInfo(outShape, "float32", out);
  }),
];
