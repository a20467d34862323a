// The continuous-batching engine: every request gets exactly what generate() gives it alone (with preemption and
// recompute under a tight KV budget, with static batching, with sampling and stop tokens), bad requests are rejected
// by name without disturbing the others, no KV memory outlives its request (1,000 requests, tensors flat), the
// metrics follow vLLM's definitions on a hand-made run, and the Poisson trace is seeded.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { Rng, seed } from "../../lib/random";
import { forwardRows, generate, LMConfig, TransformerLM } from "../../lib/model";
import { Engine, percentile, poissonTrace, requestLatency, ServeRequest, summarizeRun } from "../../lib/serve";

beforeAll(async () => {
  await selectBackend();
});

const TINY: Partial<LMConfig> = { vocabSize: 32, dim: 16, nLayers: 2, nHeads: 4, contextLen: 32, ffnHidden: 24 };
const MODELS: Record<string, Partial<LMConfig>> = {
  dense: TINY,
  moe: { ...TINY, ffn: "moe", nDenseLayers: 1, moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 8 } },
  mla: {
    ...TINY,
    attention: "mla",
    mla: { kvLoraRank: 8, qkNopeHeadDim: 4, qkRopeHeadDim: 4, vHeadDim: 4, path: "absorbed" },
  },
  "gqa + sliding window": { ...TINY, nKVHeads: 2, slidingWindow: 4, globalTokens: 1 },
};

function alone(model: TransformerLM, r: ServeRequest): number[] {
  return generate(model, r.prompt, r.maxNewTokens, { ...r.sampling, stop: r.stop ?? [] }, new Rng(r.seed ?? 0));
}

