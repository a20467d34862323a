// Benchmark MLP: dense layers with ReLU, softmax cross-entropy, Adam (an MNIST-sized classifier as a workload).
// Reference: PyTorch's nn.Linear/nn.ReLU classifier, https://pytorch.org/tutorials/beginner/basics/buildmodel_tutorial.html
import * as tf from "@tensorflow/tfjs";
import { randomNormal, rng } from "../../random";
import type { AdamWConfig } from "../../train/optimizer";
import { BenchModel, DEFAULT_ADAM, benchAdam } from "./common";
import { softmaxCrossEntropy } from "../../ops/cross-entropy";
import { checkPositiveInt as positiveInt, withDefaults } from "../../check";

/** Shape and optimizer of the MLP. */
export interface MlpConfig {
  /** Input features. Default 784 (a flattened 28×28 image). */
  inputSize: number;
  /** Hidden layer widths, each followed by ReLU. Default [512, 512]. */
  hidden: readonly number[];
  /** Output classes. Default 10. */
  classes: number;
  /** Examples per train step. Default 128. */
  batchSize: number;
  /** Optimizer settings. Default: torch.optim.Adam's. */
  adam: AdamWConfig;
}

/** 784 → 512 → 512 → 10, batch 128. */
export const DEFAULT_MLP_CONFIG: Readonly<MlpConfig> = Object.freeze({
  inputSize: 784,
  hidden: Object.freeze([512, 512]),
  classes: 10,
  batchSize: 128,
  adam: DEFAULT_ADAM,
});

/** DEFAULT_MLP_CONFIG with `patch` merged over it, checked. */
export function mlpConfig(patch: Partial<MlpConfig> = {}): MlpConfig {
  const fn = "mlpConfig(patch)";
  const c: MlpConfig = {
    ...withDefaults(fn, DEFAULT_MLP_CONFIG, patch),
    adam: withDefaults(fn, DEFAULT_ADAM, patch.adam, [], "patch.adam"),
  };
  positiveInt(fn, "inputSize", c.inputSize);
  positiveInt(fn, "classes", c.classes);
  positiveInt(fn, "batchSize", c.batchSize);
  if (!Array.isArray(c.hidden)) throw new Error(`${fn}: hidden must be an array of widths, got ${String(c.hidden)}`);
  c.hidden.forEach((w, i) => positiveInt(fn, `hidden[${i}]`, w));
  c.adam = benchAdam(fn, patch.adam);
  return c;
}

/** The layer widths, input first: [inputSize, ...hidden, classes]. */
export function mlpWidths(c: MlpConfig): number[] {
  return [c.inputSize, ...c.hidden, c.classes];
}

/** One batch: inputs and class labels. */
export interface MlpBatch {
  /** [batchSize, inputSize] standard-normal features. */
  x: tf.Tensor2D;
  /** [batchSize] int32 class ids. */
  labels: tf.Tensor1D;
}

/** A batch drawn from the global seeded stream (lib/random): the same seed gives the same batch on every backend. */
export function mlpBatch(c: MlpConfig): MlpBatch {
  const ids = Int32Array.from({ length: c.batchSize }, () => rng().int(c.classes));
  return { x: randomNormal([c.batchSize, c.inputSize]) as tf.Tensor2D, labels: tf.tensor1d(ids, "int32") };
}

/** The MLP. Weights He-normal (std √(2/fan-in)) from the global seeded stream, biases zero: seed() first. */
export class Mlp extends BenchModel<MlpBatch> {
  readonly config: MlpConfig;

  constructor(patch: Partial<MlpConfig> = {}) {
    const config = mlpConfig(patch);
    const w = mlpWidths(config);
    const params: Record<string, tf.Variable> = {};
    const variable = (init: tf.Tensor) => {
      const v = tf.variable(init, true);
      init.dispose();
      return v;
    };
    for (let i = 0; i + 1 < w.length; i++) {
      params[`w${i}`] = variable(randomNormal([w[i], w[i + 1]], 0, Math.sqrt(2 / w[i]))); // [in, out]
      params[`b${i}`] = variable(tf.zeros([w[i + 1]])); // [out]
    }
    super(params, config.adam);
    this.config = config;
  }

  /** Logits [batchSize, classes] of `x` [batchSize, inputSize]. */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    const layers = mlpWidths(this.config).length - 1;
    let h = x;
    for (let i = 0; i < layers; i++) {
      // _FusedMatMul (bias + activation), as tfjs-layers' Dense does. [B, out]
      h = tf.fused.matMul({
        a: h,
        b: this.params[`w${i}`] as tf.Tensor2D,
        bias: this.params[`b${i}`],
        activation: i + 1 < layers ? "relu" : "linear",
      }) as tf.Tensor2D;
    }
    return h;
  }

  loss(batch: MlpBatch): tf.Scalar {
    return softmaxCrossEntropy(this.logits(batch.x), batch.labels);
  }
}
