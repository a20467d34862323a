// A synthetic token stream for routing experiments: tokens drawn from clusters with Zipf frequencies, so a router
// without balancing collapses onto few experts. Reference: DeepSeek-V3 §2.1.2, the articles' skewed-load illustrations.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, withDefaults } from "../check";
import { randomNormal, rng } from "../random";

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

export const DEFAULT_SKEWED_STREAM: Readonly<SkewedStreamConfig> = Object.freeze({
  dim: 32,
  clusters: 16,
  skew: 1.2,
  noise: 0.3,
});

/** A stream of token batches from Zipf-weighted clusters. Call dispose() when done. */
export class SkewedStream {
  readonly config: SkewedStreamConfig;
  private readonly centres: tf.Tensor2D; // [clusters, dim]
  private readonly cumulative: number[];

  constructor(config: Partial<SkewedStreamConfig> = {}) {
    this.config = withDefaults("SkewedStream(config)", DEFAULT_SKEWED_STREAM, config);
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
    return tf.tidy(() =>
      tf.add(tf.gather(this.centres, ids), randomNormal([tokens, this.config.dim], 0, this.config.noise)),
    ) as tf.Tensor2D;
  }

  dispose(): void {
    this.centres.dispose();
  }
}
