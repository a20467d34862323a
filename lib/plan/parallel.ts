// A hybrid-parallel training plan (DP × TP × PP, EP inside the DP×TP plane, SP, ZeRO stage, activation
// recomputation, pipeline schedule) with its defaults, and the checks that reject impossible plans with named errors.
// References: Megatron-Core parallel_state (rank order tp-cp-ep-dp-pp; expert data parallel = dp·tp/(ep·etp)),
// Narayanan et al. 2021 §2, DeepSeek-V3 report §3.2 (PP 16, EP 64, ZeRO-1, DualPipe).
import { checkPositiveInt } from "../check";
import type { Cluster } from "./cluster";
import { worldSize } from "./cluster";
import type { ModelShape } from "./shapes";

export type PipelineSchedule = "1f1b" | "interleaved" | "dualpipe";
export type Recompute = "none" | "selective" | "full";

/** How one training step is spread over the GPUs. */
export interface ParallelPlan {
  /** Data-parallel replicas. */
  dp: number;
  /** Tensor-parallel ranks (Megatron column/row split; must divide the heads). */
  tp: number;
  /** Pipeline stages. */
  pp: number;
  /** Expert-parallel ranks (routed experts split over them; must divide the routed experts and dp·tp/etp). */
  ep: number;
  /** Expert tensor parallelism; null = tp (Megatron's default for --expert-tensor-parallel-size). */
  etp: number | null;
  /** Sequence parallelism: norms/dropout activations split over the TP ranks too (Korthikanti et al. 2022). */
  sp: boolean;
  /** ZeRO stage 0–3 (stage 1 = Megatron's distributed optimizer). */
  zero: 0 | 1 | 2 | 3;
  /** Activation recomputation: none, selective (attention core), full (each layer from its input). */
  recompute: Recompute;
  /** Sequences per micro-batch (b). */
  microBatch: number;
  /** Sequences per optimizer step (global batch); micro-batches per pipeline m = globalBatch / (dp · microBatch). */
  globalBatch: number;
  schedule: PipelineSchedule;
  /** Model chunks per stage for the interleaved schedule (v). */
  virtualStages: number;
  /** Bytes per element of the all-to-all dispatch (2 = BF16; DeepSeek-V3 dispatches in FP8 = 1) ; combine is BF16. */
  dispatchBytes: number;
  /** Node-limited routing: each token reaches at most this many nodes (V3: M = 4); null = unlimited. */
  nodeLimit: number | null;
  /** DP gradient communication overlaps the backward pass (only what exceeds the backward time is exposed). */
  overlapDp: boolean;
}

/** Defaults: no parallelism, ZeRO 0, no recomputation, one sequence per micro-batch, 1F1B, BF16 dispatch. */
export const DEFAULT_PLAN: Readonly<ParallelPlan> = Object.freeze({
  dp: 1,
  tp: 1,
  pp: 1,
  ep: 1,
  etp: null,
  sp: false,
  zero: 0,
  recompute: "none",
  microBatch: 1,
  globalBatch: 1,
  schedule: "1f1b",
  virtualStages: 1,
  dispatchBytes: 2,
  nodeLimit: null,
  overlapDp: true,
});

/** Why a plan is impossible. */
export type PlanErrorReason =
  | "tp-heads"
  | "pp-layers"
  | "ep-experts"
  | "ep-dense"
  | "ep-group"
  | "world-size"
  | "batch"
  | "interleaved"
  | "dualpipe"
  | "node-limit"
  | "value";

/** A plan that cannot run; `reason` names the violated rule. */
export class PlanError extends Error {
  constructor(
    readonly reason: PlanErrorReason,
    message: string,
  ) {
    super(`PlanError(${reason}): ${message}`);
    this.name = "PlanError";
  }
}

/** A plan with everything derived: etp resolved, micro-batches per pipeline, world size, expert DP. */
export interface ResolvedPlan extends ParallelPlan {
  etp: number;
  /** Micro-batches per pipeline per step (m). */
  microBatches: number;
  /** GPUs dp·tp·pp. */
  world: number;
  /** Ranks holding copies of one expert shard: dp·tp / (ep·etp). */
  expertDp: number;
}

