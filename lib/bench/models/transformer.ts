// Benchmark tiny transformer: decoder-only, pre-RMSNorm causal multi-head attention + GELU/SiLU MLP blocks,
// next-token cross-entropy, Adam. Reference: nanoGPT model.py (https://github.com/karpathy/nanoGPT), with RMSNorm.
import * as tf from "@tensorflow/tfjs";
import { registerGradients } from "../../ops";
import { rng, truncatedNormal } from "../../random";
import { AdamConfig, BenchModel, DEFAULT_ADAM, checkAdam } from "./common";
import { gelu, silu } from "../../ops/activations";
import { softmaxCrossEntropy } from "../../ops/cross-entropy";
import { rmsNorm } from "../../ops/rms-norm";
import { checkPositiveInt as positiveInt, withDefaults } from "../../check";

/** Shape, variants and optimizer of the tiny transformer. */
export interface TransformerConfig {
  /** Token vocabulary (bytes). Default 256. */
  vocabSize: number;
  /** Model width d. Default 256. */
  dModel: number;
  /** Attention heads; must divide dModel. Default 4. */
  heads: number;
  /** Transformer blocks. Default 2. */
  layers: number;
  /** Tokens per sequence T. Default 128. */
  seqLen: number;
  /** Sequences per train step B. Default 8. */
  batchSize: number;
  /** MLP hidden width as a multiple of dModel. Default 4. */
  mlpRatio: number;
  /** MLP activation: exact GELU (erf) or SiLU (x·sigmoid x). Default "gelu". */
  activation: "gelu" | "silu";
  /** The output head reuses the token embedding (logits = h·Eᵀ). Default true. */
  tiedHead: boolean;
  /** RMSNorm epsilon. Default 1e-6. */
  normEps: number;
  /** Standard deviation of the truncated-normal weight init; residual output projections get it / √(2·layers). Default 0.02. */
  initStd: number;
  /** Optimizer settings. Default: torch.optim.Adam's. */
  adam: AdamConfig;
}

/** d=256, 4 heads, 2 layers, T=128, B=8, vocab 256, GELU, tied head. */
export const DEFAULT_TRANSFORMER_CONFIG: Readonly<TransformerConfig> = Object.freeze({
  vocabSize: 256,
  dModel: 256,
  heads: 4,
  layers: 2,
  seqLen: 128,
  batchSize: 8,
  mlpRatio: 4,
  activation: "gelu",
  tiedHead: true,
  normEps: 1e-6,
  initStd: 0.02,
  adam: DEFAULT_ADAM,
});

/** DEFAULT_TRANSFORMER_CONFIG with `patch` merged over it, checked. */
export function transformerConfig(patch: Partial<TransformerConfig> = {}): TransformerConfig {
  const fn = "transformerConfig(patch)";
  const c: TransformerConfig = { ...withDefaults(fn, DEFAULT_TRANSFORMER_CONFIG, patch), adam: withDefaults(fn, DEFAULT_ADAM, patch.adam, [], "patch.adam") };
  for (const key of ["vocabSize", "dModel", "heads", "layers", "seqLen", "batchSize", "mlpRatio"] as const) positiveInt(fn, key, c[key]);
  if (c.dModel % c.heads) throw new Error(`${fn}: heads (${c.heads}) must divide dModel (${c.dModel})`);
  if (c.activation !== "gelu" && c.activation !== "silu") throw new Error(`${fn}: activation must be "gelu" or "silu", got ${String(c.activation)}`);
  for (const key of ["normEps", "initStd"] as const) {
    if (!(Number.isFinite(c[key]) && c[key] > 0)) throw new Error(`${fn}: ${key} must be a positive number, got ${c[key]}`);
  }
  checkAdam(fn, c.adam);
  return c;
}

/** Matmul FLOPs of one train step (projections, attention scores and mixing, head; backward = 2× forward). */
export function transformerStepFlops(c: TransformerConfig): number {
  const n = c.batchSize * c.seqLen;
  const d = c.dModel;
  const perLayer = 2 * n * d * (3 * d + d + 2 * c.mlpRatio * d) + 2 * 2 * c.batchSize * c.seqLen * c.seqLen * d;
  return 3 * (c.layers * perLayer + 2 * n * d * c.vocabSize);
}

/** One batch: input tokens and the next-token targets. */
export interface TransformerBatch {
  /** [batchSize·seqLen] int32 token ids, sequence after sequence. */
  tokens: tf.Tensor1D;
  /** [batchSize·seqLen] int32 next tokens. */
  targets: tf.Tensor1D;
}

