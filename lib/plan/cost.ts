// Training cost from a model shape and a token count: FLOPs, GPU-hours at an MFU, dollars at a price, days on a
// cluster; and the reverse: the MFU a published run's GPU-hours imply. Published runs as data with their sources.
// References: DeepSeek-V3 report Table 1 and §3.1; Brown et al. 2020 Table D.1; Narayanan et al. 2021 §5.1 (8TP/(nX)).
import type { GpuSpec } from "./cluster";
import { GPUS } from "./cluster";
import { figure, Figure, SOURCES } from "./figure";
import { trainingFlopsPerToken } from "./flops";
import { ModelShape, SHAPES } from "./shapes";

/** Cost of training `shape` on `tokens` tokens with `gpu` at `mfu`, `pricePerGpuHour` dollars. */
export interface TrainingCost {
  flops: Figure;
  gpuHours: Figure;
  dollars: Figure;
}

export function trainingCost(
  shape: ModelShape,
  tokens: number,
  gpu: GpuSpec,
  mfu: number,
  pricePerGpuHour: number,
): TrainingCost {
  if (!(tokens > 0)) throw new Error(`trainingCost: tokens must be > 0, got ${tokens}`);
  const perToken = trainingFlopsPerToken(shape);
  return costOfFlops(
    figure(
      perToken.value * tokens,
      "FLOP",
      `FLOP/token × tokens = ${perToken.value.toExponential(4)} × ${tokens.toExponential(4)}`,
      perToken.source,
    ),
    gpu,
    mfu,
    pricePerGpuHour,
  );
}

/** GPU-hours and dollars of a FLOP budget (for models known only by 6·N·T, e.g. the articles' GPT-4 numbers). */
export function costOfFlops(flops: Figure, gpu: GpuSpec, mfu: number, pricePerGpuHour: number): TrainingCost {
  if (!(mfu > 0 && mfu <= 1)) throw new Error(`trainingCost: mfu must be in (0, 1], got ${mfu}`);
  if (!(pricePerGpuHour >= 0)) throw new Error(`trainingCost: pricePerGpuHour must be ≥ 0, got ${pricePerGpuHour}`);
  const gpuHours = figure(
    flops.value / (gpu.peakFlops * mfu) / 3600,
    "GPU-hours",
    `FLOPs / (peak × MFU) / 3600 = ${flops.value.toExponential(4)}/(${gpu.peakFlops.toExponential(3)}·${mfu.toPrecision(4)})/3600`,
    `${SOURCES.narayanan}; ${gpu.source}`,
  );
  const dollars = figure(
    gpuHours.value * pricePerGpuHour,
    "USD",
    `GPU-hours × $${pricePerGpuHour}/GPU-hour`,
    SOURCES.v3Cost,
  );
  return { flops, gpuHours, dollars };
}

/** The MFU a run implies: FLOPs / (GPU-hours × 3600 × peak). */
export function impliedMfu(shape: ModelShape, tokens: number, gpuHours: number, gpu: GpuSpec): Figure {
  const flops = trainingFlopsPerToken(shape).value * tokens;
  return figure(
    flops / (gpuHours * 3600 * gpu.peakFlops),
    "fraction",
    `FLOP/token·tokens / (GPU-hours·3600·peak) = ${flops.toExponential(4)}/(${gpuHours.toExponential(4)}·3600·${gpu.peakFlops.toExponential(3)})`,
    SOURCES.narayanan,
  );
}

/** Wall-clock days on `gpus` GPUs at `mfu`. */
export function trainingDays(shape: ModelShape, tokens: number, gpu: GpuSpec, gpus: number, mfu: number): Figure {
  const flops = trainingFlopsPerToken(shape).value * tokens;
  return figure(
    flops / (gpus * gpu.peakFlops * mfu) / 86400,
    "days",
    `FLOPs / (GPUs × peak × MFU) / 86400 = ${flops.toExponential(4)}/(${gpus}·${gpu.peakFlops.toExponential(3)}·${mfu})/86400`,
    SOURCES.narayanan,
  );
}