/** `partial` merged over DEFAULT_PLAN and checked against `shape` (and `cluster`, when given, for the world size). */
export function resolvePlan(shape: ModelShape, partial: Partial<ParallelPlan>, c?: Cluster): ResolvedPlan {
  const p = { ...DEFAULT_PLAN, ...partial };
  const fn = "resolvePlan";
  for (const key of ["dp", "tp", "pp", "ep", "microBatch", "globalBatch", "virtualStages", "dispatchBytes"] as const) {
    try {
      checkPositiveInt(fn, key, p[key]);
    } catch (e) {
      throw new PlanError("value", (e as Error).message);
    }
  }
  const etp = p.etp ?? p.tp;
  if (!(Number.isSafeInteger(etp) && etp >= 1))
    throw new PlanError("value", `etp must be a positive integer or null, got ${p.etp}`);
  if (![0, 1, 2, 3].includes(p.zero)) throw new PlanError("value", `zero must be 0, 1, 2 or 3, got ${p.zero}`);
  if (!["none", "selective", "full"].includes(p.recompute))
    throw new PlanError("value", `recompute must be none, selective or full, got ${p.recompute}`);
  if (shape.heads % p.tp)
    throw new PlanError("tp-heads", `tp = ${p.tp} does not divide the ${shape.heads} attention heads`);
  if (p.pp > shape.layers)
    throw new PlanError("pp-layers", `pp = ${p.pp} exceeds the ${shape.layers} layers (a stage would be empty)`);
  if (p.ep > 1 || etp !== p.tp) {
    if (!shape.moe)
      throw new PlanError("ep-dense", `ep = ${p.ep}, etp = ${etp} on a dense model (no experts to split)`);
  }
  if (shape.moe && shape.moe.nRouted % p.ep)
    throw new PlanError("ep-experts", `ep = ${p.ep} does not divide the ${shape.moe.nRouted} routed experts`);
  if ((p.dp * p.tp) % (p.ep * etp))
    throw new PlanError(
      "ep-group",
      `ep·etp = ${p.ep * etp} does not divide dp·tp = ${p.dp * p.tp} (experts are sharded inside the data×tensor-parallel ranks)`,
    );
  const world = p.dp * p.tp * p.pp;
  if (c && world !== worldSize(c))
    throw new PlanError("world-size", `dp·tp·pp = ${world} but the cluster has ${worldSize(c)} GPUs`);
  if (p.globalBatch % (p.dp * p.microBatch)) {
    throw new PlanError(
      "batch",
      `globalBatch ${p.globalBatch} is not a multiple of dp·microBatch = ${p.dp * p.microBatch}`,
    );
  }
  const microBatches = p.globalBatch / (p.dp * p.microBatch);
  if (p.schedule === "interleaved" && (shape.layers % (p.pp * p.virtualStages) || microBatches % p.pp || p.pp < 2)) {
    throw new PlanError(
      "interleaved",
      `interleaved 1F1B needs pp ≥ 2, layers (${shape.layers}) divisible by pp·v = ${p.pp * p.virtualStages} and m (${microBatches}) divisible by pp`,
    );
  }
  if (p.schedule === "dualpipe" && (p.pp % 2 || microBatches < p.pp)) {
    throw new PlanError(
      "dualpipe",
      `DualPipe needs an even pp (got ${p.pp}) and at least pp micro-batches (got ${microBatches})`,
    );
  }
  if (p.nodeLimit !== null && !(Number.isSafeInteger(p.nodeLimit) && p.nodeLimit >= 1)) {
    throw new PlanError("node-limit", `nodeLimit must be a positive integer or null, got ${p.nodeLimit}`);
  }
  return { ...p, etp, microBatches, world, expertDp: (p.dp * p.tp) / (p.ep * etp) };
}
