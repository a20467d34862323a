// quantizedDecode: one row per format (fp32 first), the fp32 row's speedup is 1, perplexities come from the quantized
// weights (INT8 per channel within 1% of fp32 on a random model, INT4 further away), the model is restored to fp32
// afterwards, bad settings are named, and no tensor is left behind.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { evalBatches } from "../../lib/data";
import { quantizedDecode } from "../../lib/experiments";
import { lmConfig, TransformerLM } from "../../lib/model";
import { seed } from "../../lib/random";

beforeAll(async () => {
  await selectBackend("native");
});

describe("quantizedDecode", () => {
  it("measures fp32 and each format, restores the model, leaks nothing", () => {
    seed(2);
    const model = new TransformerLM(
      lmConfig({ vocabSize: 64, dim: 128, nLayers: 2, nHeads: 4, contextLen: 48, ffnHidden: 256 }),
    );
    const tokens = Int32Array.from({ length: 2000 }, (_, i) => (i * 13 + (i >> 3)) % 64);
    const val = evalBatches(tokens, { batchSize: 2, seqLen: 16, maxBatches: 2 });
    const probe = tf.tensor2d([[1, 2, 3]], [1, 3], "int32");
    const before = model.apply(probe);
    const n0 = tf.memory().numTensors;
    const rows = quantizedDecode(model, val, { context: 8, rounds: 3, warmupRounds: 1 });
    expect(tf.memory().numTensors).toBe(n0);
    expect(rows.map((r) => r.label)).toEqual(["fp32", "int8 channel", "int4 1x128", "e4m3 128x128"]);
    expect(rows[0].speedup).toBe(1);
    for (const r of rows) expect(r.tokensPerSecond).toBeGreaterThan(0);
    expect(Math.abs(rows[1].perplexity / rows[0].perplexity - 1)).toBeLessThan(0.01);
    expect(rows[2].perplexity).not.toBe(rows[0].perplexity);
    expect(rows[1].layerBytes).toBeLessThan(rows[0].layerBytes / 3.5);
    const after = model.apply(probe);
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
    expect(() => quantizedDecode(model, val, { context: 40, rounds: 10 })).toThrow(/exceeds contextLen 48/);
    tf.dispose([probe, before, after]);
    model.dispose();
  });
});
