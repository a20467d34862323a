// Native kernel of the fused RoPE (lib/ops/rotary.ts) on native/src/rotary.cc: float32 x [B, H, T, dh], cos/sin
// [T, dh/2] (shared by every row) or [B, 1, T, dh/2] (per sequence).
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import { ROTARY_KERNEL } from "../../kernel-names";
import { float32Input, nativeKernel } from "./native-kernel";

interface RotaryAddon {
  rotary(
    x: Float32Array,
    cos: Float32Array,
    sin: Float32Array,
    out: Float32Array,
    rows: number,
    T: number,
    half: number,
    interleaved: boolean,
    inverse: boolean,
    tableRows: number,
  ): void;
}

export const rotaryKernels: KernelConfig[] = [
  nativeKernel<RotaryAddon>(ROTARY_KERNEL, ({ backend, addon, inputs, attrs }) => {
    const x = inputs.x as TensorInfo;
    const [B, H, T, dh] = x.shape;
    const out = backend.buffers.float32(tf.util.sizeFromShape(x.shape));
    const f32 = (name: string) => float32Input(backend, ROTARY_KERNEL, inputs, name);
    if (out.length > 0)
      addon.rotary(
        f32("x"),
        f32("cos"),
        f32("sin"),
        out,
        B * H,
        T,
        dh / 2,
        attrs.interleaved as boolean,
        attrs.inverse as boolean,
        (inputs.cos as TensorInfo).shape.length === 4 ? H : B * H,
      );
    return backend.makeTensorInfo(x.shape, "float32", out);
  }),
];
