// Serving through the same formulas: weight bytes at a bit width, KV-cache bytes per token (MHA/GQA: 2·L·kv_heads·d_h;
// MLA: L·(kv_lora_rank + rope_dim)), whether a model fits on some GPUs, and the decode-latency floor of streaming every
// active weight from device memory once per token. References: DESIGN §3 (MLA cache), Pope et al. 2022 (decode is
// memory-bound: time ≥ bytes / bandwidth); INT4 g128 with an fp16 scale = 4.125 bits (DESIGN §3).
import type { GpuSpec } from "./cluster";
import { figure, Figure } from "./figure";
import { ModelShape, shapeParams } from "./shapes";

const KV_SOURCE =
  "KV cache per token: MHA/GQA 2·L·n_kv·d_h, MLA L·(kv_lora_rank + rope_dim) elements (DeepSeek-V2 report §2.1, Table 1)";
const ROOFLINE =
  "Pope et al. 2022, Efficiently Scaling Transformer Inference §2 (small-batch decode streams the weights: time ≥ bytes / memory bandwidth)";

/** Bytes of all weights at `bitsPerParam` (16 = BF16, 8 = INT8/FP8, 4.125 = INT4 g128 + fp16 scales). */
export function weightBytes(shape: ModelShape, bitsPerParam: number): Figure {
  const n = shapeParams(shape).total;
  return figure(
    (n * bitsPerParam) / 8,
    "bytes",
    `N·bits/8 = ${n.toExponential(4)}·${bitsPerParam}/8`,
    "parameter count × bit width",
  );
}

/** KV-cache bytes per token of context at `bytesPerElement`. */
export function kvBytesPerToken(shape: ModelShape, bytesPerElement = 2): Figure {
  const a = shape.attention;
  if (a.kind === "mla") {
    const e = shape.layers * (a.kvLoraRank + a.qkRopeDim);
    return figure(
      e * bytesPerElement,
      "bytes/token",
      `L·(kv_lora_rank + rope)·bytes = ${shape.layers}·(${a.kvLoraRank} + ${a.qkRopeDim})·${bytesPerElement}`,
      KV_SOURCE,
    );
  }
  const dh = shape.hidden / shape.heads;
  const e = 2 * shape.layers * a.kvHeads * dh;
  return figure(
    e * bytesPerElement,
    "bytes/token",
    `2·L·n_kv·d_h·bytes = 2·${shape.layers}·${a.kvHeads}·${dh}·${bytesPerElement}`,
    KV_SOURCE,
  );
}

/** Memory to serve `shape` at `bitsPerParam` with `contextTokens` tokens of KV cache, against `gpus` × `gpu`. */
export function servingMemory(
  shape: ModelShape,
  bitsPerParam: number,
  contextTokens: number,
  gpu: GpuSpec,
  gpus: number,
): { need: Figure; have: Figure; fits: boolean } {
  const w = weightBytes(shape, bitsPerParam);
  const kv = kvBytesPerToken(shape);
  const need = figure(
    w.value + kv.value * contextTokens,
    "bytes",
    `weights + KV = ${w.formula} + ${contextTokens}·${kv.value}`,
    `${w.source}; ${KV_SOURCE}`,
  );
  const have = figure(gpu.memoryBytes * gpus, "bytes", `${gpus} × ${gpu.name}`, gpu.source);
  return { need, have, fits: need.value <= have.value };
}

/** Lower bound of the time per decoded token at batch 1: active weight bytes / (memory bandwidth × GPUs). */
export function decodeFloor(shape: ModelShape, bitsPerParam: number, gpu: GpuSpec, gpus = 1): Figure {
  const n = shapeParams(shape).active;
  return figure(
    (n * bitsPerParam) / 8 / (gpu.memoryBandwidth * gpus),
    "s",
    `N_active·bits/8 / (bandwidth × GPUs) = ${n.toExponential(4)}·${bitsPerParam}/8/(${gpu.memoryBandwidth.toExponential(3)}·${gpus})`,
    ROOFLINE,
  );
}
