// Batched generation of ragged prompts: one forward per step for the whole batch (left padding, per-row positions and
// masks, the KV cache in row mode), each row sampled from its own seeded stream, finished rows (stop token or their
// budget) dropped from the batch and their cache rows freed at once. Row b's tokens equal generate(model, prompts[b],
// maxNewTokens, config, rngs[b]). Reference: Hugging Face `generate` with a padded batch; nanoGPT `generate`.
import { checkPositiveInt } from "../check";
import { Rng, rng as globalRng } from "../random";
import { forwardRows, StepModel } from "./batch-step";
import { checkSample, DEFAULT_GENERATE, GenerateConfig, sampleToken, samplingOf } from "./generate";

/** Checks one prompt against the model (errors name the prompt's index and the limit). */
export function checkPrompt(
  fn: string,
  model: StepModel,
  prompt: readonly number[],
  maxNewTokens: number,
  label: string,
): void {
  const { vocabSize: V, contextLen } = model.config;
  if (!Array.isArray(prompt) || prompt.length < 1) throw new Error(`${fn}: ${label} must hold at least one token`);
  prompt.forEach((t, i) => {
    if (!(Number.isSafeInteger(t) && t >= 0 && t < V))
      throw new Error(`${fn}: ${label}[${i}] = ${t} is not a token id in [0, ${V})`);
  });
  if (prompt.length + maxNewTokens > contextLen) {
    throw new Error(
      `${fn}: ${label} (${prompt.length} tokens) + maxNewTokens (${maxNewTokens}) exceeds contextLen ${contextLen}`,
    );
  }
}

/**
 * Continues every prompt by up to maxNewTokens tokens (fewer when a stop token comes); returns the new tokens of each.
 * `rngs` holds one stream per prompt (default: forks of the global stream). useCache false re-runs every row's whole
 * sequence each step (the "no KV cache" baseline).
 */
export function generateBatch(
  model: StepModel,
  prompts: readonly (readonly number[])[],
  maxNewTokens: number,
  config: Partial<GenerateConfig> = {},
  rngs?: readonly Rng[],
): number[][] {
  const fn = "generateBatch(model, prompts, maxNewTokens)";
  const cfg = { ...DEFAULT_GENERATE, ...config };
  checkSample(fn, cfg);
  checkPositiveInt(fn, "maxNewTokens", maxNewTokens);
  if (!Array.isArray(prompts) || prompts.length < 1) throw new Error(`${fn}: prompts must hold at least one prompt`);
  prompts.forEach((p, i) => checkPrompt(fn, model, p, maxNewTokens, `prompts[${i}]`));
  if (rngs && rngs.length !== prompts.length)
    throw new Error(`${fn}: rngs must hold one stream per prompt (${prompts.length}), got ${rngs.length}`);
  const streams = rngs ?? prompts.map(() => globalRng().fork());
  const out: number[][] = prompts.map(() => []);
  let live = prompts.map((_, i) => i); // rows still generating, in cache row order
  const cache = cfg.useCache ? model.newCache() : undefined;
  try {
    while (live.length) {
      const rows = live.map((i) => {
        const seq = [...prompts[i], ...out[i]];
        const fresh = !cache || out[i].length === 0;
        return fresh ? { feed: seq, start: 0 } : { feed: seq.slice(-1), start: seq.length - 1 };
      });
      const logits = forwardRows(model, rows, cache);
      const keep: number[] = [];
      live.forEach((i, b) => {
        const next = sampleToken(logits[b], samplingOf(cfg), streams[i]);
        out[i].push(next);
        if (!(cfg.stop.includes(next) || out[i].length === maxNewTokens)) keep.push(b);
      });
      if (cache && keep.length < live.length) {
        cache.selectRows(keep);
        cache.compact();
      }
      live = keep.map((b) => live[b]);
    }
  } finally {
    cache?.dispose();
  }
  return out;
}
