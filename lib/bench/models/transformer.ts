// Benchmark transformer step: the lab's own language model (lab.model.TransformerLM), configured as a nanoGPT twin
// (learned absolute positions, pre-RMSNorm, tied head), one Adam step of its training loss on random byte sequences.
// The PyTorch twin (scripts/bench_torch.py) builds the same model. Reference: nanoGPT model.py (https://github.com/karpathy/nanoGPT).
import * as tf from "@tensorflow/tfjs";
import { rng } from "../../random";
import { checkKeys, checkPositiveInt } from "../../check";
import { lmConfig } from "../../model/config";
import type { LMConfig } from "../../model/config";
import { TransformerLM } from "../../model/transformer";
import type { AdamWConfig } from "../../train/optimizer";
import { BenchModel, DEFAULT_ADAM, benchAdam } from "./common";

/** The model, batch shape and optimizer of the benchmark's transformer step. */
export interface TransformerConfig {
  /** The language model (lab.model.lmConfig, resolved); dense FFN only (the twin has no MoE). Default BENCH_LM. */
  model: LMConfig;
  /** Sequences per train step B. Default 8. */
  batchSize: number;
  /** Tokens per sequence T, at most model.contextLen. Default 128. */
  seqLen: number;
  /** Optimizer settings. Default: torch.optim.Adam's. */
  adam: AdamWConfig;
}

/** What transformerConfig merges: model fields over BENCH_LM's, Adam fields over DEFAULT_ADAM's. */
export interface TransformerPatch {
  model?: Partial<LMConfig>;
  batchSize?: number;
  seqLen?: number;
  adam?: Partial<AdamWConfig>;
}

/** nanoGPT-style: d=256, 4 heads, 2 layers, context 128, SwiGLU FFN 768, vocab 256, learned positions, RMSNorm, tied head. */
export const BENCH_LM: Readonly<LMConfig> = lmConfig({
  vocabSize: 256,
  dim: 256,
  nHeads: 4,
  nLayers: 2,
  contextLen: 128,
  ffnHidden: 768,
  ffn: "dense",
  norm: "rmsnorm",
  normEps: 1e-6,
  positions: "learned",
  tiedHead: true,
  initStd: 0.02,
});

/** BENCH_LM, T=128, B=8, torch's Adam. */
export const DEFAULT_TRANSFORMER_CONFIG: Readonly<TransformerConfig> = Object.freeze({
  model: BENCH_LM,
  batchSize: 8,
  seqLen: 128,
  adam: DEFAULT_ADAM,
});

/** DEFAULT_TRANSFORMER_CONFIG with `patch` merged over it (model and adam field by field), checked. */
export function transformerConfig(patch: TransformerPatch = {}): TransformerConfig {
  const fn = "transformerConfig(patch)";
  const base = DEFAULT_TRANSFORMER_CONFIG;
  checkKeys(fn, "patch", patch, Object.keys(base));
  const model = lmConfig({ ...base.model, ...patch.model, moe: { ...base.model.moe, ...patch.model?.moe } });
  const c: TransformerConfig = { ...base, ...patch, model, adam: benchAdam(fn, patch.adam) };
  if (model.ffn !== "dense")
    throw new Error(`${fn}: model.ffn must be "dense" (the PyTorch twin has no MoE layer), got ${model.ffn}`);
  checkPositiveInt(fn, "batchSize", c.batchSize);
  checkPositiveInt(fn, "seqLen", c.seqLen);
  if (c.seqLen > model.contextLen)
    throw new Error(`${fn}: seqLen (${c.seqLen}) must be at most model.contextLen (${model.contextLen})`);
  return c;
}

/** One batch: input tokens and the next-token targets (lab.data's Batch form). */
export interface TransformerBatch {
  /** [batchSize, seqLen] int32 token ids. */
  inputs: tf.Tensor2D;
  /** [batchSize, seqLen] int32 next tokens. */
  targets: tf.Tensor2D;
}

/** Random byte sequences from the global seeded stream (lib/random): the same seed gives the same batch everywhere. */
export function transformerBatch(c: TransformerConfig): TransformerBatch {
  const { batchSize: B, seqLen: T } = c;
  const seq = Int32Array.from({ length: B * (T + 1) }, () => rng().int(c.model.vocabSize));
  const inputs = new Int32Array(B * T);
  const next = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    inputs.set(seq.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    next.set(seq.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  return { inputs: tf.tensor2d(inputs, [B, T], "int32"), targets: tf.tensor2d(next, [B, T], "int32") };
}

/** lab.model.TransformerLM as a benchmark model: its parameters, its training loss. Weights from the seeded stream: seed() first. */
export class BenchTransformer extends BenchModel<TransformerBatch> {
  readonly config: TransformerConfig;
  readonly lm: TransformerLM;

  constructor(patch: TransformerPatch = {}) {
    const config = transformerConfig(patch);
    const lm = new TransformerLM(config.model);
    super(Object.fromEntries(lm.namedParameters()), config.adam); // a dense model has no buffers: params are all its variables
    this.config = config;
    this.lm = lm;
  }

  /** Next-token logits [B, T, vocabSize] of `batch`. */
  logits(batch: TransformerBatch): tf.Tensor3D {
    return tf.tidy(() => {
      const out = this.lm.forward(batch.inputs);
      tf.dispose([out.auxLoss, ...out.loads, ...out.indices]);
      return out.logits;
    });
  }

  /** The model's training objective (TransformerLM.loss: cross-entropy; no aux loss in a dense model). */
  loss(batch: TransformerBatch): tf.Scalar {
    return tf.tidy(() => this.lm.loss(batch.inputs, batch.targets).loss);
  }
}
