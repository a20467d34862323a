// Parallelism planner, training cost, serving roofline and deployment cost (lab.plan): formulas with their sources, no tensors. Every number is a Figure
// {value, unit, formula, source}.
export { figure, SOURCES } from "./figure";
export type { Figure } from "./figure";
export { ffnParams, shapeFromLM, shapeParams, SHAPES } from "./shapes";
export type { MhaShape, MlaShape, ModelShape, MoEShape, ShapeParams } from "./shapes";
export { cluster, GPUS, worldSize } from "./cluster";
export type { Cluster, GpuName, GpuSpec } from "./cluster";
export { DEFAULT_PLAN, PlanError, resolvePlan } from "./parallel";
export type { ParallelPlan, PipelineSchedule, PlanErrorReason, Recompute, ResolvedPlan } from "./parallel";
export {
  ADAM_K,
  inFlightMicroBatches,
  layerActivationBytes,
  layerActivationTerms,
  memoryPerGpu,
  zeroStateBytes,
} from "./memory";
export type { LayerActivationTerms, MemoryReport } from "./memory";
export { communication, expectedRemoteSends, nodesSpanned } from "./comm";
export type { CommReport, Traffic } from "./comm";
export { bubbleFraction, bubbleTime, defaultChunks } from "./pipeline";
export type { ChunkTimes } from "./pipeline";
export { hardwareFlopsPerToken, matmulParams, sixN, trainingFlopsPerToken } from "./flops";
export { DEFAULT_EVALUATE, evaluatePlan, searchPlans } from "./step";
export type { EvaluateOptions, PlanReport, SearchOptions } from "./step";
export { costOfFlops, impliedMfu, narayananDays, PUBLISHED_RUNS, trainingCost, trainingDays } from "./cost";
export type { PublishedRun, TrainingCost } from "./cost";
export { deepspeedConfig, MEGATRON_COMMIT, megatronArgs, megatronLaunchScript } from "./launch";
export { calibrateEfficiency, planFigures } from "./step";
export { decodeFloor, kvBytesPerToken, servingMemory, weightBytes } from "./inference";
export {
  attentionFlopsPerToken,
  DEFAULT_WORKLOAD,
  expectedDistinctExperts,
  maxDecodeBatch,
  resolveWorkload,
  roofline,
  weightBytesRead,
} from "./roofline";
export type { PhaseRoofline, RooflineReport, ServingWorkload } from "./roofline";
export {
  ARTICLE_A100_COSTS,
  ARTICLE_A100_SOURCE,
  ARTICLE_A100_STRESS,
  ARTICLE_COST_FORMULA,
  costPerMillionTokens,
  DEEPSEEK_DAY6,
  DEFAULT_DEPLOYMENT_COST,
  impliedCosts,
  impliedHourlyCost,
} from "./serving-cost";
export type { DeploymentCostInput, ImpliedCost, ReportedCostRow } from "./serving-cost";
