// Quantization: FP8 E4M3/E5M2 (OCP OFP8, bit-exact), INT8/INT4 (round half to even), scaling granularities
// (per tensor, per channel, 1×128 tiles, 128×128 blocks, power-of-two, delayed), QuantizedTensor, fake quantization
// with a straight-through gradient, weight-only and W8A8 linears, the fused dequant-matmul decode path and quantizeModel, emulated FP8 GEMM and FP8 training. DESIGN.md §3.
export {
  FP8_FORMATS,
  FP8_SPECS,
  INT_FORMATS,
  INT_SPECS,
  NF4_VALUES,
  QUANT_FORMATS,
  codeBits,
  formatMax,
  isFp8,
} from "./formats";
export type { Fp8Format, Fp8Spec, IntFormat, IntSpec, Nf4Format, QuantFormat } from "./formats";
export { roundHalfEven, roundToFloat } from "./round";
export {
  DEFAULT_FP8_OPTIONS,
  fp8Decode,
  fp8DecodeTensor,
  fp8Encode,
  fp8EncodeTensor,
  fp8Round,
  fp8Values,
} from "./fp8";
export type { Fp8Options } from "./fp8";
export { BLOCK_128X128, PER_CHANNEL, PER_TENSOR, TILE_1X128, blockLayout, granularityName } from "./granularity";
export type { BlockLayout, Granularity } from "./granularity";
export { SCALE_BITS, pow2Ceil } from "./scales";
export type { ScaleFormat } from "./scales";
export {
  DEFAULT_QUANT,
  QuantizedTensor,
  blockAmax,
  quantLabel,
  quantize,
  quantizeDequantize,
} from "./quantized-tensor";
export type { QuantConfig, QuantizeOptions } from "./quantized-tensor";
export { histogram, quantError } from "./error";
export type { QuantError } from "./error";
export { DEFAULT_DELAYED_SCALING, DelayedScaling } from "./delayed";
export type { DelayedScalingConfig } from "./delayed";
export { fakeQuant, gradQuant } from "./fake-quant";
export { PTQ_SETTINGS, QuantLinear, isMatrix, ptqSweep, quantizeWeights } from "./weights";
export type { PtqRow, QuantizedParam, WeightQuantReport } from "./weights";
export { W8A8Linear, int8Matmul, int8MatmulKernel, quantizeW8, w8a8Matmul } from "./w8a8";
export { DEFAULT_FP8_GEMM, fp8GemmEmulated } from "./fp8-gemm";
export type { Fp8GemmConfig } from "./fp8-gemm";
export { FP8_RECIPES, Fp8Linear, fp8Matmul } from "./fp8-training";
export type { Fp8Recipe } from "./fp8-training";
export { dequantMatmul, dequantMatmulKernel, kernelWeight, quantizeActivations } from "./dequant-matmul";
export type { ActivationQuant } from "./dequant-matmul";
export {
  DECODE_FORMATS,
  DEFAULT_QUANTIZE_MODEL,
  decodeQuantConfig,
  defaultDecodeSelect,
  quantizeModel,
  resolveQuantizeModel,
} from "./quantize-model";
export type { DecodeFormat, QuantizedLayer, QuantizedModel, QuantizeModelConfig } from "./quantize-model";
