// The balancing run of the routing notebook: trains a MoE layer on a skewed token stream (regression to a fixed
// random teacher) with lab.train's step and records the load per step. Reference: DeepSeek-V3 §2.1.2 / §4.5 (MaxVio).
import * as tf from "@tensorflow/tfjs";
import { throwIfCancelled } from "../cancel";
import type { SkewedStream } from "../data/skewed-stream";
import type { MoEConfig } from "../moe/config";
import { MoELayer } from "../moe/layer";
import { loadMetrics } from "../moe/metrics";
import { randomNormal } from "../random";
import { adam } from "../train/optimizer";
import { DEFAULT_STEP, optimizerStep } from "../train/step";

/** One balancing run's record. */
export interface BalanceRun {
  /** MaxVio of each step's load. */
  maxVio: number[];
  /** Load per expert at each step ([steps][E]). */
  load: number[][];
  /** Regression loss (without aux loss) per step. */
  loss: number[];
}

/** Trains a MoE layer (config `layer`) for `steps` steps of `tokens` tokens from `stream` (Adam, lr), recording load. */
export function balanceRun(
  stream: SkewedStream,
  layer: Partial<MoEConfig>,
  steps: number,
  tokens: number,
  lr = 1e-2,
): BalanceRun {
  const dim = stream.config.dim;
  const moe = new MoELayer(dim, layer);
  const teacher = randomNormal([dim, dim], 0, 1 / Math.sqrt(dim)); // [dim, dim]
  const opt = adam({ learningRate: lr });
  const config = { ...DEFAULT_STEP, clipNorm: null };
  const run: BalanceRun = { maxVio: [], load: [], loss: [] };
  try {
    for (let step = 0; step < steps; step++) {
      throwIfCancelled(`balanceRun, after ${step} of ${steps} steps`); // between steps; finally frees the layer
      const x = stream.batch(tokens); // [tokens, dim]
      const { metrics, aux } = optimizerStep(
        opt,
        moe.trainableVariables(),
        () => {
          const out = moe.forward(x, { seqLen: tokens });
          const mse = tf.mean(tf.square(tf.sub(out.y, tf.tanh(tf.matMul(x, teacher))))) as tf.Scalar;
          return { loss: tf.add(mse, out.auxLoss) as tf.Scalar, metrics: { mse }, aux: { load: out.load } };
        },
        config,
      );
      try {
        moe.updateBias(aux.load as tf.Tensor1D);
        run.load.push(Array.from(aux.load.dataSync()));
      } finally {
        tf.dispose([x, ...Object.values(aux)]);
      }
      run.maxVio.push(loadMetrics(run.load[step]).maxVio);
      run.loss.push(metrics.mse);
    }
  } finally {
    opt.dispose();
    teacher.dispose();
    moe.dispose();
  }
  return run;
}