/** A published training run: what was trained, on what, and what was reported. */
export interface PublishedRun {
  name: string;
  shape: ModelShape;
  tokens: number;
  gpu: GpuSpec;
  gpus: number;
  /** Reported GPU-hours (null: not published). */
  gpuHours: number | null;
  /** Reported per-GPU throughput in FLOP/s (null: not published). */
  achievedFlops: number | null;
  /** Reported dollars at the reported price (null: not published). */
  dollars: number | null;
  pricePerGpuHour: number | null;
  source: string;
}

export const PUBLISHED_RUNS = Object.freeze({
  /** V3 pre-training: 14.8T tokens, 2.664M H800 GPU-hours (180K per trillion tokens) on 2048 GPUs; total 2.788M = $5.576M. */
  deepseekV3: Object.freeze<PublishedRun>({
    name: "DeepSeek-V3 pre-training",
    shape: SHAPES.deepseekV3,
    tokens: 14.8e12,
    gpu: GPUS.H800,
    gpus: 2048,
    gpuHours: 2.664e6,
    achievedFlops: null,
    dollars: 2.664e6 * 2,
    pricePerGpuHour: 2,
    source: SOURCES.v3Cost,
  }),
  /** V2: 8.1T tokens at 172.8K H800 GPU-hours per trillion tokens. */
  deepseekV2: Object.freeze<PublishedRun>({
    name: "DeepSeek-V2 pre-training",
    shape: SHAPES.deepseekV2,
    tokens: 8.1e12,
    gpu: GPUS.H800,
    gpus: 0,
    gpuHours: 8.1 * 172.8e3,
    achievedFlops: null,
    dollars: null,
    pricePerGpuHour: null,
    source:
      "DeepSeek-V2 report (arXiv 2405.04434) §3.1 (8.1T tokens) and §3.2.3 (172.8K GPU hours per trillion tokens)",
  }),
  /** Megatron-LM's GPT-3 175B benchmark: 1024 A100, 140 TFLOP/s per GPU counting recomputation, 300B tokens → 34 days. */
  megatron175B: Object.freeze<PublishedRun>({
    name: "Megatron-LM 175B (GPT-3 shape)",
    shape: SHAPES.gpt3,
    tokens: 300e9,
    gpu: GPUS.A100,
    gpus: 1024,
    gpuHours: null,
    achievedFlops: 140e12,
    dollars: null,
    pricePerGpuHour: null,
    source: `${SOURCES.narayanan} Table 1 (175B: 1024 GPUs, 140 TFLOP/s per GPU) and §5.1 (34 days for 300B tokens)`,
  }),
  /** GPT-3 175B: 3.14e23 training FLOPs on 300B tokens (V100 cluster; GPU-hours not published). */
  gpt3: Object.freeze<PublishedRun>({
    name: "GPT-3 175B",
    shape: SHAPES.gpt3,
    tokens: 300e9,
    gpu: GPUS.V100,
    gpus: 0,
    gpuHours: null,
    achievedFlops: null,
    dollars: null,
    pricePerGpuHour: null,
    source: SOURCES.gpt3,
  }),
});

/** Narayanan et al.'s end-to-end time with full recomputation: 8TP / (nX) seconds (T tokens, P params, n GPUs, X FLOP/s each). */
export function narayananDays(params: number, tokens: number, gpus: number, flopsPerGpu: number): Figure {
  return figure(
    (8 * tokens * params) / (gpus * flopsPerGpu) / 86400,
    "days",
    `8TP/(nX) = 8·${tokens.toExponential(3)}·${params.toExponential(4)}/(${gpus}·${flopsPerGpu.toExponential(3)})/86400`,
    `${SOURCES.narayanan} §5.1`,
  );
}
