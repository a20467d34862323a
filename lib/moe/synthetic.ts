// Synthetic routing workloads for the routing notebook: a skewed token stream (tokens drawn from clusters with Zipf
// frequencies, so a router without balancing collapses onto few experts) and a balancing run that trains a MoE layer
// on it (regression to a fixed random teacher) and records the load per step. Reference: DeepSeek-V3 §2.1.2 / §4.5
// (MaxVio), the articles' skewed-load illustrations.
import * as tf from "@tensorflow/tfjs";
import { cancelled, throwIfCancelled } from "../cancel";
import { checkPositiveInt } from "../check";
import { randomNormal, rng } from "../random";
import type { MoEConfig } from "./config";
import { MoELayer } from "./layer";
import { loadMetrics } from "./metrics";

/** A skewed stream's settings. */
export interface SkewedStreamConfig {
  /** Token dimension. */
  dim: number;
  /** Clusters tokens are drawn from. */
  clusters: number;
  /** Zipf exponent of the cluster frequencies (0 = uniform). */
  skew: number;
  /** Standard deviation of a token around its cluster centre. */
  noise: number;
}

export const DEFAULT_SKEWED_STREAM: Readonly<SkewedStreamConfig> = Object.freeze({ dim: 32, clusters: 16, skew: 1.2, noise: 0.3 });

/** A stream of token batches from Zipf-weighted clusters. Call dispose() when done. */
export class SkewedStream {
  readonly config: SkewedStreamConfig;
  private readonly centres: tf.Tensor2D; // [clusters, dim]
  private readonly cumulative: number[];

  constructor(config: Partial<SkewedStreamConfig> = {}) {
    this.config = { ...DEFAULT_SKEWED_STREAM, ...config };
    const { dim, clusters, skew } = this.config;
    checkPositiveInt("SkewedStream", "dim", dim);
    checkPositiveInt("SkewedStream", "clusters", clusters);
    this.centres = randomNormal([clusters, dim]) as tf.Tensor2D;
    const w = Array.from({ length: clusters }, (_, i) => 1 / (i + 1) ** skew);
    const total = w.reduce((a, b) => a + b, 0);
    let acc = 0;
    this.cumulative = w.map((v) => (acc += v / total));
  }

  /** `tokens` tokens [tokens, dim]: a cluster per token by frequency, plus Gaussian noise. */
  batch(tokens: number): tf.Tensor2D {
    const ids = Int32Array.from({ length: tokens }, () => {
      const u = rng().uniform();
      const i = this.cumulative.findIndex((c) => u < c);
      return i < 0 ? this.cumulative.length - 1 : i;
    });
    return tf.tidy(() => tf.add(tf.gather(this.centres, ids), randomNormal([tokens, this.config.dim], 0, this.config.noise))) as tf.Tensor2D;
  }

  dispose(): void {
    this.centres.dispose();
  }
}

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
export function balanceRun(stream: SkewedStream, layer: Partial<MoEConfig>, steps: number, tokens: number, lr = 1e-2): BalanceRun {
  const dim = stream.config.dim;
  const moe = new MoELayer(dim, layer);
  const teacher = randomNormal([dim, dim], 0, 1 / Math.sqrt(dim)); // [dim, dim]
  const opt = tf.train.adam(lr);
  const run: BalanceRun = { maxVio: [], load: [], loss: [] };
  for (let step = 0; step < steps; step++) {
    if (cancelled()) break; // interrupted: stop between steps, free the layer, throw below
    const x = stream.batch(tokens);
    let load: tf.Tensor1D | null = null;
    let mse = 0;
    const total = opt.minimize(() => {
      const out = moe.forward(x, { seqLen: tokens });
      load = tf.keep(out.load); // outlives the gradient tidy
      out.indices.dispose();
      const l = tf.mean(tf.square(tf.sub(out.y, tf.tanh(tf.matMul(x, teacher))))) as tf.Scalar;
      mse = l.dataSync()[0];
      return tf.add(l, out.auxLoss) as tf.Scalar;
    }, true, moe.trainableVariables());
    const counts = load!;
    moe.updateBias(counts);
    run.load.push(Array.from(counts.dataSync()));
    run.maxVio.push(loadMetrics(run.load[step]).maxVio);
    run.loss.push(mse);
    tf.dispose([x, counts, total!]);
  }
  opt.dispose();
  teacher.dispose();
  moe.dispose();
  throwIfCancelled(`balanceRun, after ${run.loss.length} of ${steps} steps`);
  return run;
}
