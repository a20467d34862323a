// A small serving engine over any model with TransformerLM's forward(tokens, cache, positions): requests arrive over
// time, wait in a FCFS queue, and run batched steps. "continuous": admitted whenever a batch row and the KV budget
// allow, so prefills of newcomers and decodes of running requests share a step (one padded forward, or a prefill and a
// decode forward whose caches are then merged), finished requests leave (and free their cache rows) at once, and when
// the running requests' growth would exceed the budget the latest admitted one is preempted, its cache dropped and its
// prefix recomputed when it is readmitted. "static": a batch is formed only when the previous one has completely
// finished, with the whole prompt + maxNewTokens reserved. Each request samples from its own seeded stream, so its
// tokens equal generate() on it alone. References: vLLM
// `core/scheduler.py` (waiting/running queues, FCFS, can_allocate, preemption by recompute of the last running
// sequence), Yu et al., "Orca" (OSDI 2022, iteration-level scheduling).
import { checkPositiveInt } from "../check";
import { forwardRows, KVCache, sampleToken, StepModel, StepRow } from "../model";
import { Rng } from "../random";
import { Clock, ClockKind, makeClock } from "./clock";
import { checkRequest, requestSampling, ServeRequest } from "./request";

/** How requests are grouped into batches. */
export type BatchPolicy = "continuous" | "static";

/** Engine settings. */
export interface EngineConfig {
  /** "continuous" (iteration-level admission, preemption) or "static" (whole batches). Default "continuous". */
  policy: BatchPolicy;
  /** Most requests in one batch. Default 8. */
  maxBatch: number;
  /** KV cache budget in cached tokens over all running requests; null = maxBatch · contextLen. Default null. */
  kvBudgetTokens: number | null;
  /** "logical" (deterministic: each step takes logicalStepTime) or "wall" (seconds; idle gaps skipped). Default "logical". */
  clock: ClockKind;
  /** Time one step takes on the logical clock. Default 1. */
  logicalStepTime: number;
  /**
   * true: newcomers' prefills and running requests' decodes share one padded forward (every row padded to the longest
   * prefill); false: one step runs two forwards — the newcomers' prefill (padded among themselves) and the running
   * requests' one-token decode — and merges their caches. Default false.
   */
  mixedPrefill: boolean;
}

export const DEFAULT_ENGINE: Readonly<EngineConfig> = Object.freeze({
  policy: "continuous",
  maxBatch: 8,
  kvBudgetTokens: null,
  clock: "logical",
  logicalStepTime: 1,
  mixedPrefill: false,
});

/** What happened to one request. */
export interface RequestResult {
  id: string;
  status: "done" | "rejected";
  /** The ServeRequestError's message for a rejected request. */
  error: string | null;
  promptTokens: number;
  /** The generated tokens. */
  tokens: number[];
  arrival: number;
  /** Clock time at which each token came out. */
  tokenTimes: number[];
  /** Times it was preempted (its cache dropped and recomputed). */
  preemptions: number;
}

/** One engine run. */
export interface EngineRun {
  policy: BatchPolicy;
  /** In the order the requests were given. */
  results: RequestResult[];
  steps: number;
  preemptions: number;
  /** Most real tokens cached at once (what the budget limits). */
  peakKvTokens: number;
  /** Most values the cache tensors held at once (padding slots included). */
  peakKvElements: number;
  /** Clock time at the end. */
  end: number;
}

interface Live {
  req: ServeRequest;
  result: RequestResult;
  rng: Rng;
  /** Real tokens in the cache (0: needs a prefill of prompt + tokens so far). */
  cached: number;
}

/** The resolved, checked settings. */
export function engineConfig(model: StepModel, partial: Partial<EngineConfig> = {}): EngineConfig {
  const c = { ...DEFAULT_ENGINE, ...partial };
  const fn = "engineConfig";
  if (c.policy !== "continuous" && c.policy !== "static")
    throw new Error(`${fn}: policy must be "continuous" or "static", got ${String(c.policy)}`);
  checkPositiveInt(fn, "maxBatch", c.maxBatch);
  const budget = c.kvBudgetTokens ?? c.maxBatch * model.config.contextLen;
  checkPositiveInt(fn, "kvBudgetTokens", budget);
  if (!(Number.isFinite(c.logicalStepTime) && c.logicalStepTime > 0))
    throw new Error(`${fn}: logicalStepTime must be a number > 0, got ${c.logicalStepTime}`);
  return { ...c, kvBudgetTokens: budget };
}

export class Engine {
  readonly config: EngineConfig;

  constructor(
    readonly model: StepModel,
    config: Partial<EngineConfig> = {},
  ) {
    this.config = engineConfig(model, config);
  }

