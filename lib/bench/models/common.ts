// Shared pieces of the benchmark models: the optimizer settings (the lab's one AdamW config, torch.optim.Adam's values),
// the train step (the lab's AdamW inside tf.tidy: fused on native, tfjs's math elsewhere), softmax cross-entropy.
// Reference: torch.optim.Adam defaults, https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
import * as tf from "@tensorflow/tfjs";
import { AdamW, AdamWConfig, adamwConfig, DEFAULT_ADAM as LAB_ADAM } from "../../train/optimizer";

/** torch.optim.Adam's defaults as the lab's AdamW config (no decay, eps 1e-8; the PyTorch twin gets the same values). */
export const DEFAULT_ADAM: Readonly<AdamWConfig> = Object.freeze({ ...LAB_ADAM, epsilon: 1e-8 });

/** `patch` merged over DEFAULT_ADAM and checked; the epsilon must be a number (the PyTorch twin has no backend default). */
export function benchAdam(fn: string, patch: Partial<AdamWConfig> = {}): AdamWConfig {
  const c = adamwConfig(patch, DEFAULT_ADAM, `${fn}: adam`);
  if (c.epsilon === null) throw new Error(`${fn}: adam.epsilon must be a number (the PyTorch twin needs it), got null`);
  return c;
}

/** Frees every tensor of a batch object (fields that are tensors or null). */
export function disposeBatch(batch: object): void {
  tf.dispose(Object.values(batch).filter((t): t is tf.Tensor => t instanceof tf.Tensor));
}

/** A model with named trainable parameters, a scalar loss on a batch, and an Adam train step. */
export abstract class BenchModel<Batch> {
  /** Trainable parameters by name (tf.variables). */
  readonly params: Readonly<Record<string, tf.Variable>>;
  private readonly optimizer: AdamW;

  /** Takes ownership of `params` (unnamed tf.variables: tfjs names them uniquely, so models can live side by side). */
  protected constructor(params: Record<string, tf.Variable>, adam: AdamWConfig) {
    this.params = params;
    this.optimizer = new AdamW(adam, DEFAULT_ADAM);
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
