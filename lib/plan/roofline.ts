// Serving roofline: the time of a prefill (compute-bound: FLOPs / peak) and of one decode step (bandwidth-bound:
// bytes read / memory bandwidth) for a model shape on N GPUs of a named accelerator, each the max of the two bounds.
// MoE-aware: a decode step of b tokens reads the weights of the experts at least one token picked — expected distinct
// experts per MoE layer E·(1 − (1 − k/E)^b) under uniform independent routing; MLA-aware: the KV cache read per token is
// kvBytesPerToken's latent (kv_lora_rank + rope) and attention FLOPs follow the absorbed path. Ideal: perfect
// parallelism over the GPUs, no communication, peak FLOP/s and bandwidth (efficiencies are fields, default 1).
// References: Williams et al. 2009 (roofline); Pope et al. 2022 §2 (decode streams the weights); DeepSeek-V2 report
// §2.1 (MLA cache and absorption); DESIGN.md §3 (MLA).
import { checkPositiveInt } from "../check";
import type { GpuSpec } from "./cluster";
import { figure, Figure } from "./figure";
import { matmulParams } from "./flops";
import { kvBytesPerToken, weightBytes } from "./inference";
import { ffnParams, ModelShape } from "./shapes";

const ROOFLINE = "Williams et al. 2009 roofline: time = max(FLOPs / peak, bytes / bandwidth); Pope et al. 2022 §2";
const DISTINCT = "expected distinct experts under uniform routing: E·(1 − (1 − k/E)^b) (each token picks k of E)";

/** What is served. */
export interface ServingWorkload {
  /** Sequences processed together (decode batch). Default 1. */
  batch: number;
  /** Prompt tokens per sequence (prefill). Default 1024. */
  promptTokens: number;
  /** KV-cache length each decode step attends to, per sequence. Default 1024. */
  contextTokens: number;
  /** Bits per weight (16 BF16, 8 FP8/INT8, 4.125 INT4 g128 + fp16 scale). Default 16. */
  weightBits: number;
  /** Bytes per KV-cache element. Default 2 (BF16). */
  kvBytesPerElement: number;
  /** GPUs the model is spread over (ideal: perfect split, no communication). Default 1. */
  gpus: number;
  /** Fraction of the peak FLOP/s reached, (0, 1]. Default 1 (the roofline). */
  computeEfficiency: number;
  /** Fraction of the memory bandwidth reached, (0, 1]. Default 1 (the roofline). */
  bandwidthEfficiency: number;
}

export const DEFAULT_WORKLOAD: Readonly<ServingWorkload> = Object.freeze({
  batch: 1,
  promptTokens: 1024,
  contextTokens: 1024,
  weightBits: 16,
  kvBytesPerElement: 2,
  gpus: 1,
  computeEfficiency: 1,
  bandwidthEfficiency: 1,
});

/** The workload merged over the defaults and checked; errors name the field. */
export function resolveWorkload(fn: string, w: Partial<ServingWorkload>): ServingWorkload {
  const c = { ...DEFAULT_WORKLOAD, ...w };
  for (const k of ["batch", "promptTokens", "gpus"] as const) checkPositiveInt(fn, k, c[k]);
  if (!(Number.isSafeInteger(c.contextTokens) && c.contextTokens >= 0))
    throw new Error(`${fn}: contextTokens must be an integer ≥ 0, got ${c.contextTokens}`);
  for (const k of ["weightBits", "kvBytesPerElement"] as const) {
    if (!(Number.isFinite(c[k]) && c[k] > 0)) throw new Error(`${fn}: ${k} must be a finite number > 0, got ${c[k]}`);
  }
  for (const k of ["computeEfficiency", "bandwidthEfficiency"] as const) {
    if (!(c[k] > 0 && c[k] <= 1)) throw new Error(`${fn}: ${k} must be in (0, 1], got ${c[k]}`);
  }
  return c;
}

