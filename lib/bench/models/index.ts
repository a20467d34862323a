// Benchmark models: a dense MLP (pure tfjs ops) and the lab's own TransformerLM as a nanoGPT twin, with Adam steps.
export { BenchModel, DEFAULT_ADAM, disposeBatch } from "./common";
export { DEFAULT_MLP_CONFIG, Mlp, mlpBatch, mlpConfig, mlpWidths } from "./mlp";
export type { MlpBatch, MlpConfig } from "./mlp";
export {
  BENCH_LM,
  BenchTransformer,
  DEFAULT_TRANSFORMER_CONFIG,
  transformerBatch,
  transformerConfig,
} from "./transformer";
export type { TransformerBatch, TransformerConfig, TransformerPatch } from "./transformer";
