// Greedy speculative decoding with the first multi-token-prediction module as the drafter: the main model gives token
// t + 1, MTP module 1 drafts t + 2 from the same forward's hidden state; the next main forward takes both tokens,
// keeps the draft when the main model agrees (two tokens for one forward) and rolls the cache back when not. The
// output equals plain greedy decoding token for token. References: DeepSeek-V3 report §5.4.3 (MTP for speculative
// decoding: 85–90% acceptance, 1.8× TPS); Leviathan et al. 2023 (greedy acceptance); vLLM's deepseek_mtp proposer.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../check";
import { ropeFor } from "./attention-kind";
import { sampleToken } from "./generate";
import { KVCache } from "./kv-cache";
import type { TransformerLM } from "./transformer";

/** What a speculative decode produced and counted. */
export interface SpeculativeResult {
  /** The maxNewTokens new tokens (identical to greedy `generate`'s). */
  tokens: number[];
  /** Main-model forward passes, the prompt's prefill included. */
  forwards: number;
  /** Drafts the main model checked. */
  drafted: number;
  /** Drafts it agreed with. */
  accepted: number;
  /** accepted / drafted (acceptanceRate); null when nothing was drafted (one new token). */
  acceptance: number | null;
  /** New tokens per main forward pass (plain greedy decoding: 1). */
  tokensPerForward: number;
}

/** The fraction of drafts accepted, from the counts: accepted / drafted ∈ [0, 1]. */
export function acceptanceRate(accepted: number, drafted: number): number {
  const fn = "acceptanceRate(accepted, drafted)";
  checkPositiveInt(fn, "drafted", drafted);
  if (!(Number.isSafeInteger(accepted) && accepted >= 0 && accepted <= drafted)) {
    throw new Error(`${fn}: accepted must be an integer in [0, drafted = ${drafted}], got ${accepted}`);
  }
  return accepted / drafted;
}

/** The greedy token of each row of logits [1, T, V] (sampleToken's rule: the first most likely). */
function greedyRows(logits: tf.Tensor3D): number[] {
  const [, T, V] = logits.shape;
  const values = logits.dataSync();
  return Array.from({ length: T }, (_, t) => sampleToken(values.subarray(t * V, (t + 1) * V), { temperature: 0 }));
}

/**
 * Continues `prompt` by `maxNewTokens` greedy tokens, drafting each second token with MTP module 1 (batch 1; the model
 * needs mtpDepth ≥ 1 and full attention, since a sliding-window cache cannot roll back). prompt + maxNewTokens must
 * fit contextLen. Returns the tokens and the counts of forwards, drafts and acceptances.
 */
export function speculativeGenerate(
  model: TransformerLM,
  prompt: readonly number[],
  maxNewTokens: number,
): SpeculativeResult {
  const fn = "speculativeGenerate(model, prompt, maxNewTokens)";
  const mtp = model.mtp?.modules[0];
  if (!mtp) throw new Error(`${fn}: the model has no MTP module (config.mtpDepth is 0); build it with mtpDepth ≥ 1`);
  if (model.config.slidingWindow !== null)
    throw new Error(
      `${fn}: sliding-window attention (slidingWindow ${model.config.slidingWindow}) evicts cache rows, so rejected drafts cannot be rolled back; use full attention`,
    );
  if (prompt.length < 1) throw new Error(`${fn}: prompt must hold at least one token`);
  checkPositiveInt(fn, "maxNewTokens", maxNewTokens);
  const limit = model.config.contextLen;
  if (prompt.length + maxNewTokens > limit)
    throw new Error(`${fn}: prompt (${prompt.length}) + maxNewTokens (${maxNewTokens}) exceeds contextLen ${limit}`);
  const main = model.newCache();
  const drafts = new KVCache(1);
  let pending: { hidden: tf.Tensor3D; next: number[] } | null = null; // MTP positions to run: hidden h_i, token i + 1
  const run = (tokens: number[]) => {
    let argmax: number[] = [];
    const hidden = tf.tidy(() => {
      const out = model.forwardHidden(tf.tensor2d(tokens, [1, tokens.length], "int32"), main); // logits [1, T, V]
      argmax = greedyRows(out.logits);
      return out.hidden; // [1, T, d]
    });
    return { argmax, hidden };
  };
  const draft = (p: { hidden: tf.Tensor3D; next: number[] }): number =>
    tf.tidy(() => {
      const n = p.next.length;
      const rope = model.pos ? null : ropeFor(model.config, drafts.length, n);
      const emb = model.embed.apply(tf.tensor2d(p.next, [1, n], "int32")) as tf.Tensor3D; // [1, n, d]
      const h = mtp.apply(p.hidden, emb, rope, { cache: drafts, layer: 0 }).x; // [1, n, d]
      drafts.advance(n);
      const last = mtp.norm.apply(tf.slice(h, [0, n - 1, 0], [1, 1, -1])); // [1, 1, d]
      return greedyRows(tf.expandDims(model.headLogits(tf.reshape(last, [1, -1]) as tf.Tensor2D), 0) as tf.Tensor3D)[0]; // [1, 1, V] → id
    }) as unknown as number;
  const out: number[] = [];
  let [forwards, drafted, accepted] = [0, 0, 0];
  try {
    const first = run([...prompt]);
    forwards++;
    let next = first.argmax[prompt.length - 1];
    out.push(next);
    pending = { hidden: first.hidden, next: [...prompt.slice(1), next] };
    while (out.length < maxNewTokens) {
      const guess = draft(pending);
      pending.hidden.dispose();
      pending = null;
      const v = run([next, guess]);
      forwards++;
      drafted++;
      if (v.argmax[0] === guess) {
        accepted++;
        next = v.argmax[1];
        out.push(guess, next);
        pending = { hidden: v.hidden, next: [guess, next] };
      } else {
        next = v.argmax[0];
        out.push(next);
        main.truncate(main.length - 1); // drop the rejected draft's entries
        pending = { hidden: tf.slice(v.hidden, [0, 0, 0], [1, 1, -1]), next: [next] }; // [1, 1, d]
        v.hidden.dispose();
      }
    }
  } finally {
    pending?.hidden.dispose();
    main.dispose();
    drafts.dispose();
  }
  return {
    tokens: out.slice(0, maxNewTokens),
    forwards,
    drafted,
    accepted,
    acceptance: drafted ? acceptanceRate(accepted, drafted) : null,
    tokensPerForward: maxNewTokens / forwards,
  };
}
