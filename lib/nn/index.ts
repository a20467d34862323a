// Neural-network modules: the parameter container and the layers built on it.
export { Module } from "./module";
export { DEFAULT_LINEAR, Linear } from "./linear";
export type { LinearConfig, LinearHook } from "./linear";
export { DEFAULT_SWIGLU, SwiGLU, swiGate } from "./swiglu";
export type { SwiGLUConfig } from "./swiglu";
export { matmulPrecision, withMatmulPrecision } from "./precision";
export type { MatmulPrecision } from "./precision";
