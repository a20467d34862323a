// Autoregressive generation: temperature, top-k and top-p (nucleus) sampling from the seeded PRNG, with or without the KV cache.
// Reference: nanoGPT model.py `generate` (logits / temperature, keep the top-k, sample from the softmax); Holtzman et
// al. 2019 and HF `TopPLogitsWarper` (nucleus); stop tokens as HF's eos_token_id.
import * as tf from "@tensorflow/tfjs";
import { throwIfCancelled } from "../cancel";
import { Rng, rng as globalRng } from "../random";
import { checkPositiveInt, withDefaults } from "../check";
import type { TransformerLM } from "./transformer";

/** How the next token is drawn from the logits. */
export interface SampleConfig {
  /** Softmax temperature; 0 = greedy (the first most likely token). */
  temperature: number;
  /** Sample only among the k most likely tokens (ties with the k-th are kept); null = all. */
  topK: number | null;
  /** Nucleus sampling: keep the most likely tokens (after top-k) until their probability reaches topP; 1 = all. */
  topP: number;
}

export const DEFAULT_SAMPLE: Readonly<SampleConfig> = Object.freeze({ temperature: 1, topK: null, topP: 1 });

/** Just the sampling fields of a larger config (a generation config also holds useCache, stop, ...). */
export function samplingOf(config: SampleConfig): SampleConfig {
  return { temperature: config.temperature, topK: config.topK, topP: config.topP };
}

/** Checks sampling settings (errors name the field). */
export function checkSample(fn: string, config: SampleConfig): void {
  const { temperature, topK, topP } = config;
  if (!(Number.isFinite(temperature) && temperature >= 0))
    throw new Error(`${fn}: temperature must be a finite number ≥ 0, got ${temperature}`);
  if (topK !== null) checkPositiveInt(fn, "topK", topK);
  if (!(Number.isFinite(topP) && topP > 0 && topP <= 1))
    throw new Error(`${fn}: topP must be a number in (0, 1], got ${topP}`);
}

/** One token id drawn from a row of logits [V] (softmax(logits / temperature) over the top-k, in float64). */
export function sampleToken(
  logits: ArrayLike<number>,
  config: Partial<SampleConfig> = {},
  rng: Rng = globalRng(),
): number {
  const cfg = withDefaults("sampleToken(logits, config)", DEFAULT_SAMPLE, config);
  const { temperature, topK, topP } = cfg;
  const fn = "sampleToken(logits, config)";
  const V = logits.length;
  if (V < 1) throw new Error(`${fn}: logits must have at least one entry`);
  checkSample(fn, cfg);
  for (let i = 0; i < V; i++) {
    if (Number.isNaN(logits[i]) || logits[i] === Infinity) {
      throw new Error(
        `${fn}: logits[${i}] is ${logits[i]}; logits must be finite or -Infinity (a NaN usually means the model's weights or activations diverged)`,
      );
    }
  }
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
  if (logits[best] === -Infinity) throw new Error(`${fn}: every logit is -Infinity; no token can be drawn`);
  if (temperature === 0) return best;
  const floor = topK !== null && topK < V ? Array.from(logits).sort((a, b) => b - a)[topK - 1] : -Infinity;
  const weights = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    if (logits[i] >= floor) weights[i] = Math.exp((logits[i] - logits[best]) / temperature);
    total += weights[i];
  }
  if (topP < 1) {
    // Most likely first (ties by index); keep the smallest prefix whose probability reaches topP (at least one token).
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => weights[b] - weights[a] || a - b);
    let kept = 0;
    let n = 0;
    while (n < V && kept < topP * total) kept += weights[order[n++]];
    for (let j = n; j < V; j++) weights[order[j]] = 0;
    total = kept;
  }
  let u = rng.uniform() * total;
  for (let i = 0; i < V; i++) {
    u -= weights[i];
    if (u < 0 && weights[i] > 0) return i;
  }
  return best;
}

/** Generation settings. */
export interface GenerateConfig extends SampleConfig {
  /** Reuse cached keys/values (one new token per step) instead of re-running the whole sequence. */
  useCache: boolean;
  /** Token ids that end a sequence (the stop token is returned as its last token). Default none. */
  stop: readonly number[];
}

export const DEFAULT_GENERATE: Readonly<GenerateConfig> = Object.freeze({
  ...DEFAULT_SAMPLE,
  useCache: true,
  stop: Object.freeze([]) as readonly number[],
});

/** Continues `prompt` (token ids) by `maxNewTokens` tokens; returns the new tokens. prompt + new must fit contextLen. */
export function generate(
  model: TransformerLM,
  prompt: readonly number[],
  maxNewTokens: number,
  config: Partial<GenerateConfig> = {},
  rng: Rng = globalRng(),
): number[] {
  const cfg = withDefaults("generate(model, prompt, maxNewTokens, config)", DEFAULT_GENERATE, config);
  const fn = "generate(model, prompt, maxNewTokens)";
  if (prompt.length < 1) throw new Error(`${fn}: prompt must hold at least one token`);
  const V = model.config.vocabSize;
  prompt.forEach((id, i) => {
    if (!(Number.isInteger(id) && id >= 0 && id < V))
      throw new Error(`${fn}: prompt[${i}] must be an integer token id in [0, ${V}), got ${id}`);
  });
  checkPositiveInt(fn, "maxNewTokens", maxNewTokens);
  checkSample(fn, cfg);
  const limit = model.config.contextLen;
  if (prompt.length + maxNewTokens > limit) {
    throw new Error(`${fn}: prompt (${prompt.length}) + maxNewTokens (${maxNewTokens}) exceeds contextLen ${limit}`);
  }
  const sequence = [...prompt];
  const cache = cfg.useCache ? model.newCache() : undefined;
  try {
    let feed = sequence;
    for (let step = 0; step < maxNewTokens; step++) {
      throwIfCancelled(`generate, before token ${step + 1} of ${maxNewTokens}`);
      const last = tf.tidy(() => {
        const ids = tf.tensor2d(feed, [1, feed.length], "int32"); // [1, T]
        const logits = model.forward(ids, cache).logits; // [1, T, V]
        return tf.slice(logits, [0, feed.length - 1, 0], [1, 1, -1]); // [1, 1, V]
      });
      let next: number;
      try {
        next = sampleToken(last.dataSync(), samplingOf(cfg), rng);
      } catch (e) {
        throw new Error(`${fn}: new token ${step}: ${(e as Error).message}`);
      } finally {
        last.dispose();
      }
      sequence.push(next);
      if (cfg.stop.includes(next)) break;
      feed = cache ? [next] : sequence;
    }
  } finally {
    cache?.dispose();
  }
  return sequence.slice(prompt.length);
}
