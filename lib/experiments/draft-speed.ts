// What the MTP draft buys at decode time: greedy decoding with and without the MTP module's draft on the same prompts,
// checked token for token, with the acceptance rate and tokens per main forward pooled from the counts and the
// wall-clock tokens/s of both timed in interleaved rounds. Reference: DeepSeek-V3 report §5.4.3 (85–90% acceptance,
// 1.8× TPS).
import { generate } from "../model/generate";
import { acceptanceRate, speculativeGenerate } from "../model/speculative";
import type { TransformerLM } from "../model/transformer";
import { timeInterleaved } from "./interleaved";

/** The draft's measured effect. */
export interface DraftSpeed {
  /** Accepted / drafted over every prompt (counts pooled). */
  acceptance: number;
  /** New tokens per main-model forward pass over every prompt (plain greedy: 1). */
  tokensPerForward: number;
  /** Every prompt's speculative output equals plain greedy decoding's. */
  identical: boolean;
  /** Wall-clock tokens/s over all prompts (median of the timed rounds), plain greedy with the KV cache. */
  greedyTokensPerSecond: number;
  /** The same with the MTP draft. */
  speculativeTokensPerSecond: number;
  /** speculativeTokensPerSecond / greedyTokensPerSecond. */
  speedup: number;
}

/** Decodes `newTokens` greedy tokens after each prompt with and without the draft; times `rounds` interleaved rounds. */
export function draftSpeed(
  model: TransformerLM,
  prompts: readonly number[][],
  newTokens: number,
  rounds: number,
): DraftSpeed {
  if (prompts.length === 0)
    throw new Error("draftSpeed(model, prompts, newTokens, rounds): expected at least one prompt");
  let [drafted, accepted, forwards] = [0, 0, 0];
  let identical = true;
  for (const p of prompts) {
    const spec = speculativeGenerate(model, p, newTokens);
    [drafted, accepted, forwards] = [drafted + spec.drafted, accepted + spec.accepted, forwards + spec.forwards];
    identical &&= spec.tokens.join() === generate(model, p, newTokens, { temperature: 0 }).join();
  }
  const all = prompts.length * newTokens;
  const [greedy, speculative] = timeInterleaved(
    [
      { name: "greedy", run: () => prompts.forEach((p) => generate(model, p, newTokens, { temperature: 0 })) },
      { name: "MTP draft", run: () => prompts.forEach((p) => speculativeGenerate(model, p, newTokens)) },
    ],
    { rounds, warmupRounds: 1 },
  );
  const greedyTokensPerSecond = all / (greedy.median / 1000);
  const speculativeTokensPerSecond = all / (speculative.median / 1000);
  return {
    acceptance: acceptanceRate(accepted, drafted),
    tokensPerForward: all / forwards,
    identical,
    greedyTokensPerSecond,
    speculativeTokensPerSecond,
    speedup: speculativeTokensPerSecond / greedyTokensPerSecond,
  };
}