describe("Engine", () => {
  for (const [name, cfg] of Object.entries(MODELS)) {
    it(`returns each request what it gets alone (${name}; continuous with preemption, and static)`, () => {
      seed(7);
      const model = new TransformerLM(cfg);
      const trace = poissonTrace({
        requests: 10,
        rate: 0.5,
        promptLen: [1, 9],
        outputLen: [2, 10],
        vocabSize: 32,
        seed: 1,
      });
      trace.forEach((r, i) => (r.sampling = i % 2 ? { temperature: 0.8, topK: 10, topP: 0.95 } : { temperature: 0 }));
      trace[3].stop = [alone(model, trace[3])[1]];
      const expected = trace.map((r) => alone(model, r));
      const tight = new Engine(model, { maxBatch: 4, kvBudgetTokens: 24 }).run(trace);
      expect(tight.preemptions).toBeGreaterThan(0);
      expect(tight.peakKvTokens).toBeLessThanOrEqual(24);
      expect(tight.results.map((r) => r.tokens)).toEqual(expected);
      const roomy = new Engine(model, { maxBatch: 4 }).run(trace);
      expect(roomy.preemptions).toBe(0);
      expect(roomy.results.map((r) => r.tokens)).toEqual(expected);
      const mixed = new Engine(model, { maxBatch: 4, kvBudgetTokens: 24, mixedPrefill: true }).run(trace);
      expect(mixed.preemptions).toBeGreaterThan(0);
      expect(mixed.results.map((r) => r.tokens)).toEqual(expected);
      const fixed = new Engine(model, { policy: "static", maxBatch: 4 }).run(trace);
      expect(fixed.results.map((r) => r.tokens)).toEqual(expected);
      // Continuous batching mixes prefills into running batches: fewer steps than whole static batches.
      expect(roomy.steps).toBeLessThan(fixed.steps);
      model.dispose();
    });
  }

  it("rejects bad requests by name and serves the others unchanged", () => {
    seed(8);
    const model = new TransformerLM(TINY);
    const good = poissonTrace({ requests: 4, rate: 1, promptLen: [2, 5], outputLen: [3, 6], vocabSize: 32, seed: 2 });
    const bad: ServeRequest[] = [
      { id: "empty", prompt: [], maxNewTokens: 3, arrival: 0 },
      { id: "long", prompt: [1, 2, 3], maxNewTokens: 30, arrival: 0.5 },
      { id: "vocab", prompt: [1, 40], maxNewTokens: 3, arrival: 1 },
      { id: "topP", prompt: [1], maxNewTokens: 3, arrival: 1, sampling: { topP: 1.5 } },
      { id: "temp", prompt: [1], maxNewTokens: 3, arrival: 1, sampling: { temperature: NaN } },
      { id: "zero", prompt: [1], maxNewTokens: 0, arrival: 1 },
      { id: "budget", prompt: [1, 2, 3, 4, 5, 6], maxNewTokens: 6, arrival: 1 },
    ];
    const run = new Engine(model, { maxBatch: 3, kvBudgetTokens: 11 }).run([
      ...good.slice(0, 2),
      ...bad,
      ...good.slice(2),
    ]);
    const byId = Object.fromEntries(run.results.map((r) => [r.id, r]));
    expect(byId.empty.error).toMatch(/request empty: .*prompt must hold at least one token/);
    expect(byId.long.error).toMatch(/request long: .*prompt \(3 tokens\) \+ maxNewTokens \(30\) exceeds contextLen 32/);
    expect(byId.vocab.error).toMatch(/request vocab: .*prompt\[1\] = 40 is not a token id in \[0, 32\)/);
    expect(byId.topP.error).toMatch(/request topP: sampling: topP must be a number in \(0, 1\]/);
    expect(byId.temp.error).toMatch(/request temp: sampling: temperature must be a finite number ≥ 0/);
    expect(byId.zero.error).toMatch(/request zero: maxNewTokens must be a positive integer/);
    expect(byId.budget.error).toMatch(
      /request budget: prompt \(6\) \+ maxNewTokens \(6\) exceeds the KV budget of 11 tokens/,
    );
    bad.forEach((r) => expect(byId[r.id].status).toBe("rejected"));
    good.forEach((r) => {
      expect(byId[r.id].status).toBe("done");
      expect(byId[r.id].tokens).toEqual(alone(model, r));
    });
    model.dispose();
  });

  it("merges a prefilled cache into a running one (left-padded to the wider slot count)", () => {
    seed(10);
    const model = new TransformerLM(TINY);
    const [a, b] = [model.newCache(), model.newCache()];
    a.addRows(1);
    forwardRows(model, [{ feed: [1, 2, 3], start: 0 }], a);
    b.addRows(2);
    forwardRows(
      model,
      [
        { feed: [4], start: 0 },
        { feed: [5, 6, 7, 8, 9], start: 0 },
      ],
      b,
    );
    a.merge(b);
    expect([a.rows, a.length, b.rows, b.length]).toEqual([3, 5, 0, 0]);
    expect(Array.from(a.positions())).toEqual([-1, -1, 0, 1, 2, -1, -1, -1, -1, 0, 0, 1, 2, 3, 4]);
    expect(a.rowTokens(1)).toBe(1);
    a.dispose();
    model.dispose();
  });

  it("keeps no KV memory after requests end: tensors flat over 1,000 short requests", () => {
    seed(9);
    const model = new TransformerLM({ ...TINY, dim: 8, nHeads: 2, nLayers: 1, ffnHidden: 8 });
    const engine = new Engine(model, { maxBatch: 16 });
    const trace = (s: number) =>
      poissonTrace({ requests: 500, rate: 4, promptLen: [1, 3], outputLen: [1, 2], vocabSize: 32, seed: s });
    engine.run(trace(0).slice(0, 20));
    const before = tf.memory();
    const first = engine.run(trace(1));
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    const second = engine.run(trace(2));
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(
      first.results.filter((r) => r.status === "done").length +
        second.results.filter((r) => r.status === "done").length,
    ).toBe(1000);
    model.dispose();
  });

  it("computes vLLM's metrics on a hand-made run", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([0, 10], 90)).toBe(9);
    expect(percentile([5], 99)).toBe(5);
    const results = [
      {
        id: "a",
        status: "done" as const,
        error: null,
        promptTokens: 3,
        tokens: [1, 2, 3],
        arrival: 0,
        tokenTimes: [2, 3, 5],
        preemptions: 0,
      },
      {
        id: "b",
        status: "done" as const,
        error: null,
        promptTokens: 1,
        tokens: [4],
        arrival: 1,
        tokenTimes: [4],
        preemptions: 0,
      },
    ];
    expect(requestLatency(results[0])).toEqual({ ttft: 2, tpot: 1.5, itl: [1, 2], e2e: 5 });
    const s = summarizeRun({
      policy: "continuous",
      results,
      steps: 4,
      preemptions: 0,
      peakKvTokens: 0,
      peakKvElements: 0,
      end: 5,
    });
    expect(s.duration).toBe(5);
    expect(s.outputTokensPerS).toBe(4 / 5);
    expect(s.totalTokensPerS).toBe(8 / 5);
    expect(s.ttft.mean).toBe(2.5);
    expect(s.tpot.mean).toBe(1.5); // b has one token: excluded
    expect(s.itl.p50).toBe(1.5);
    expect(s.e2e.p90).toBeCloseTo(4.8, 12); // e2e [5, 3]: 3 + 0.9·2
  });

  it("draws a seeded Poisson trace with the requested rate", () => {
    const a = poissonTrace({ requests: 2000, rate: 4, seed: 3 });
    expect(poissonTrace({ requests: 2000, rate: 4, seed: 3 })).toEqual(a);
    const meanGap = a[a.length - 1].arrival / (a.length - 1);
    expect(meanGap).toBeGreaterThan(0.9 / 4);
    expect(meanGap).toBeLessThan(1.1 / 4);
    expect(poissonTrace({ requests: 3 }).every((r) => r.arrival === 0)).toBe(true);
    expect(() => poissonTrace({ rate: 0 })).toThrow(/rate must be > 0/);
  });
});
