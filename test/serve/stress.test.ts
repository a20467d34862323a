// The stress-test harness on a tiny model: every grid cell serves batch × outputLen tokens, latencies are ordered
// (TTFT ≤ E2E), the KV bytes equal the per-token formula × cached tokens, the batching curves cover both policies at
// every rate, and cached and recomputed decoding produce the same tokens. (No timing is asserted.)
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { kvCacheBytesPerToken, TransformerLM } from "../../lib/model";
import { batchingCurves, cacheComparison, stressTest } from "../../lib/serve";

beforeAll(async () => {
  await selectBackend();
});

describe("stress harness", () => {
  it("measures a grid, batching curves and cache on/off without leaking tensors", () => {
    seed(11);
    const model = new TransformerLM({
      vocabSize: 32,
      dim: 16,
      nLayers: 2,
      nHeads: 4,
      nKVHeads: 2,
      contextLen: 32,
      ffnHidden: 24,
    });
    const before = tf.memory().numTensors;
    const rows = stressTest(model, { batch: [1, 3], inputLen: [4, 8], outputLen: [5], warmup: 1 });
    expect(rows.map((r) => [r.batch, r.inputLen])).toEqual([
      [1, 4],
      [1, 8],
      [3, 4],
      [3, 8],
    ]);
    for (const r of rows) {
      expect(r.summary.outputTokens).toBe(r.batch * 5);
      expect(r.summary.promptTokens).toBe(r.batch * r.inputLen);
      expect(r.summary.ttft.p50).toBeLessThanOrEqual(r.summary.e2e.p50);
      expect(r.kvBytes).toBe(r.batch * (r.inputLen + 5 - 1) * kvCacheBytesPerToken(model.config, 4));
      expect(r.weightsBytes).toBe(model.numParams() * 4);
      expect(r.peakRssBytes).toBeGreaterThan(0);
    }
    const curves = batchingCurves(model, {
      rates: [5, 50],
      trace: { requests: 6, promptLen: [2, 6], outputLen: [2, 6] },
      engine: { maxBatch: 4 },
    });
    expect(curves.map((p) => `${p.policy}@${p.rate}`)).toEqual([
      "static@5",
      "continuous@5",
      "static@50",
      "continuous@50",
    ]);
    curves.forEach((p) => expect(p.summary.completed).toBe(6));
    expect(cacheComparison(model, 2, 4, 6).sameTokens).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => stressTest(model, { inputLen: [30], outputLen: [5] })).toThrow(
      /inputLen 30 \+ outputLen 5 exceeds contextLen 32/,
    );
    model.dispose();
  });
});