/** Expected distinct experts one MoE layer reads for `tokens` tokens (= topK at 1 token, → E as tokens grow). */
export function expectedDistinctExperts(nExperts: number, topK: number, tokens: number): number {
  const fn = "expectedDistinctExperts(nExperts, topK, tokens)";
  checkPositiveInt(fn, "nExperts", nExperts);
  checkPositiveInt(fn, "topK", topK);
  if (topK > nExperts) throw new Error(`${fn}: topK (${topK}) must be ≤ nExperts (${nExperts})`);
  if (!(Number.isSafeInteger(tokens) && tokens >= 0))
    throw new Error(`${fn}: tokens must be an integer ≥ 0, got ${tokens}`);
  return nExperts * (1 - (1 - topK / nExperts) ** tokens);
}

/** Forward attention FLOPs of one token in one layer attending to `context` positions (MHA: 4·c·h; MLA absorbed: 2cH(d_c + d_r) + 2cH·d_c). */
export function attentionFlopsPerToken(shape: ModelShape, context: number): number {
  const a = shape.attention;
  return a.kind === "mha"
    ? 4 * context * shape.hidden
    : 2 * context * shape.heads * (a.kvLoraRank + a.qkRopeDim) + 2 * context * shape.heads * a.kvLoraRank;
}

/** Weight bytes one forward pass of `tokens` tokens reads: non-routed matmul weights + distinct experts' weights. */
export function weightBytesRead(
  shape: ModelShape,
  tokens: number,
  weightBits: number,
): { bytes: Figure; distinctExperts: number | null } {
  const m = shape.moe;
  const expert = m ? ffnParams(shape, m.expertHidden) : 0;
  const moeLayers = m ? shape.layers - m.nDenseLayers : 0;
  const nonRouted = matmulParams(shape) - moeLayers * (m ? m.topK : 0) * expert;
  const distinct = m ? expectedDistinctExperts(m.nRouted, m.topK, tokens) : null;
  const params = nonRouted + moeLayers * (distinct ?? 0) * expert;
  const formula = m
    ? `(N_matmul,non-routed + L_moe·distinct·expert)·bits/8 = (${nonRouted.toExponential(4)} + ${moeLayers}·${distinct!.toFixed(2)}·${expert.toExponential(3)})·${weightBits}/8`
    : `N_matmul·bits/8 = ${nonRouted.toExponential(4)}·${weightBits}/8`;
  return {
    bytes: figure((params * weightBits) / 8, "bytes", formula, m ? `${ROOFLINE}; ${DISTINCT}` : ROOFLINE),
    distinctExperts: distinct,
  };
}

/** One phase's roofline. */
export interface PhaseRoofline {
  flops: Figure;
  bytes: Figure;
  seconds: Figure;
  tokensPerSecond: Figure;
  /** Which bound sets the time. */
  bound: "compute" | "memory";
  /** Expected distinct experts per MoE layer (null for dense models). */
  distinctExperts: number | null;
}

/** The roofline report of a workload. */
export interface RooflineReport {
  gpu: GpuSpec;
  workload: ServingWorkload;
  /** Weights + the batch's KV cache at contextTokens, against the GPUs' memory. */
  memory: { need: Figure; have: Figure; fits: boolean };
  /** All prompts of the batch at once. */
  prefill: PhaseRoofline;
  /** One decode step of the batch (one new token per sequence). */
  decode: PhaseRoofline;
}

