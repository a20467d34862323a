// One optimizer step, the one every training loop calls: loss → gradients → clip → finiteness check → update →
// metrics, in tf.tidy. A NaN or infinite loss or gradient norm leaves the weights and the optimizer state as they were:
// the loop stops with an error that says so, or skips the step, as configured. Reference: nanoGPT train.py and cleanrl
// ppo.py (backward, clip_grad_norm_, optimizer.step); torch.cuda.amp.GradScaler (skip a step with inf/NaN gradients).
import * as tf from "@tensorflow/tfjs";
import { clipByGlobalNorm } from "./clip";
import type { LossOutput } from "./evaluate";
import { variableGrads } from "./grads";
import type { AdamW } from "./optimizer";

/** What a step does when the loss or the gradient norm is NaN or ±Infinity (the weights stay untouched either way). */
export type NonFinitePolicy = "stop" | "skip";

/** The step's settings. */
export interface StepConfig {
  /** Clip the global gradient norm to this; null = measure it only. Default 1. */
  clipNorm: number | null;
  /** "stop": throw a NonFiniteStepError; "skip": leave out the update and report applied = false. Default "stop". */
  onNonFinite: NonFinitePolicy;
}

export const DEFAULT_STEP: Readonly<StepConfig> = Object.freeze({ clipNorm: 1, onNonFinite: "stop" });

/** Checks a step config; errors name the caller `fn` and the field. */
export function checkStepConfig(fn: string, cfg: StepConfig): void {
  if (cfg.clipNorm !== null && !(cfg.clipNorm > 0))
    throw new Error(`${fn}.clipNorm must be > 0 or null, got ${cfg.clipNorm}`);
  if (cfg.onNonFinite !== "stop" && cfg.onNonFinite !== "skip")
    throw new Error(`${fn}.onNonFinite must be "stop" or "skip", got ${cfg.onNonFinite}`);
}

/** What a step reports. */
export interface StepResult {
  /** The loss before the update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The loss function's named metrics, as numbers. */
  metrics: Record<string, number>;
  /** The loss function's aux tensors: the caller's to dispose. */
  aux: Record<string, tf.Tensor>;
  /** False when the update was skipped (non-finite loss or gradient norm, onNonFinite "skip"). */
  applied: boolean;
}

/** A step whose loss or gradient norm was not finite; the update was not applied. */
export class NonFiniteStepError extends Error {
  constructor(
    readonly loss: number,
    readonly gradNorm: number,
  ) {
    super(
      `the loss is ${loss} and the gradient norm ${gradNorm}: the update was not applied, the weights are those before this step`,
    );
    this.name = "NonFiniteStepError";
  }
}

/** Minimises `loss()` over `variables` by one step of `optimizer` (at its current learning rate). */
export function optimizerStep(
  optimizer: AdamW,
  variables: tf.Variable[],
  loss: () => tf.Scalar | LossOutput,
  config: StepConfig,
): StepResult {
  let out: LossOutput | null = null;
  const tensorMetrics = () =>
    Object.values((out as LossOutput | null)?.metrics ?? {}).filter((t): t is tf.Scalar => t instanceof tf.Tensor);
  try {
    const result = tf.tidy(() => {
      const { value, grads } = variableGrads(() => {
        const raw = loss();
        const o: LossOutput = raw instanceof tf.Tensor ? { loss: raw } : raw;
        for (const t of [...Object.values(o.metrics ?? {}), ...Object.values(o.aux ?? {})])
          if (t instanceof tf.Tensor) tf.keep(t);
        out = o;
        return o.loss;
      }, variables);
      const { grads: clipped, norm } = clipByGlobalNorm(grads, config.clipNorm);
      const lossValue = value.dataSync()[0];
      const gradNorm = norm.dataSync()[0];
      const applied = Number.isFinite(lossValue) && Number.isFinite(gradNorm);
      if (applied) optimizer.applyGradients(clipped);
      else if (config.onNonFinite === "stop") throw new NonFiniteStepError(lossValue, gradNorm);
      const metrics = Object.fromEntries(
        Object.entries(out!.metrics ?? {}).map(([k, v]) => [k, v instanceof tf.Tensor ? v.dataSync()[0] : v]),
      );
      return { loss: lossValue, gradNorm, metrics, applied };
    });
    return { ...result, aux: { ...(out as LossOutput | null)?.aux } };
  } catch (e) {
    tf.dispose(Object.values((out as LossOutput | null)?.aux ?? {}));
    throw e;
  } finally {
    tf.dispose(tensorMetrics());
  }
}
