// MoE Lab: the public API. Notebooks and scripts `import * as lab from "moelab"`.
import * as tf from "@tensorflow/tfjs";

export { tf };
export { init, banner, version } from "./lab";
export type { InitOptions } from "./lab";
export {
  BACKEND_ENV,
  BACKEND_ORDER,
  SYNC_BACKEND_ORDER,
  autoSelectBackend,
  availableBackends,
  currentBackend,
  probeBackends,
  selectBackend,
  useBackend,
} from "./backend-select";
export type { BackendName, BackendReport } from "./backend-select";
import { autoSelectBackend } from "./backend-select";
export { DEFAULT_SEED, Rng, currentSeed, randomNormal, randomUniform, rng, seed, truncatedNormal } from "./random";
export { clearOutput, display, kernelHost, setKernelHost } from "./display";
export type { DisplayBundle, DisplayOptions, KernelHost } from "./display";
export { CancelToken, KeyboardInterrupt, cancelled, currentToken, runCancellable, throwIfCancelled } from "./cancel";
import { installDenoHost } from "./deno-jupyter";
installDenoHost();
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
export * as teach from "./teach";
export * as serve from "./serve";
export * as adapt from "./adapt";
export { Linear, Module } from "./nn";
export { claims, record, recordEnvironment, RESULTS_MIME } from "./claims";
export type { ClaimRow, MetricValue, ResultsPayload } from "./claims";
export {
  byConstruction,
  checkInterval,
  checkRange,
  comparePaired,
  holds,
  near,
  outOfReach,
  unlessQuick,
  VERDICTS,
} from "./verdict";
export type { ClaimRange, PairedComparison, Verdict } from "./verdict";
export {
  addRmsNorm,
  causalAttention,
  cumsum,
  gelu,
  matmulBf16,
  registerGradients,
  rmsNorm,
  rotary,
  silu,
  softmaxCrossEntropy,
  stopGradient,
  topk,
} from "./ops";
export { adam } from "./train/optimizer";
export { matmulBf16Engine, matmulBf16Support } from "./native/kernels/matmul";
export type { FusedActivation } from "./native/kernels/matmul";

// Pick the best synchronously-starting backend now (native when built), so that a script's first op does not run on
// tfjs's slow `cpu` default; `await lab.init()` still chooses among all backends (wasm included).
autoSelectBackend();
