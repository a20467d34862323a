// Benchmark helpers for notebooks: timing, the benchmark models, the machine's measured peak, kernel profiles.
// (The engines that drive OpenBLAS and PyTorch processes are used by scripts/bench.ts directly.)
export * from "./timing";
export * from "./models";
export { SUITES, benchCases, transformerGemms, DEFAULT_CASE_OPTIONS } from "./workloads";
export type { BenchCase, CaseOptions, GemmShape, SuiteName, Workload } from "./workloads";
export { DEFAULT_PEAK_OPTIONS, cpuFacts, measuredPeak, parseCpuinfo, parseLscpu } from "./machine";
export type { Peak, PeakKind, PeakOptions, PeakRun } from "./machine";
export type { CpuFacts } from "./machine";
export { aggregateKernels, profileKernels } from "./profile";
export type { KernelProfile, KernelTime } from "./profile";