function phase(
  label: string,
  tokens: number,
  flops: number,
  flopsFormula: string,
  bytes: Figure,
  kvBytes: number,
  gpu: GpuSpec,
  w: ServingWorkload,
  distinct: number | null,
): PhaseRoofline {
  const compute = flops / (gpu.peakFlops * w.gpus * w.computeEfficiency);
  const totalBytes = bytes.value + kvBytes;
  const memory = totalBytes / (gpu.memoryBandwidth * w.gpus * w.bandwidthEfficiency);
  const seconds = Math.max(compute, memory);
  const bytesFig = figure(
    totalBytes,
    "bytes",
    `weights + KV = ${bytes.value.toExponential(4)} + ${kvBytes.toExponential(4)}`,
    bytes.source,
  );
  return {
    flops: figure(flops, "FLOP", flopsFormula, ROOFLINE),
    bytes: bytesFig,
    seconds: figure(
      seconds,
      "s",
      `${label}: max(FLOPs/(peak·GPUs·eff), bytes/(bandwidth·GPUs·eff)) = max(${compute.toExponential(4)}, ${memory.toExponential(4)})`,
      `${ROOFLINE}; ${gpu.source}`,
    ),
    tokensPerSecond: figure(tokens / seconds, "tokens/s", `${tokens} tokens / ${seconds.toExponential(4)} s`, ROOFLINE),
    bound: compute >= memory ? "compute" : "memory",
    distinctExperts: distinct,
  };
}

/** Prefill and decode rooflines of `shape` on `workload.gpus` × `gpu`. Errors name the bad field. */
export function roofline(shape: ModelShape, gpu: GpuSpec, workload: Partial<ServingWorkload> = {}): RooflineReport {
  const w = resolveWorkload("roofline(shape, gpu, workload)", workload);
  const nMat = matmulParams(shape);
  const kvTok = kvBytesPerToken(shape, w.kvBytesPerElement).value;
  // Prefill: b·T tokens, causal attention over (T + 1)/2 positions on average; writes the KV cache.
  const nPre = w.batch * w.promptTokens;
  const attPre = shape.layers * attentionFlopsPerToken(shape, (w.promptTokens + 1) / 2);
  const pre = weightBytesRead(shape, nPre, w.weightBits);
  const prefill = phase(
    "prefill",
    nPre,
    nPre * (2 * nMat + attPre),
    `b·T·(2·N_matmul + L·attn) = ${nPre}·(2·${nMat.toExponential(4)} + ${attPre.toExponential(4)})`,
    pre.bytes,
    nPre * kvTok,
    gpu,
    w,
    pre.distinctExperts,
  );
  // Decode: b tokens, each attending to contextTokens cached positions (reads b·c·KV bytes).
  const attDec = shape.layers * attentionFlopsPerToken(shape, w.contextTokens);
  const dec = weightBytesRead(shape, w.batch, w.weightBits);
  const decode = phase(
    "decode step",
    w.batch,
    w.batch * (2 * nMat + attDec),
    `b·(2·N_matmul + L·attn(c)) = ${w.batch}·(2·${nMat.toExponential(4)} + ${attDec.toExponential(4)})`,
    dec.bytes,
    w.batch * w.contextTokens * kvTok,
    gpu,
    w,
    dec.distinctExperts,
  );
  const wb = weightBytes(shape, w.weightBits);
  const need = figure(
    wb.value + w.batch * w.contextTokens * kvTok,
    "bytes",
    `all weights + b·c·KV = ${wb.value.toExponential(4)} + ${w.batch}·${w.contextTokens}·${kvTok}`,
    wb.source,
  );
  const have = figure(gpu.memoryBytes * w.gpus, "bytes", `${w.gpus} × ${gpu.name}`, gpu.source);
  return { gpu, workload: w, memory: { need, have, fits: need.value <= have.value }, prefill, decode };
}

/** The largest decode batch whose KV cache at `contextTokens` fits beside the weights (0 if the weights alone do not fit). */
export function maxDecodeBatch(shape: ModelShape, gpu: GpuSpec, workload: Partial<ServingWorkload> = {}): Figure {
  const w = resolveWorkload("maxDecodeBatch(shape, gpu, workload)", workload);
  const kv = kvBytesPerToken(shape, w.kvBytesPerElement).value * Math.max(1, w.contextTokens);
  const free = gpu.memoryBytes * w.gpus - weightBytes(shape, w.weightBits).value;
  return figure(
    Math.max(0, Math.floor(free / kv)),
    "sequences",
    `⌊(memory·GPUs − weights) / (c·KV bytes/token)⌋ = ⌊${free.toExponential(4)} / ${kv.toExponential(4)}⌋`,
    ROOFLINE,
  );
}
