// MoE Lab: the public API. Notebooks and scripts `import * as lab from "moelab"`.
import * as tf from "@tensorflow/tfjs";

export { tf };
export { init, banner, version } from "./lab";
export type { InitOptions } from "./lab";
export {
  BACKEND_ENV,
  BACKEND_ORDER,
  availableBackends,
  currentBackend,
  probeBackends,
  selectBackend,
  useBackend,
} from "./backend-select";
export type { BackendName, BackendReport } from "./backend-select";
export { DEFAULT_SEED, Rng, currentSeed, randomNormal, randomUniform, rng, seed, truncatedNormal } from "./random";
export { clearOutput, display, kernelHost, setKernelHost } from "./display";
export type { DisplayBundle, DisplayOptions, KernelHost } from "./display";
export * as viz from "./viz";
export { show } from "./viz";
export { progress, trackProgress, DEFAULT_PROGRESS_CONFIG } from "./progress";
export type { ProgressBar, ProgressConfig, ProgressOptions, ProgressStream, TrackProgressOptions } from "./progress";
export * as bench from "./bench";
export * as nn from "./nn";
export * as moe from "./moe";
export * as data from "./data";
export * as model from "./model";
export * as train from "./train";
export * as quant from "./quant";
export * as rl from "./rl";
export * as experiments from "./experiments";
export * as flops from "./flops";
export * as plan from "./plan";
export * as adapt from "./adapt";
export { Linear, Module } from "./nn";
export { claims, record, recordEnvironment, RESULTS_MIME, unlessQuick, VERDICTS } from "./claims";
export type { ClaimRow, MetricValue, ResultsPayload, Verdict } from "./claims";
export { cumsum, gelu, registerGradients, rmsNorm, silu, softmaxCrossEntropy, stopGradient, topk } from "./ops";
export { adam } from "./train/optimizer";
export { matmulBf16, matmulBf16Support } from "./native/kernels/matmul";
export type { FusedActivation } from "./native/kernels/matmul";
