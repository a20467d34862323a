// Per-GPU training memory: model states under ZeRO 0–3 and activations per layer with tensor/sequence parallelism
// and selective/full recomputation, summed over the layers a pipeline stage holds and the micro-batches in flight.
// References: Rajbhandari et al. 2020 (ZeRO §5: (2 + 2 + K)Ψ, K = 12), Korthikanti et al. 2022 (Table 2:
// sbh(34 + 5as/h) per layer and its TP/SP/selective variants; §4.2.3 in-flight micro-batches), V3 Table 2 (DualPipe).
import { figure, Figure, SOURCES } from "./figure";
import type { ResolvedPlan } from "./parallel";
import { ModelShape, shapeParams } from "./shapes";

/** Bytes of optimizer state per parameter for mixed-precision Adam: fp32 master weights, momentum, variance. */
export const ADAM_K = 12;

/** Model-state bytes per GPU for Ψ parameters replicated over `nd` data-parallel ranks (ZeRO §5). */
export function zeroStateBytes(psi: number, nd: number, stage: 0 | 1 | 2 | 3, k = ADAM_K): Figure {
  const forms: Record<number, [number, string]> = {
    0: [(2 + 2 + k) * psi, `(2 + 2 + K)Ψ = ${2 + 2 + k}·${psi}`],
    1: [4 * psi + (k * psi) / nd, `4Ψ + KΨ/N_d = 4·${psi} + ${k}·${psi}/${nd}`],
    2: [2 * psi + ((2 + k) * psi) / nd, `2Ψ + (2 + K)Ψ/N_d = 2·${psi} + ${2 + k}·${psi}/${nd}`],
    3: [((2 + 2 + k) * psi) / nd, `(2 + 2 + K)Ψ/N_d = ${2 + 2 + k}·${psi}/${nd}`],
  };
  const [value, formula] = forms[stage];
  return figure(value, "bytes", `ZeRO-${stage}: ${formula}`, SOURCES.zero);
}

/** The activation terms of one layer for one micro-batch, in bytes (16-bit activations, 1-byte dropout masks). */
export interface LayerActivationTerms {
  /** Never split by TP (norm inputs, inputs of the first linear of each sub-block, dropout masks): SP splits them. */
  replicated: number;
  /** Split by TP (q, k, v, attention output, FFN internals). */
  sharded: number;
  /** The attention score terms (softmax output, its dropout mask and output): 5as²b with dropout, 2as²b without. */
  scores: number;
  /** Routed-expert activations (MoE layers): k copies of each token's input and expert internals, split by etp. */
  routed: number;
  /** The layer's input, 2sbh: all that full recomputation keeps. */
  input: number;
}

/** Korthikanti et al.'s per-layer decomposition, generalised to GQA/MLA, SwiGLU and MoE layers (GPT-3-style shapes give
 * exactly their 34sbh + 5as²b). `moe` selects the MoE form of the FFN. */
export function layerActivationTerms(shape: ModelShape, b: number, moe: boolean): LayerActivationTerms {
  const { seqLen: s, hidden: h, heads: a } = shape;
  const sbh = s * b * h;
  const at = shape.attention;
  const [qk, v, latents] =
    at.kind === "mha"
      ? [h + (at.kvHeads * h) / a, (at.kvHeads * h) / a, 0] // q and k widths; v width
      : [2 * a * (at.qkNopeDim + at.qkRopeDim), a * at.vDim, at.qLoraRank + at.kvLoraRank + at.qkRopeDim];
  const attnOut = at.kind === "mha" ? h : a * at.vDim;
  const masks = shape.dropout ? 2 * sbh : 0; // attention-output and FFN-output dropout masks, 1 byte each
  const replicated =
    4 * sbh /* two norm inputs */ +
    2 * sbh /* attention input */ +
    2 * sbh /* FFN input */ +
    masks +
    2 * s * b * latents;
  const attention = 2 * s * b * (qk + v + attnOut); // q, k, v, attention output (input of the output projection)
  const scores = (shape.dropout ? 5 : 2) * a * s * s * b;
  const ffnInner = (f: number) => (shape.ffnKind === "gelu" ? 4 * s * b * f : 8 * s * b * f); // GELU in/out; SwiGLU gate, up, silu, product
  let sharded = attention;
  let routed = 0;
  if (moe && shape.moe) {
    const m = shape.moe;
    sharded += ffnInner(m.nShared * m.expertHidden) + 4 * s * b * m.nRouted; // shared experts; fp32 router scores
    routed = m.topK * (2 * sbh + ffnInner(m.expertHidden)); // per routed copy: the dispatched input + expert internals
  } else {
    sharded += ffnInner(shape.ffnHidden);
  }
  return { replicated, sharded, scores, routed, input: 2 * sbh };
}