  /** Serves `requests` (any order; arrivals on the engine's clock) to completion. */
  run(requests: readonly ServeRequest[]): EngineRun {
    const { policy, maxBatch } = this.config;
    const budget = this.config.kvBudgetTokens!;
    const clock: Clock = makeClock(this.config.clock, this.config.logicalStepTime);
    const results: RequestResult[] = [];
    const arrivals: Live[] = [];
    for (const req of requests) {
      const result: RequestResult = {
        id: String(req?.id),
        status: "done",
        error: null,
        promptTokens: req?.prompt?.length ?? 0,
        tokens: [],
        arrival: req?.arrival,
        tokenTimes: [],
        preemptions: 0,
      };
      results.push(result);
      try {
        checkRequest(this.model, req, budget);
        arrivals.push({ req, result, rng: new Rng(req.seed ?? 0), cached: 0 });
      } catch (e) {
        result.status = "rejected";
        result.error = (e as Error).message;
      }
    }
    arrivals.sort((a, b) => a.req.arrival - b.req.arrival);
    const run: EngineRun = { policy, results, steps: 0, preemptions: 0, peakKvTokens: 0, peakKvElements: 0, end: 0 };
    const waiting: Live[] = [];
    let running: Live[] = [];
    let next = 0;
    const cache: KVCache = this.model.newCache();
    const prefix = (l: Live) => [...l.req.prompt, ...l.result.tokens];
    const feedLength = (l: Live) => (l.cached ? 1 : prefix(l).length);
    const need = (ls: readonly Live[]) => ls.reduce((n, l) => n + l.cached + feedLength(l), 0);
    try {
      while (next < arrivals.length || waiting.length || running.length) {
        while (next < arrivals.length && arrivals[next].req.arrival <= clock.now()) waiting.push(arrivals[next++]);
        if (!running.length && !waiting.length) {
          clock.idleUntil(arrivals[next].req.arrival);
          continue;
        }
        if (policy === "continuous") {
          // Preempt (recompute) the latest admitted requests until the running ones' next step fits the budget.
          while (running.length > 1 && need(running) > budget) {
            const victim = running.pop()!;
            cache.selectRows(running.map((_, i) => i));
            victim.cached = 0;
            victim.result.preemptions++;
            run.preemptions++;
            waiting.unshift(victim);
          }
          while (waiting.length && running.length < maxBatch && need([...running, waiting[0]]) <= budget)
            running.push(waiting.shift()!);
        } else if (!running.length) {
          let reserved = 0;
          while (
            waiting.length &&
            running.length < maxBatch &&
            reserved + waiting[0].req.prompt.length + waiting[0].req.maxNewTokens <= budget
          ) {
            reserved += waiting[0].req.prompt.length + waiting[0].req.maxNewTokens;
            running.push(waiting.shift()!);
          }
        }
        const rows: StepRow[] = running.map((l) =>
          l.cached ? { feed: l.result.tokens.slice(-1), start: l.cached } : { feed: prefix(l), start: 0 },
        );
        const logits = this.step(rows, running.length - cache.rows, cache);
        clock.step();
        run.steps++;
        run.peakKvElements = Math.max(run.peakKvElements, cache.elements());
        const now = clock.now();
        const keep: number[] = [];
        running.forEach((l, b) => {
          l.cached += rows[b].feed.length;
          const token = sampleToken(logits[b], requestSampling(l.req), l.rng);
          l.result.tokens.push(token);
          l.result.tokenTimes.push(now);
          const stop = (l.req.stop ?? []).includes(token);
          if (!(stop || l.result.tokens.length === l.req.maxNewTokens)) keep.push(b);
        });
        run.peakKvTokens = Math.max(
          run.peakKvTokens,
          running.reduce((n, l) => n + l.cached, 0),
        );
        if (keep.length < running.length) {
          cache.selectRows(keep);
          cache.compact();
          running = keep.map((b) => running[b]);
        }
      }
    } finally {
      cache.dispose();
    }
    run.end = clock.now();
    return run;
  }

  /** One scheduler step over `rows` (the cache's rows, then `fresh` newcomers); returns each row's next-token logits. */
  private step(rows: readonly StepRow[], fresh: number, cache: KVCache): Float32Array[] {
    const cachedRows = rows.length - fresh;
    if (this.config.mixedPrefill || fresh === 0 || cachedRows === 0) {
      if (fresh > 0) cache.addRows(fresh);
      return forwardRows(this.model, rows, cache);
    }
    const decoded = forwardRows(this.model, rows.slice(0, cachedRows), cache);
    const prefill = this.model.newCache();
    try {
      prefill.addRows(fresh);
      const prefilled = forwardRows(this.model, rows.slice(cachedRows), prefill);
      cache.merge(prefill);
      return [...decoded, ...prefilled];
    } finally {
      prefill.dispose();
    }
  }
}
