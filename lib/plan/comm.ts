// Per-step communication of a plan, per GPU: DP gradient all-reduce (ZeRO-1/2: reduce-scatter + all-gather, the same
// volume; ZeRO-3: 1.5×), TP all-reduces (or SP all-gather/reduce-scatter), EP all-to-all dispatch/combine (node-limited
// routing: one inter-node send per node, at most M nodes), PP point-to-point; bytes and time at the link they cross.
// References: SOURCES.ring, .zero §7, .megatronTp, .v3Nodes; Megatron-Core rank order tp-cp-ep-dp-pp.
import type { Cluster } from "./cluster";
import { figure, Figure, SOURCES } from "./figure";
import { PlanError, ResolvedPlan } from "./parallel";
import type { ModelShape } from "./shapes";
import { stageLayout } from "./memory";

/** One kind of traffic: bytes each GPU sends per step and the time at its bandwidth. */
export interface Traffic {
  bytes: Figure;
  time: Figure;
}

/** All the traffic of one step. */
export interface CommReport {
  dp: Traffic;
  tp: Traffic;
  ep: Traffic;
  pp: Traffic;
}

/** Nodes a group of `size` ranks spaced `stride` apart spans. */
export function nodesSpanned(size: number, stride: number, gpusPerNode: number): number {
  return Math.max(1, Math.min(size, Math.ceil((size * stride) / gpusPerNode)));
}

function log10Choose(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  let s = 0;
  for (let i = 0; i < k; i++) s += Math.log10(n - i) - Math.log10(i + 1);
  return s;
}

/**
 * Expected inter-node sends per token under uniform routing: experts E spread evenly over G nodes, k picked per token.
 * Without a node limit and without de-duplication ("traditional" all-to-all) every copy on another node crosses:
 * k(G − 1)/G. With node-limited routing (M of G nodes chosen uniformly, k experts among their ME/G) and one send per
 * node: M(G − 1)/G · (1 − C(ME/G − E/G, k)/C(ME/G, k)). With de-duplication but no limit, M = G.
 */
export function expectedRemoteSends(E: number, G: number, k: number, M: number | null, dedupe = M !== null): Figure {
  if (E % G) throw new PlanError("ep-experts", `E = ${E} experts do not split evenly over G = ${G} nodes`);
  if (!dedupe) return figure((k * (G - 1)) / G, "sends/token", `k(G − 1)/G = ${k}·${G - 1}/${G}`, SOURCES.v3Nodes);
  const m = M ?? G;
  const pool = (m * E) / G;
  if (pool < k) throw new PlanError("node-limit", `M = ${m} nodes hold ${pool} experts, fewer than top-k = ${k}`);
  const missOne = Math.pow(10, log10Choose(pool - E / G, k) - log10Choose(pool, k));
  return figure(
    ((m * (G - 1)) / G) * (1 - missOne),
    "sends/token",
    `M(G − 1)/G·(1 − C(ME/G − E/G, k)/C(ME/G, k)) with E = ${E}, G = ${G}, k = ${k}, M = ${m}`,
    SOURCES.v3Nodes,
  );
}

function ringTime(bytes: number, size: number, stride: number, c: Cluster): number {
  return bytes / (nodesSpanned(size, stride, c.gpusPerNode) > 1 ? c.interBandwidth : c.intraBandwidth);
}

function link(size: number, stride: number, c: Cluster): string {
  return nodesSpanned(size, stride, c.gpusPerNode) > 1
    ? `inter-node ${c.interBandwidth / 1e9} GB/s`
    : `intra-node ${c.intraBandwidth / 1e9} GB/s`;
}

