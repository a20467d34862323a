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
} from "./backend";
export type { BackendName, BackendReport } from "./backend";
export { DEFAULT_SEED, Rng, currentSeed, randomNormal, randomUniform, rng, seed, truncatedNormal } from "./random";
export { display, kernelHost, setKernelHost } from "./display";
export type { DisplayBundle, DisplayOptions, KernelHost } from "./display";
