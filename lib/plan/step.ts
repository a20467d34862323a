// One plan evaluated end to end (memory, communication, pipeline bubble, step time, MFU, tokens/s) and a search over
// the plans that fit. Step time = compute/(1 − bubble) + the communication not hidden: TP and PP are on the critical
// path; DP overlaps the backward pass (when overlapDp); EP is exposed except under DualPipe, which overlaps it with
// compute (V3 §3.2.1). References: Narayanan et al. 2021 §3 and §5; DeepSeek-V3 §3.2; see each figure's source.
import { Cluster, worldSize } from "./cluster";
import { communication, CommReport } from "./comm";
import { figure, Figure, SOURCES } from "./figure";
import { hardwareFlopsPerToken, trainingFlopsPerToken } from "./flops";
import { memoryPerGpu, MemoryReport } from "./memory";
import { ParallelPlan, PlanError, resolvePlan, ResolvedPlan } from "./parallel";
import { bubbleFraction } from "./pipeline";
import type { ModelShape } from "./shapes";

/** Everything the planner says about one plan. */
export interface PlanReport {
  shape: ModelShape;
  plan: ResolvedPlan;
  memory: MemoryReport;
  communication: CommReport;
  bubble: Figure;
  /** Compute time of the step on one GPU at peak × kernelEfficiency (no bubble, no communication). */
  compute: Figure;
  /** Communication left on the critical path. */
  exposedComm: Figure;
  stepTime: Figure;
  /** Model FLOPs per step / (step time × GPUs × peak). */
  mfu: Figure;
  tokensPerSecond: Figure;
}

/** Options of the evaluation. */
export interface EvaluateOptions {
  /** Fraction of peak the layer kernels reach (1 = ideal: MFU is then an upper bound set by bubbles and communication). */
  kernelEfficiency: number;
}

export const DEFAULT_EVALUATE: Readonly<EvaluateOptions> = Object.freeze({ kernelEfficiency: 1 });

/** Evaluates `plan` (merged over DEFAULT_PLAN, checked; PlanError when impossible) for `shape` on `c`. */
export function evaluatePlan(
  shape: ModelShape,
  c: Cluster,
  plan: Partial<ParallelPlan>,
  options: Partial<EvaluateOptions> = {},
): PlanReport {
  const kernelEfficiency = options.kernelEfficiency ?? DEFAULT_EVALUATE.kernelEfficiency;
  if (!(kernelEfficiency > 0 && kernelEfficiency <= 1))
    throw new Error(`evaluatePlan: kernelEfficiency must be in (0, 1], got ${kernelEfficiency}`);
  const p = resolvePlan(shape, plan, c);
  const world = worldSize(c);
  const memory = memoryPerGpu(shape, p, c.gpu.memoryBytes * c.usableMemory);
  const comm = communication(shape, p, c);
  const bubble = bubbleFraction(p.schedule, p.pp, p.microBatches, undefined, p.virtualStages);
  const tokens = p.globalBatch * shape.seqLen;
  const hw = hardwareFlopsPerToken(shape, p.recompute);
  const peak = c.gpu.peakFlops * kernelEfficiency;
  const computeS = (hw.value * tokens) / world / peak;
  const compute = figure(
    computeS,
    "s",
    `hardware FLOP/token × tokens / GPUs / (peak × efficiency) = ${hw.value.toExponential(4)}·${tokens}/${world}/(${c.gpu.peakFlops.toExponential(3)}·${kernelEfficiency})`,
    SOURCES.narayanan,
  );
  const backward = (2 / 3) * computeS;
  const dpExposed = p.overlapDp ? Math.max(0, comm.dp.time.value - backward) : comm.dp.time.value;
  const epExposed = p.schedule === "dualpipe" ? Math.max(0, comm.ep.time.value - computeS) : comm.ep.time.value;
  const exposed = comm.tp.time.value + comm.pp.time.value + dpExposed + epExposed;
  const exposedComm = figure(
    exposed,
    "s",
    `TP ${comm.tp.time.value.toPrecision(3)} + PP ${comm.pp.time.value.toPrecision(3)} + DP ${p.overlapDp ? "max(0, DP − backward)" : "DP"} ${dpExposed.toPrecision(3)} + EP ${p.schedule === "dualpipe" ? "max(0, EP − compute) (DualPipe overlap)" : ""} ${epExposed.toPrecision(3)}`,
    `${SOURCES.narayanan}; ${SOURCES.v3Dualpipe}`,
  );
  const stepS = computeS / (1 - bubble.value) + exposed;
  const stepTime = figure(
    stepS,
    "s",
    `compute/(1 − bubble) + exposed communication = ${computeS.toPrecision(4)}/(1 − ${bubble.value.toPrecision(3)}) + ${exposed.toPrecision(4)}`,
    SOURCES.narayanan,
  );
  const model = trainingFlopsPerToken(shape);
  const mfu = figure(
    (model.value * tokens) / (stepS * world * c.gpu.peakFlops),
    "fraction",
    `model FLOP/token × tokens / (step × GPUs × peak) = ${model.value.toExponential(4)}·${tokens}/(${stepS.toPrecision(4)}·${world}·${c.gpu.peakFlops.toExponential(3)})`,
    SOURCES.narayanan,
  );
  const tokensPerSecond = figure(
    tokens / stepS,
    "tokens/s",
    `globalBatch·s / step = ${p.globalBatch}·${shape.seqLen}/${stepS.toPrecision(4)}`,
    SOURCES.narayanan,
  );
  return { shape, plan: p, memory, communication: comm, bubble, compute, exposedComm, stepTime, mfu, tokensPerSecond };
}