/** Communication per GPU per optimizer step of the heaviest stage. */
export function communication(shape: ModelShape, plan: ResolvedPlan, c: Cluster): CommReport {
  const { tp: t, dp, pp, ep, microBatch: b, microBatches: m } = plan;
  const s = shape.seqLen;
  const h = shape.hidden;
  const { denseParams, expertParams, stageDense, stageMoe } = stageLayout(shape, plan);
  const stageLayers = stageDense + stageMoe;

  // DP: bf16 gradients of this GPU's parameters over its data-parallel group (dense: dp ranks, stride tp; experts: expert-DP).
  const factor = plan.zero === 3 ? 3 : 2; // ZeRO §7: all-reduce = reduce-scatter + all-gather = 2Ψ; ZeRO-3 adds an all-gather: 3Ψ
  const ringDense = dp > 1 ? (factor * (dp - 1)) / dp : 0;
  const ringExpert = plan.expertDp > 1 ? (factor * (plan.expertDp - 1)) / plan.expertDp : 0;
  const dpBytes = 2 * denseParams * ringDense + 2 * expertParams * ringExpert;
  const dpTime =
    ringTime(2 * denseParams * ringDense, dp, t, c) + ringTime(2 * expertParams * ringExpert, plan.expertDp, t * ep, c);
  const dpForm = `bf16 grads ${factor}(N−1)/N·2Ψ: dense Ψ = ${Math.round(denseParams)} over N = ${dp}, experts Ψ = ${Math.round(expertParams)} over N = ${plan.expertDp}`;
  const dpTraffic: Traffic = {
    bytes: figure(dpBytes, "bytes", dpForm, `${SOURCES.ring}; ${SOURCES.zero}`),
    time: figure(dpTime, "s", `bytes / bandwidth (${link(dp, t, c)})`, SOURCES.ring),
  };

  // TP: per layer and micro-batch, 2 all-reduces forward + 2 backward of s·b·h bf16 (full recomputation: +2).
  const perLayer = plan.recompute === "full" ? 6 : 4;
  const tpBytes = t > 1 ? perLayer * stageLayers * m * 2 * s * b * h * ((2 * (t - 1)) / t) : 0;
  const tpTraffic: Traffic = {
    bytes: figure(
      tpBytes,
      "bytes",
      `${perLayer} all-reduces/layer × ${stageLayers} layers × m = ${m} × 2sbh·2(t−1)/t (s = ${s}, b = ${b}, h = ${h}, t = ${t})${plan.sp ? "; SP: all-gather + reduce-scatter, same volume" : ""}`,
      `${SOURCES.megatronTp}; ${SOURCES.ring}`,
    ),
    time: figure(ringTime(tpBytes, t, 1, c), "s", `bytes / bandwidth (${link(t, 1, c)})`, SOURCES.ring),
  };

  // EP: 4 all-to-alls per MoE layer and micro-batch (dispatch, combine; their gradients), tokens per GPU s·b/t.
  let epTraffic: Traffic;
  if (shape.moe && ep > 1 && stageMoe > 0) {
    const k = shape.moe.topK;
    const G = nodesSpanned(ep, t, c.gpusPerNode);
    const tokens = (s * b) / t;
    const copies = (k * (ep - 1)) / ep; // copies to other GPUs
    const remote =
      G > 1
        ? expectedRemoteSends(shape.moe.nRouted, G, k, plan.nodeLimit !== null ? Math.min(plan.nodeLimit, G) : null)
            .value
        : 0;
    const intra = Math.max(0, copies - remote);
    const bytesPerElt = plan.dispatchBytes + 2 + plan.dispatchBytes + 2; // dispatch, combine (bf16), and their gradients
    const volume = stageMoe * m * tokens * h * bytesPerElt;
    const epBytes = volume * copies;
    const epTime = (volume * remote) / c.interBandwidth + (volume * intra) / c.intraBandwidth;
    epTraffic = {
      bytes: figure(
        epBytes,
        "bytes",
        `${stageMoe} MoE layers × m = ${m} × s·b/t = ${tokens} tokens × h·(${plan.dispatchBytes} + 2 + ${plan.dispatchBytes} + 2) bytes × k(ep−1)/ep = ${copies.toFixed(3)} copies`,
        SOURCES.v3Nodes,
      ),
      time: figure(
        epTime,
        "s",
        `inter-node sends ${remote.toFixed(3)}/token at ${c.interBandwidth / 1e9} GB/s + the other ${intra.toFixed(3)} copies at ${c.intraBandwidth / 1e9} GB/s (EP over ${G} node${G > 1 ? "s" : ""}${plan.nodeLimit !== null ? `, node limit M = ${plan.nodeLimit}` : ""})`,
        SOURCES.v3Nodes,
      ),
    };
  } else {
    epTraffic = {
      bytes: figure(0, "bytes", "no expert parallelism on this stage", SOURCES.v3Nodes),
      time: figure(0, "s", "none", SOURCES.v3Nodes),
    };
  }

  // PP: per micro-batch each GPU sends its activations forward and receives/sends gradients back: 2 × 2sbh(/t with SP) × v.
  const chunks = plan.schedule === "interleaved" ? plan.virtualStages : 1;
  const ppBytes = pp > 1 ? 2 * m * chunks * ((2 * s * b * h) / (plan.sp ? t : 1)) : 0;
  const ppTraffic: Traffic = {
    bytes: figure(
      ppBytes,
      "bytes",
      `2 (activation, gradient) × m = ${m} × v = ${chunks} × 2sbh${plan.sp ? "/t" : ""}`,
      SOURCES.narayanan,
    ),
    time: figure(
      ringTime(ppBytes, pp, dp * t, c),
      "s",
      `bytes / bandwidth (${link(pp, dp * t, c)})`,
      SOURCES.narayanan,
    ),
  };
  return { dp: dpTraffic, tp: tpTraffic, ep: epTraffic, pp: ppTraffic };
}