/** Random byte sequences from the global seeded stream (lib/random): the same seed gives the same batch everywhere. */
export function transformerBatch(c: TransformerConfig): TransformerBatch {
  const { batchSize: B, seqLen: T, vocabSize: V } = c;
  const seq = Int32Array.from({ length: B * (T + 1) }, () => rng().int(V));
  const inputs = new Int32Array(B * T);
  const next = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    inputs.set(seq.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    next.set(seq.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  return {
    tokens: tf.tensor1d(inputs, "int32"),
    targets: tf.tensor1d(next, "int32"),
  };
}

/** The tiny transformer. Weights truncated-normal from the global seeded stream, norm gains one: seed() first. */
export class TinyTransformer extends BenchModel<TransformerBatch> {
  readonly config: TransformerConfig;
  /** [T, T] additive causal mask: 0 on and below the diagonal, −1e9 above. */
  private readonly mask: tf.Tensor2D;

  constructor(patch: Partial<TransformerConfig> = {}) {
    // The lab's gradients: tf.gather's backward needs UnsortedSegmentSum, which only the lab provides on wasm.
    registerGradients();
    const config = transformerConfig(patch);
    const { vocabSize: V, dModel: d, seqLen: T, layers, initStd: std } = config;
    const hidden = config.mlpRatio * d;
    const residualStd = std / Math.sqrt(2 * layers);
    const params: Record<string, tf.Tensor> = {
      embed: truncatedNormal([V, d], 0, std), // [V, d]
      pos: truncatedNormal([T, d], 0, std), // [T, d]
    };
    for (let l = 0; l < layers; l++) {
      params[`l${l}.norm1`] = tf.ones([d]);
      params[`l${l}.wqkv`] = truncatedNormal([d, 3 * d], 0, std); // [d, 3d]
      params[`l${l}.wo`] = truncatedNormal([d, d], 0, residualStd); // [d, d]
      params[`l${l}.norm2`] = tf.ones([d]);
      params[`l${l}.w1`] = truncatedNormal([d, hidden], 0, std); // [d, 4d]
      params[`l${l}.w2`] = truncatedNormal([hidden, d], 0, residualStd); // [4d, d]
    }
    params.normF = tf.ones([d]);
    if (!config.tiedHead) params.head = truncatedNormal([d, V], 0, std); // [d, V]
    super(params, config.adam);
    this.config = config;
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) mask.fill(-1e9, i * T + i + 1, (i + 1) * T);
    this.mask = tf.tensor2d(mask, [T, T]);
  }

  private p(name: string): tf.Variable {
    return this.params[name];
  }

  private rmsNorm(x: tf.Tensor2D, gain: tf.Tensor): tf.Tensor2D {
    return rmsNorm(x, gain, this.config.normEps); // [N, d]
  }

  private attention(x: tf.Tensor2D, l: number): tf.Tensor2D {
    const { batchSize: B, seqLen: T, dModel: d, heads: H } = this.config;
    const dh = d / H;
    const qkv = tf.matMul(x, this.p(`l${l}.wqkv`) as tf.Tensor2D); // [N, 3d]
    const [q, k, v] = tf.split(qkv, 3, 1).map((t) => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3])); // [B, H, T, dh]
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), this.mask); // [B, H, T, T]
    const mixed = tf.matMul(tf.softmax(scores), v); // [B, H, T, dh]
    const merged = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [B * T, d]) as tf.Tensor2D; // [N, d]
    return tf.matMul(merged, this.p(`l${l}.wo`) as tf.Tensor2D); // [N, d]
  }

  private mlp(x: tf.Tensor2D, l: number): tf.Tensor2D {
    const h = tf.matMul(x, this.p(`l${l}.w1`) as tf.Tensor2D); // [N, 4d]
    const a = this.config.activation === "gelu" ? gelu(h) : silu(h); // [N, 4d]
    return tf.matMul(a, this.p(`l${l}.w2`) as tf.Tensor2D); // [N, d]
  }

  /** Next-token logits [B·T, vocabSize] of `batch`. */
  logits(batch: TransformerBatch): tf.Tensor2D {
    const { batchSize: B, seqLen: T, dModel: d, layers } = this.config;
    const embed = this.p("embed") as tf.Tensor2D;
    const tok = tf.gather(embed, batch.tokens); // [N, d]
    let x = tf.reshape(tf.add(tf.reshape(tok, [B, T, d]), this.p("pos")), [B * T, d]) as tf.Tensor2D; // [N, d]
    for (let l = 0; l < layers; l++) {
      x = tf.add(x, this.attention(this.rmsNorm(x, this.p(`l${l}.norm1`)), l));
      x = tf.add(x, this.mlp(this.rmsNorm(x, this.p(`l${l}.norm2`)), l));
    }
    const h = this.rmsNorm(x, this.p("normF")); // [N, d]
    return this.config.tiedHead ? tf.matMul(h, embed, false, true) : tf.matMul(h, this.p("head") as tf.Tensor2D); // [N, V]
  }

  loss(batch: TransformerBatch): tf.Scalar {
    const { batchSize: B, seqLen: T } = this.config;
    if (batch.tokens.size !== B * T) throw new Error(`TinyTransformer.loss(batch): expected ${B * T} tokens (B·T), got ${batch.tokens.size}`);
    return softmaxCrossEntropy(this.logits(batch), batch.targets);
  }

  dispose(): void {
    super.dispose();
    this.mask.dispose();
  }
}
