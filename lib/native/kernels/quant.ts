// Native quantized-inference kernels (native/src/quant_dequant_gemm.cc) for lib/quant/dequant-matmul.ts: the
// weight-only matmul that dequantises INT8 / INT4 / FP8 codes on the fly. Inputs are float32 activations; the
// quantized weight is a host attribute. No gradient: an inference kernel.
import type { KernelConfig } from "@tensorflow/tfjs";
import { QUANT_KERNELS, type DequantMatMulAttrs } from "../../kernel-names";
import { float32Input, nativeKernel } from "./native-kernel";

/** The addon functions these kernels call. */
interface QuantKernelAddon {
  dequantGemm(
    x: Float32Array,
    codes: Int8Array | Uint8Array,
    scales: Float32Array,
    lut: Float32Array | null,
    out: Float32Array,
    m: number,
    n: number,
    k: number,
    groupRows: number,
    groupCols: number,
    format: number,
  ): void;
}

const K = QUANT_KERNELS;

const dequantMatMulKernel = nativeKernel<QuantKernelAddon>(K.dequantMatMul, ({ backend, addon, inputs, attrs }) => {
  const { weight: w } = attrs as unknown as DequantMatMulAttrs;
  const x = float32Input(backend, K.dequantMatMul, inputs, "x");
  const m = inputs.x!.shape[0];
  const out = backend.buffers.float32(m * w.n);
  addon.dequantGemm(x, w.codes, w.scales, w.lut, out, m, w.n, w.k, w.groupRows, w.groupCols, w.format);
  return backend.makeTensorInfo([m, w.n], "float32", out);
});

export const quantKernels: KernelConfig[] = [dequantMatMulKernel];