/** Activation bytes of one layer for one micro-batch under the plan's TP, SP and recomputation (one figure). */
export function layerActivationBytes(
  shape: ModelShape,
  plan: Pick<ResolvedPlan, "tp" | "sp" | "recompute" | "microBatch" | "etp">,
  moe = false,
): Figure {
  const T = layerActivationTerms(shape, plan.microBatch, moe);
  const t = plan.tp;
  const spDiv = plan.sp ? t : 1;
  const src = SOURCES.korthikanti;
  const dims = `s=${shape.seqLen}, b=${plan.microBatch}, h=${shape.hidden}, a=${shape.heads}, t=${t}`;
  if (plan.recompute === "full") {
    return figure(
      T.input / spDiv,
      "bytes",
      `full recomputation keeps the layer input: 2sbh${plan.sp ? "/t" : ""} (${dims})`,
      src,
    );
  }
  const scores = plan.recompute === "selective" ? 0 : T.scores / t;
  const value = T.replicated / spDiv + T.sharded / t + scores + T.routed / plan.etp;
  const base = `${plan.sp ? "(replicated + sharded)/t" : "replicated + sharded/t"}${plan.recompute === "selective" ? "" : " + scores/t"}${moe ? " + routed/etp" : ""}`;
  const gptForm =
    shape.ffnKind === "gelu" && shape.attention.kind === "mha" && !moe
      ? ` [GPT shape: sbh(${plan.sp ? `34/t` : `10 + 24/t`}${plan.recompute === "selective" ? "" : ` + 5as/(ht)`})]`
      : "";
  return figure(value, "bytes", `${base}${gptForm} with ${dims}`, src);
}

/** Per-GPU memory of the heaviest pipeline stage. */
export interface MemoryReport {
  /** Parameters held by one GPU (dense part / tp, routed experts / (ep·etp)). */
  params: Figure;
  /** Weights, gradients and optimizer states (ZeRO over dp for dense, over expert-DP for experts). */
  modelStates: Figure;
  /** Activations of the layers of the stage for the micro-batches in flight. */
  activations: Figure;
  total: Figure;
  /** total ≤ device memory × usableMemory. */
  fits: boolean;
}

/** Micro-batches whose activations the first stage holds: 1F1B p, interleaved p(1 + (p−1)/(pv)), DualPipe p + 1. */
export function inFlightMicroBatches(
  plan: Pick<ResolvedPlan, "pp" | "schedule" | "virtualStages" | "microBatches">,
): Figure {
  const p = plan.pp;
  if (p === 1)
    return figure(1, "micro-batches", "p = 1: one micro-batch at a time (gradient accumulation)", SOURCES.korthikanti);
  if (plan.schedule === "interleaved") {
    const v = plan.virtualStages;
    return figure(
      p * (1 + (p - 1) / (p * v)),
      "micro-batches",
      `p(1 + (p−1)/(pv)) = ${p}(1 + ${p - 1}/${p * v})`,
      SOURCES.korthikanti + " §4.2.3",
    );
  }
  if (plan.schedule === "dualpipe") return figure(p + 1, "micro-batches", `PP + 1 = ${p + 1}`, SOURCES.v3Dualpipe);
  return figure(
    Math.min(p, plan.microBatches),
    "micro-batches",
    `min(p, m) = min(${p}, ${plan.microBatches})`,
    SOURCES.korthikanti + " §4.2.3",
  );
}

