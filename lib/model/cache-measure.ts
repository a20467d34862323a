// What a model's KV cache costs, measured on the model itself: bytes per token read from the cache tensors after a
// prefill (next to kvCacheBytesPerToken's formula), and single-token decode speed as the cached context grows.
// Reference: the DeepSeek-V2 report's KV-cache comparison (Table 1) and vLLM's per-output-token latency (TPOT).
import * as tf from "@tensorflow/tfjs";
import { summarize } from "../bench/timing";
import { Rng } from "../random";
import { checkPositiveInt } from "../check";
import { kvCacheBytesPerToken } from "./attention-kind";
import type { TransformerLM } from "./transformer";

/** The cache after a prefill of `tokens` positions (batch 1). */
export interface CacheFootprint {
  tokens: number;
  /** Values the cache tensors hold, all layers. */
  elements: number;
  /** elements · bytesPerElement / tokens: measured. */
  bytesPerToken: number;
  /** kvCacheBytesPerToken(config, bytesPerElement): the formula. */
  formulaBytesPerToken: number;
}

function randomPrompt(model: TransformerLM, length: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  return tf.tensor2d(
    Int32Array.from({ length }, () => rng.int(model.config.vocabSize)),
    [1, length],
    "int32",
  );
}

/** Prefills a fresh cache with `tokens` seeded random tokens and reads its size (bytesPerElement 4 = float32). */
export function measureCache(model: TransformerLM, tokens: number, bytesPerElement = 4, seed = 0): CacheFootprint {
  checkPositiveInt("measureCache", "tokens", tokens);
  const cache = model.newCache();
  const prompt = randomPrompt(model, tokens, seed);
  tf.tidy(() => void model.forward(prompt, cache));
  const elements = cache.elements();
  cache.dispose();
  prompt.dispose();
  return {
    tokens,
    elements,
    bytesPerToken: (elements * bytesPerElement) / tokens,
    formulaBytesPerToken: kvCacheBytesPerToken(model.config, bytesPerElement),
  };
}

/** Decode speed at one context length. */
export interface DecodeSpeed {
  /** Cached positions before the timed steps. */
  context: number;
  /** Median wall time of one single-token forward pass with the cache, ms. */
  msPerToken: number;
  tokensPerSecond: number;
}

/**
 * For each context c: prefill a fresh cache with c seeded random tokens (untimed), run one untimed step, then time
 * `steps` single-token forward passes (batch 1, logits read back); c + steps + 1 must fit contextLen.
 */
export function decodeSpeed(model: TransformerLM, contexts: readonly number[], steps = 8, seed = 0): DecodeSpeed[] {
  const fn = "decodeSpeed";
  checkPositiveInt(fn, "steps", steps);
  return contexts.map((c) => {
    checkPositiveInt(fn, "context", c);
    if (c + steps + 1 > model.config.contextLen)
      throw new Error(`${fn}: context ${c} + ${steps + 1} steps exceeds contextLen ${model.config.contextLen}`);
    const cache = model.newCache();
    const prompt = randomPrompt(model, c, seed);
    const next = tf.tensor2d([[0]], [1, 1], "int32");
    const step = () => tf.tidy(() => void model.forward(next, cache).logits.dataSync());
    tf.tidy(() => void model.forward(prompt, cache));
    step();
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      step();
      ms.push(performance.now() - start);
    }
    cache.dispose();
    tf.dispose([prompt, next]);
    const median = summarize(ms).median;
    return { context: c, msPerToken: median, tokensPerSecond: 1000 / median };
  });
}
