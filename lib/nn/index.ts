// Neural-network modules: the parameter container and the layers built on it.
export { Module } from "./module";
export { DEFAULT_LINEAR, Linear } from "./linear";
export type { LinearConfig } from "./linear";