/** What the heaviest pipeline stage holds: its layers (the last stages hold MoE layers only) and one GPU's share of its
 * parameters (dense part and embedding/head / tp; routed experts / (ep·etp)). */
export function stageLayout(
  shape: ModelShape,
  plan: Pick<ResolvedPlan, "pp" | "tp" | "ep" | "etp">,
): { stageDense: number; stageMoe: number; denseParams: number; expertParams: number } {
  const P = shapeParams(shape);
  const L = shape.layers;
  const moeLayers = shape.moe ? L - shape.moe.nDenseLayers : 0;
  const stageLayers = Math.ceil(L / plan.pp);
  const stageMoe = Math.min(stageLayers, moeLayers);
  const stageDense = stageLayers - stageMoe;
  // Untied embedding and head sit on the first and last stage; a tied table is kept on both (Megatron).
  const embedding = plan.pp === 1 || shape.tiedEmbeddings ? P.embedding : P.embedding / 2;
  const denseParams =
    (stageLayers * P.attentionPerLayer +
      stageDense * P.denseFfnPerLayer +
      stageMoe * P.moeSharedPerLayer +
      embedding +
      P.finalNorm) /
    plan.tp;
  const expertParams = (stageMoe * P.routedPerLayer) / (plan.ep * plan.etp);
  return { stageDense, stageMoe, denseParams, expertParams };
}

/** Memory per GPU of `plan` for `shape` (`deviceBytes`: the usable device memory). */
export function memoryPerGpu(shape: ModelShape, plan: ResolvedPlan, deviceBytes: number): MemoryReport {
  const { denseParams, expertParams, stageDense, stageMoe } = stageLayout(shape, plan);
  const copies = plan.schedule === "dualpipe" ? 2 : 1;
  const params = figure(
    copies * (denseParams + expertParams),
    "parameters",
    `${copies > 1 ? "2 × (DualPipe keeps two copies) " : ""}(stage dense params)/tp + (stage routed experts)/(ep·etp) = ${Math.round(denseParams)} + ${Math.round(expertParams)}`,
    `${SOURCES.narayanan}; ${SOURCES.v3Dualpipe}`,
  );
  const dense = zeroStateBytes(denseParams, plan.dp, plan.zero);
  const experts = zeroStateBytes(expertParams, plan.expertDp, plan.zero);
  const modelStates = figure(
    copies * (dense.value + experts.value),
    "bytes",
    `${copies > 1 ? "2 × " : ""}[dense: ${dense.formula} (N_d = dp = ${plan.dp})] + [experts: ${experts.formula} (N_d = dp·tp/(ep·etp) = ${plan.expertDp})]`,
    SOURCES.zero,
  );
  const inFlight = inFlightMicroBatches(plan);
  const denseLayer = layerActivationBytes(shape, plan, false);
  const moeLayer = layerActivationBytes(shape, plan, true);
  let perMicro = stageDense * denseLayer.value + stageMoe * moeLayer.value;
  let working = "";
  if (plan.recompute === "full") {
    const live = layerActivationBytes(shape, { ...plan, recompute: "none" }, stageMoe > 0);
    perMicro += live.value / inFlight.value; // one layer's full activations while it is recomputed
    working = " + one layer recomputed at a time";
  }
  const activations = figure(
    inFlight.value * perMicro,
    "bytes",
    `in-flight micro-batches × Σ stage layers: ${inFlight.formula} × (${stageDense} dense × ${Math.round(denseLayer.value)} + ${stageMoe} MoE × ${Math.round(moeLayer.value)})${working}`,
    `${SOURCES.korthikanti}; ${inFlight.source}`,
  );
  const totalValue = modelStates.value + activations.value;
  const total = figure(totalValue, "bytes", "model states + activations", SOURCES.korthikanti);
  return { params, modelStates, activations, total, fits: totalValue <= deviceBytes };
}
