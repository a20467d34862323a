// A generation request as a serving engine receives it, and its checks: a bad request (empty prompt, a token outside
// the vocabulary, too long for the context or the KV budget, bad sampling settings) is rejected with a named error
// and never reaches the batch. Reference: vLLM `SamplingParams._verify_args` and the engine's prompt-length check.
import { checkPrompt, checkSample, DEFAULT_SAMPLE, SampleConfig, StepModel } from "../model";

/** One request: what to continue, how far, how to sample, and when it arrives (seconds, or steps on a logical clock). */
export interface ServeRequest {
  id: string;
  prompt: readonly number[];
  maxNewTokens: number;
  /** Arrival time on the engine's clock (≥ 0). */
  arrival: number;
  /** Sampling settings over DEFAULT_SAMPLE. */
  sampling?: Partial<SampleConfig>;
  /** Token ids that end the request (returned as its last token). */
  stop?: readonly number[];
  /** Seed of the request's own sampling stream (so its tokens do not depend on its batch mates). Default 0. */
  seed?: number;
}

/** A request the engine refused: names the request and what is wrong with it. */
export class ServeRequestError extends Error {
  constructor(
    readonly requestId: string,
    message: string,
  ) {
    super(`request ${requestId}: ${message}`);
    this.name = "ServeRequestError";
  }
}

/** The request's resolved sampling settings. */
export function requestSampling(r: ServeRequest): SampleConfig {
  return { ...DEFAULT_SAMPLE, ...r.sampling };
}

/** Checks a request against the model and a KV budget (tokens); throws ServeRequestError. */
export function checkRequest(model: StepModel, r: ServeRequest, kvBudgetTokens: number): void {
  const id = String(r?.id);
  try {
    if (!Number.isSafeInteger(r.maxNewTokens) || r.maxNewTokens < 1)
      throw new Error(`maxNewTokens must be a positive integer, got ${r.maxNewTokens}`);
    if (!(Number.isFinite(r.arrival) && r.arrival >= 0))
      throw new Error(`arrival must be a finite time ≥ 0, got ${r.arrival}`);
    checkPrompt("checkRequest", model, r.prompt, r.maxNewTokens, "prompt");
    checkSample("sampling", requestSampling(r));
    (r.stop ?? []).forEach((t, i) => {
      if (!(Number.isSafeInteger(t) && t >= 0 && t < model.config.vocabSize))
        throw new Error(`stop[${i}] = ${t} is not a token id in [0, ${model.config.vocabSize})`);
    });
    if (r.prompt.length + r.maxNewTokens > kvBudgetTokens) {
      throw new Error(
        `prompt (${r.prompt.length}) + maxNewTokens (${r.maxNewTokens}) exceeds the KV budget of ${kvBudgetTokens} tokens`,
      );
    }
  } catch (e) {
    throw new ServeRequestError(id, (e as Error).message);
  }
}