/** What the search varies and what it keeps. */
export interface SearchOptions extends Partial<EvaluateOptions> {
  /** Sequences per step (kept fixed across plans). */
  globalBatch: number;
  /** Fields every candidate keeps (e.g. dispatchBytes, nodeLimit). */
  fixed: Partial<ParallelPlan>;
  /** Candidates for the micro-batch size. */
  microBatches: number[];
  /** Candidate pipeline schedules. */
  schedules: ("1f1b" | "dualpipe")[];
  /** How many of the best plans to return. */
  top: number;
}

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

/** The plans that fit in memory, fastest first (by tokens/s), and how many candidates were tried and rejected. */
export function searchPlans(
  shape: ModelShape,
  c: Cluster,
  options: Partial<SearchOptions> & { globalBatch: number },
): { best: PlanReport[]; tried: number; impossible: number; tooBig: number } {
  const {
    globalBatch,
    fixed = {},
    microBatches = [1, 2, 4],
    schedules = ["1f1b", "dualpipe"],
    top = 5,
    kernelEfficiency,
  } = options;
  const world = worldSize(c);
  const found: PlanReport[] = [];
  let tried = 0;
  let impossible = 0;
  let tooBig = 0;
  for (const tp of divisors(c.gpusPerNode)) {
    for (const pp of divisors(world / tp)) {
      const dp = world / (tp * pp);
      for (const ep of shape.moe ? divisors(dp * tp) : [1]) {
        for (const zero of [0, 1, 2, 3] as const) {
          for (const recompute of ["none", "selective", "full"] as const) {
            for (const schedule of schedules) {
              for (const microBatch of microBatches) {
                tried++;
                const plan: Partial<ParallelPlan> = {
                  ...fixed,
                  dp,
                  tp,
                  pp,
                  ep,
                  etp: shape.moe ? 1 : null,
                  sp: tp > 1,
                  zero,
                  recompute,
                  schedule,
                  microBatch,
                  globalBatch,
                };
                let r: PlanReport;
                try {
                  r = evaluatePlan(shape, c, plan, { kernelEfficiency });
                } catch (e) {
                  if (e instanceof PlanError) {
                    impossible++;
                    continue;
                  }
                  throw e;
                }
                if (!r.memory.fits) {
                  tooBig++;
                  continue;
                }
                found.push(r);
              }
            }
          }
        }
      }
    }
  }
  const commTime = (r: PlanReport) => Object.values(r.communication).reduce((sum, t) => sum + t.time.value, 0);
  // Fastest first; among equally fast plans, the one that communicates less, then the one that needs less memory.
  found.sort(
    (a, b) =>
      b.tokensPerSecond.value - a.tokensPerSecond.value ||
      commTime(a) - commTime(b) ||
      a.memory.total.value - b.memory.total.value,
  );
  return { best: found.slice(0, top), tried, impossible, tooBig };
}

/** The kernelEfficiency at which `plan` reaches `targetMfu` (bisection; e.g. the MFU a published run's GPU-hours imply). */
export function calibrateEfficiency(
  shape: ModelShape,
  c: Cluster,
  plan: Partial<ParallelPlan>,
  targetMfu: number,
): Figure {
  const mfuAt = (e: number) => evaluatePlan(shape, c, plan, { kernelEfficiency: e }).mfu.value;
  if (!(targetMfu > 0 && targetMfu <= mfuAt(1))) {
    throw new Error(
      `calibrateEfficiency: target MFU ${targetMfu} is not reachable (the plan's upper bound is ${mfuAt(1).toFixed(4)})`,
    );
  }
  let lo = 1e-6;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (mfuAt(mid) < targetMfu) lo = mid;
    else hi = mid;
  }
  return figure(
    hi,
    "fraction",
    `kernelEfficiency e with MFU(plan, e) = ${targetMfu.toFixed(4)} (bisection)`,
    SOURCES.narayanan,
  );
}

/** The figures of a report by name, in reading order (for a table of value, formula and source). */
export function planFigures(r: PlanReport): Record<string, Figure> {
  const c = r.communication;
  return {
    "parameters per GPU": r.memory.params,
    "model states": r.memory.modelStates,
    activations: r.memory.activations,
    "memory per GPU": r.memory.total,
    "DP bytes": c.dp.bytes,
    "DP time": c.dp.time,
    "TP bytes": c.tp.bytes,
    "TP time": c.tp.time,
    "EP bytes": c.ep.bytes,
    "EP time": c.ep.time,
    "PP bytes": c.pp.bytes,
    "PP time": c.pp.time,
    "pipeline bubble": r.bubble,
    compute: r.compute,
    "exposed communication": r.exposedComm,
    "step time": r.stepTime,
    MFU: r.mfu,
    "tokens/s": r.tokensPerSecond,
  };
}
