// Shared pieces of the benchmark models: Adam settings, the train step (the lab's Adam inside tf.tidy: fused on native,
// tfjs's math elsewhere). Reference: torch.optim.Adam defaults, https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
import * as tf from "@tensorflow/tfjs";
import { NativeAdamOptimizer } from "../../native/optimizer";

/** Adam hyper-parameters (the PyTorch twin in scripts/bench_torch.py gets the same values). */
export interface AdamConfig {
  /** Step size. Default 1e-3. */
  learningRate: number;
  /** Decay of the first-moment average. Default 0.9. */
  beta1: number;
  /** Decay of the second-moment average. Default 0.999. */
  beta2: number;
  /** Added to the denominator. Default 1e-8 (PyTorch's; tfjs's own default is 1e-7). */
  epsilon: number;
}

/** torch.optim.Adam's defaults. */
export const DEFAULT_ADAM: Readonly<AdamConfig> = Object.freeze({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

/** Throws unless every Adam field is a positive finite number (betas below 1). */
export function checkAdam(fn: string, adam: AdamConfig): void {
  for (const key of Object.keys(DEFAULT_ADAM) as (keyof AdamConfig)[]) {
    const v = adam[key];
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) throw new Error(`${fn}: adam.${key} must be a positive number, got ${v}`);
  }
  if (adam.beta1 >= 1 || adam.beta2 >= 1) throw new Error(`${fn}: adam.beta1 and adam.beta2 must be < 1`);
}

/** Frees every tensor of a batch object (fields that are tensors or null). */
export function disposeBatch(batch: object): void {
  tf.dispose(Object.values(batch).filter((t): t is tf.Tensor => t instanceof tf.Tensor));
}

/** A model with named trainable parameters, a scalar loss on a batch, and an Adam train step. */
export abstract class BenchModel<Batch> {
  /** Trainable parameters by name (tf.variables). */
  readonly params: Readonly<Record<string, tf.Variable>>;
  private readonly optimizer: NativeAdamOptimizer;

  /** Takes ownership of `params` (unnamed tf.variables: tfjs names them uniquely, so models can live side by side). */
  protected constructor(params: Record<string, tf.Variable>, adam: AdamConfig) {
    this.params = params;
    this.optimizer = new NativeAdamOptimizer(adam.learningRate, adam.beta1, adam.beta2, adam.epsilon);
  }

  /** The mean loss on `batch` (differentiable with respect to `params`). */
  abstract loss(batch: Batch): tf.Scalar;

  /** One Adam step on `batch`; returns the loss before the update. Leaves no tensors behind. */
  trainStep(batch: Batch): number {
    const cost = tf.tidy(() => this.optimizer.minimize(() => this.loss(batch), true, Object.values(this.params))!);
    const value = cost.dataSync()[0];
    cost.dispose();
    return value;
  }

  /** Loss and gradient of every parameter on `batch`, read back to JS arrays (cross-backend comparisons). */
  gradients(batch: Batch): { loss: number; grads: Record<string, Float32Array> } {
    const names = Object.keys(this.params);
    const { value, grads } = tf.variableGrads(() => this.loss(batch), Object.values(this.params));
    const out: Record<string, Float32Array> = {};
    // Copies: on cpu-derived backends dataSync() returns the tensor's own buffer, which a buffer pool may reuse.
    for (const name of names) out[name] = Float32Array.from(grads[this.params[name].name].dataSync());
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, grads: out };
  }

  /** Frees the parameters and the optimizer's moments. */
  dispose(): void {
    tf.dispose(Object.values(this.params));
    this.optimizer.dispose();
  }
}
