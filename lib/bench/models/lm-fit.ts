// Benchmark LM training: the lab's own language model (lab.model.TransformerLM, dense or MoE) trained by lab.train.fit
// exactly as a notebook trains it (AdamW with decay on matrices, global-norm clipping, per-step seeding, loss and
// gradient norm read back each step), on random token batches. The PyTorch twin (scripts/bench_torch.py, lm_fit)
// builds the same architecture and runs the same loop. Reference: nanoGPT train.py (the loop), DeepSeek-V3 model.py (MoE).
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../../check";
import { lmConfig } from "../../model/config";
import type { LMConfig } from "../../model/config";
import { TransformerLM } from "../../model/transformer";
import { rng } from "../../random";
import { DEFAULT_FIT, fit } from "../../train/fit";
import type { FitOptimizerSettings } from "../../train/fit";

/** What one benchmark call trains. */
export interface LmFitConfig {
  /** The language model (resolved by lab.model.lmConfig). */
  model: LMConfig;
  /** Sequences per step B. */
  batchSize: number;
  /** Tokens per sequence T (at most model.contextLen). */
  seqLen: number;
  /** fit steps per benchmark call (tokens per call = steps·B·T). */
  steps: number;
  /** Constant learning rate. */
  learningRate: number;
  /** AdamW settings (fit's). */
  optimizer: FitOptimizerSettings;
  /** Global gradient-norm clip. */
  clipNorm: number;
}

/** The dense model: vocab 96, d 256, 4 layers, 4 heads, context 128, SwiGLU 680, RoPE, RMSNorm, tied head. */
export const DENSE_LM = lmConfig({
  vocabSize: 96,
  dim: 256,
  nLayers: 4,
  nHeads: 4,
  contextLen: 128,
  ffnHidden: 680,
  ffn: "dense",
});

/**
 * The MoE model: DENSE_LM with every FFN an MoE layer of 16 routed experts (top-2, softmax gate, Switch balance
 * loss 1e-2, dropless) + 1 shared expert, all of width 170 (active FFN width 3·170 = 510 = 0.75 × 680).
 */
export const MOE_LM = lmConfig({
  ...DENSE_LM,
  ffn: "moe",
  moe: { nRouted: 16, topK: 2, nShared: 1, expertHidden: 170 },
});

/** B 32, T 128, 5 steps a call, fit's defaults: AdamW 1e-3 (0.9/0.95, decay 0.1 on matrices), clip 1.0. */
export function lmFitConfig(model: LMConfig, patch: Partial<Omit<LmFitConfig, "model">> = {}): LmFitConfig {
  const fn = "lmFitConfig";
  const c: LmFitConfig = {
    model,
    batchSize: 32,
    seqLen: 128,
    steps: 5,
    learningRate: 1e-3,
    optimizer: DEFAULT_FIT.optimizer,
    clipNorm: DEFAULT_FIT.clipNorm ?? 1,
    ...patch,
  };
  checkPositiveInt(fn, "batchSize", c.batchSize);
  checkPositiveInt(fn, "seqLen", c.seqLen);
  checkPositiveInt(fn, "steps", c.steps);
  if (c.seqLen > model.contextLen)
    throw new Error(`${fn}: seqLen (${c.seqLen}) must be at most model.contextLen (${model.contextLen})`);
  if (!(c.learningRate > 0)) throw new Error(`${fn}: learningRate must be > 0, got ${c.learningRate}`);
  if (!(c.clipNorm > 0)) throw new Error(`${fn}: clipNorm must be > 0, got ${c.clipNorm}`);
  return c;
}

/** One batch of random tokens from the global seeded stream: inputs and next-token targets, [B, T] int32 each. */
export type LmBatch = { inputs: tf.Tensor2D; targets: tf.Tensor2D };

/** B sequences of T + 1 random tokens → inputs (first T) and targets (last T). */
export function lmBatch(
  c: Pick<LmFitConfig, "batchSize" | "seqLen"> & { model: Pick<LMConfig, "vocabSize"> },
): LmBatch {
  const { batchSize: B, seqLen: T } = c;
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let prev = rng().int(c.model.vocabSize);
    for (let t = 0; t < T; t++) {
      const next = rng().int(c.model.vocabSize);
      inputs[b * T + t] = prev;
      targets[b * T + t] = next;
      prev = next;
    }
  }
  return { inputs: tf.tensor2d(inputs, [B, T], "int32"), targets: tf.tensor2d(targets, [B, T], "int32") };
}

/** A model and a call that trains it `steps` steps with fit (weights from the seeded stream: lab.seed() first). */
export class LmFitRun {
  readonly lm: TransformerLM;

  constructor(readonly config: LmFitConfig) {
    this.lm = new TransformerLM(config.model);
  }

  /** Trains config.steps steps (fresh AdamW state each call, as fit starts one); returns the last step's loss. */
  async call(): Promise<number> {
    const c = this.config;
    const result = await fit<LmBatch>({
      module: this.lm,
      loss: (b) => this.lm.stepLoss(b.inputs, b.targets),
      batches: () => lmBatch(c),
      config: {
        steps: c.steps,
        schedule: { kind: "constant", lr: c.learningRate, warmupSteps: 0 },
        optimizer: c.optimizer,
        clipNorm: c.clipNorm,
        logEvery: c.steps,
        yieldMs: 1e9, // no event-loop yields inside the timed call
      },
    });
    return result.history[result.history.length - 1].loss;
  }

  dispose(): void {
    this.lm.dispose();
  }
}
