// Benchmark models: a dense MLP and a tiny decoder-only transformer, pure tfjs ops (workloads, not the lab's nn library).
export { BenchModel, DEFAULT_ADAM, disposeBatch } from "./common";
export { DEFAULT_MLP_CONFIG, Mlp, mlpBatch, mlpConfig, mlpStepFlops, mlpWidths } from "./mlp";
export type { MlpBatch, MlpConfig } from "./mlp";
export { DEFAULT_TRANSFORMER_CONFIG, TinyTransformer, transformerBatch, transformerConfig, transformerStepFlops } from "./transformer";
export type { TransformerBatch, TransformerConfig } from "./transformer";
