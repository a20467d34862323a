// Quantized decoding measured: for each weight format (lab.quant.quantizeModel), batch-1 decode speed with the KV
// cache (interleaved rounds: every round times one step of every format, so all see the same machine load) next to
// validation perplexity and the weight bytes the decode reads. Reference: lib/model/cache-measure.ts decodeSpeed (one
// cached single-token step, logits read back); lib/experiments/interleaved.ts.
import * as tf from "@tensorflow/tfjs";
import type { Timing } from "../bench/timing";
import { checkPositiveInt } from "../check";
import type { Batch } from "../data";
import type { TransformerLM } from "../model";
import { quantizeModel, type QuantizedModel, type QuantizeModelConfig } from "../quant";
import type { BatchSet } from "../train";
import { timeInterleaved } from "./interleaved";
import { valLoss } from "./lm-run";

/** What to measure. */
export interface QuantDecodeConfig {
  /** The formats compared with fp32 (each a quantizeModel config). */
  settings: Partial<QuantizeModelConfig>[];
  /** Cached tokens before the timed steps. Default 32. */
  context: number;
  /** Timed interleaved rounds (one decode step per format per round). Default 10. */
  rounds: number;
  /** Untimed rounds first. Default 2. */
  warmupRounds: number;
}

export const DEFAULT_QUANT_DECODE: Readonly<QuantDecodeConfig> = Object.freeze({
  settings: Object.freeze([
    { format: "int8" },
    { format: "int4" },
    { format: "e4m3" },
  ]) as Partial<QuantizeModelConfig>[],
  context: 32,
  rounds: 10,
  warmupRounds: 2,
});

/** One format's result. */
export interface QuantDecodeRow {
  /** "fp32", or quantizeModel's label ("int8 channel", "int4 1x128 W4A8" ...). */
  label: string;
  /** Bytes of the quantized layers' weights (codes + scales; fp32: 4 bytes each). */
  layerBytes: number;
  /** Batch-1 decode step times over the rounds, ms (median, min, max, samples). */
  timing: Timing;
  /** 1000 / median ms. */
  tokensPerSecond: number;
  /** tokens/s over fp32's in the same rounds. */
  speedup: number;
  /** Validation cross-entropy and perplexity with these weights. */
  valLoss: number;
  perplexity: number;
}

/**
 * fp32 and each quantized format of `model` (restored to fp32 afterwards): decode speed at batch 1 after `context`
 * cached tokens, and perplexity on `val`. Errors name the field.
 */
export function quantizedDecode(
  model: TransformerLM,
  val: BatchSet<Batch>,
  config: Partial<QuantDecodeConfig> = {},
): QuantDecodeRow[] {
  const fn = "quantizedDecode(model, val, config)";
  const c = { ...DEFAULT_QUANT_DECODE, ...config };
  checkPositiveInt(fn, "context", c.context);
  checkPositiveInt(fn, "rounds", c.rounds);
  const steps = c.rounds + c.warmupRounds;
  if (c.context + steps > model.config.contextLen)
    throw new Error(`${fn}: context ${c.context} + ${steps} rounds exceeds contextLen ${model.config.contextLen}`);
  const quantized: QuantizedModel[] = [];
  try {
    for (const s of c.settings) {
      const q = quantizeModel(model, s);
      q.restore();
      quantized.push(q);
    }
    const variants: (QuantizedModel | null)[] = [null, ...quantized];
    const use = (q: QuantizedModel | null) => {
      quantized.forEach((o) => o.restore());
      q?.activate();
    };
    const prompt = tf.tensor2d(
      Int32Array.from({ length: c.context }, (_, i) => (i * 31 + 7) % model.config.vocabSize),
      [1, c.context],
      "int32",
    );
    const next = tf.tensor2d([[1]], [1, 1], "int32");
    const caches = variants.map((q) => {
      use(q);
      const cache = model.newCache();
      tf.tidy(() => void model.forward(prompt, cache));
      return cache;
    });
    const timings = timeInterleaved(
      variants.map((q, i) => ({
        name: q ? q.label : "fp32",
        run: () => {
          use(q);
          tf.tidy(() => void model.forward(next, caches[i]).logits.dataSync());
        },
      })),
      { rounds: c.rounds, warmupRounds: c.warmupRounds },
    );
    caches.forEach((k) => k.dispose());
    tf.dispose([prompt, next]);
    const rows = variants.map((q, i) => {
      use(q);
      const loss = valLoss(model, val);
      const fp32Bytes = quantized[0]?.fp32Bytes ?? 0;
      return {
        label: timings[i].name,
        layerBytes: q ? q.quantizedBytes : fp32Bytes,
        timing: timings[i],
        tokensPerSecond: 1000 / timings[i].median,
        speedup: timings[0].median / timings[i].median,
        valLoss: loss,
        perplexity: Math.exp(loss),
      };
    });
    return rows;
  } finally {
    quantized.forEach((q) => q.restore());
  }
}
