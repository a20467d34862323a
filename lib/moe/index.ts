// Mixture-of-Experts (routers, experts, dispatch, balance) — public API of this area (lab.moe).
export {
  DEFAULT_GATE,
  DEFAULT_MOE,
  ROUTER_PRESETS,
  checkGateConfig,
  expertCapacity,
  moeConfig,
  moeParamCounts,
  renormalizes,
} from "./config";
export type { BalanceMethod, ExpertImpl, GateConfig, MoEConfig, MoEParamCounts, Routing, ScoreFunc } from "./config";
export { expertChoice, gate, takeAlongRows } from "./gate";
export type { ExpertChoiceOutput, GateOutput } from "./gate";
export { expertChoicePlan, planCounts, tokenChoicePlan } from "./plan";
export type { RoutingPlan } from "./plan";
export { MOE_GRADIENTS, combine, dispatch, groupedMatMul, registerMoeGradients } from "./ops";
export { MOE_KERNELS } from "../kernel-names";
export type { GroupedAttrs, GroupedMode, PlanAttrs } from "../kernel-names";
export {
  auxFreeBiasUpdate,
  expertCounts,
  groupBalanceLoss,
  mseLoss,
  normalizeScores,
  sequenceWiseLoss,
  switchLoss,
  zLoss,
} from "./balance";
export type { BalanceLoss } from "./balance";
export { loadMetrics, routerEntropy } from "./metrics";
export type { LoadMetrics } from "./metrics";
export { EXPERT_PROJECTIONS, RoutedExperts } from "./experts";
export type { ExpertProjection, ExpertsHook } from "./experts";
export { Router } from "./router";
export type { Route } from "./router";
export { MoELayer } from "./layer";
export type { MoEForwardOptions, MoEOutput } from "./layer";
export { nodeTraffic, syntheticRouting } from "./nodes";
export type { NodeTraffic } from "./nodes";
export * as articleSnippets from "./article-snippets";
