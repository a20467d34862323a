// The bench tests' tiny workloads: an MLP and a one-layer transformer small enough to run every engine in seconds.
import type { CaseOptions } from "../../lib/bench/workloads";

/** A 12 → 7 → 3 MLP, batch 4, Adam with the usual defaults. */
export const TINY_MLP: CaseOptions["mlp"] = {
  inputSize: 12,
  hidden: [7],
  classes: 3,
  batchSize: 4,
  adam: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
};

/** A one-layer transformer (V 11, d 8, 2 heads, T 5, batch 2), with or without a tied head. */
export function tinyTransformer(tiedHead: boolean): CaseOptions["transformer"] {
  return {
    model: { vocabSize: 11, dim: 8, nHeads: 2, nLayers: 1, contextLen: 5, ffnHidden: 12, tiedHead },
    seqLen: 5,
    batchSize: 2,
  };
}
