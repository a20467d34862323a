// Serving: requests, clocks, the continuous/static batching engine, vLLM's serving metrics, seeded Poisson traces and
// the stress-test harness. `lab.serve`. (Batched generation itself is lab.model.generateBatch.)
export { checkRequest, requestSampling, ServeRequestError } from "./request";
export type { ServeRequest } from "./request";
export { LogicalClock, makeClock, WallClock } from "./clock";
export type { Clock, ClockKind } from "./clock";
export { DEFAULT_ENGINE, Engine, engineConfig } from "./engine";
export type { BatchPolicy, EngineConfig, EngineRun, RequestResult } from "./engine";
export { latencyStats, percentile, requestLatency, summarizeRun } from "./metrics";
export type { LatencyStats, RequestLatency, ServeSummary } from "./metrics";
export { DEFAULT_TRACE, poissonTrace } from "./trace";
export type { TraceConfig } from "./trace";
export {
  batchingCurves,
  batchRequests,
  cacheComparison,
  DEFAULT_BATCHING_CURVES,
  DEFAULT_STRESS,
  peakRssBytes,
  stressTest,
} from "./stress";
export type { BatchingCurveConfig, CacheComparison, CurvePoint, ServeModel, StressConfig, StressRow } from "./stress";
export { torchServeScript, torchTwinDecode } from "./torch-twin";
export type { TwinReply, TwinRequest } from "./torch-twin";
