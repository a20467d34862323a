// Splits and batching: splits are deterministic, disjoint and complete; batches are windows with targets shifted by
// one, pure functions of (seed, step); mixtures follow their weights; errors name the argument.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { splitTokens } from "../../lib/data/split";
import { evalBatches, mixtureBatches, randomBatches, stepSeed, windowBatch } from "../../lib/data/batch";

const ramp = (n: number, start = 0) => Int32Array.from({ length: n }, (_, i) => start + i);

describe("splitTokens", () => {
  it("partitions the blocks: validation gets ceil(fraction·blocks), both sides keep corpus order", () => {
    const tokens = ramp(1000);
    const { train, val } = splitTokens(tokens, { blockSize: 100, valFraction: 0.25, seed: 1 });
    expect(val.length).toBe(300); // ceil(0.25 · 10) blocks
    expect(train.length).toBe(700);
    const all = [...train, ...val].sort((a, b) => a - b);
    expect(all).toEqual(Array.from(tokens));
    for (const side of [train, val]) for (let i = 1; i < side.length; i++) expect(side[i]).toBeGreaterThan(side[i - 1]);
    for (let b = 0; b < 3; b++) expect(val[b * 100] % 100).toBe(0); // whole blocks
  });
  it("is the same for the same seed and differs across seeds", () => {
    const tokens = ramp(5000);
    const a = splitTokens(tokens, { blockSize: 50, seed: 7 });
    expect(Array.from(splitTokens(tokens, { blockSize: 50, seed: 7 }).val)).toEqual(Array.from(a.val));
    expect(Array.from(splitTokens(tokens, { blockSize: 50, seed: 8 }).val)).not.toEqual(Array.from(a.val));
  });
  it("keeps a short last block and at least one training block", () => {
    const { train, val } = splitTokens(ramp(250), { blockSize: 100, valFraction: 0.9 });
    expect(train.length + val.length).toBe(250);
    expect(train.length).toBeGreaterThan(0);
  });
  it("rejects bad configs", () => {
    expect(() => splitTokens(ramp(10), { blockSize: 100 })).toThrow(
      "splitTokens(tokens, config): 10 tokens make 1 block(s) of 100; need at least 2",
    );
    expect(() => splitTokens(ramp(1000), { valFraction: 1 })).toThrow("config.valFraction must be in (0, 1), got 1");
    expect(() => splitTokens(ramp(1000), { blockSize: 0 })).toThrow(
      "config.blockSize must be a positive integer, got 0",
    );
  });
});

describe("batches", () => {
  it("windowBatch gives int32 [B, T] inputs and targets shifted by one", () => {
    const b = windowBatch(ramp(100, 1000), [0, 10, 89], 10);
    expect(b.inputs.dtype).toBe("int32");
    expect(b.inputs.shape).toEqual([3, 10]);
    const x = b.inputs.arraySync();
    const y = b.targets.arraySync();
    expect(x[1]).toEqual(Array.from(ramp(10, 1010)));
    expect(y[1]).toEqual(Array.from(ramp(10, 1011)));
    expect(y[2][9]).toBe(1099);
    tf.dispose(b);
    expect(() => windowBatch(ramp(100), [90], 10)).toThrow(
      "windowBatch(streams, offsets, seqLen): offsets[0] = 90 must be in [0, 89]",
    );
  });
  it("randomBatches(step) is a pure function of (seed, step), in any call order, and covers the stream", () => {
    const tokens = ramp(500);
    const f = randomBatches(tokens, { batchSize: 4, seqLen: 8, seed: 3 });
    const rows = (step: number) => {
      const b = f(step);
      const out = b.inputs.arraySync();
      tf.dispose(b);
      return out;
    };
    const later = rows(5);
    expect(rows(0)).not.toEqual(later);
    expect(rows(5)).toEqual(later);
    expect(randomBatches(tokens, { batchSize: 4, seqLen: 8, seed: 4 })(5).inputs.arraySync()).not.toEqual(later);
    const starts = new Set<number>();
    for (let s = 0; s < 200; s++)
      for (const r of rows(s)) {
        expect(r[7] - r[0]).toBe(7);
        starts.add(r[0]);
      }
    expect(Math.min(...starts)).toBeLessThan(10);
    expect(Math.max(...starts)).toBeGreaterThan(480); // last valid offset 491
  });
  it("stepSeed separates nearby (seed, step) pairs", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 30; seed++) for (let step = 0; step < 30; step++) seen.add(stepSeed(seed, step));
    expect(seen.size).toBe(900);
    expect(() => stepSeed(0, -1)).toThrow("stepSeed(seed, step): step must be a non-negative safe integer, got -1");
  });
  it("mixtureBatches follow the weights, skip weight-0 streams and label each row", () => {
    const streams = [ramp(100, 0), ramp(100, 1000), ramp(100, 2000)];
    const f = mixtureBatches(streams, [3, 0, 1], { batchSize: 50, seqLen: 5, seed: 0 });
    const counts = [0, 0, 0];
    for (let s = 0; s < 40; s++) {
      const b = f(s);
      const x = b.inputs.arraySync();
      b.domains.forEach((d, row) => {
        counts[d]++;
        expect(Math.floor(x[row][0] / 1000)).toBe(d);
      });
      tf.dispose([b.inputs, b.targets]);
    }
    expect(counts[1]).toBe(0);
    expect(counts[0] / 2000).toBeCloseTo(0.75, 1);
  });
  it("evalBatches are fixed, non-overlapping windows spread over the stream", () => {
    const set = evalBatches(ramp(1001), { batchSize: 5, seqLen: 10, maxBatches: 4 });
    expect(set.count).toBe(4);
    const firsts = [];
    for (let i = 0; i < set.count; i++) {
      const b = set.batch(i);
      firsts.push(...b.inputs.arraySync().map((r) => r[0]));
      tf.dispose(b);
    }
    expect(new Set(firsts).size).toBe(20);
    expect(firsts.every((f) => f % 10 === 0)).toBe(true);
    expect(Math.max(...firsts)).toBeGreaterThan(900);
    expect(() => set.batch(4)).toThrow("EvalSet.batch(i): i must be an integer in [0, 4), got 4");
  });
  it("rejects streams shorter than seqLen + 1 and bad weights", () => {
    expect(() => randomBatches(ramp(8), { seqLen: 8 })).toThrow(
      "randomBatches(tokens, config): tokens has 8 tokens, fewer than seqLen + 1 = 9",
    );
    expect(() => mixtureBatches([ramp(100)], [0], { seqLen: 8 })).toThrow("weights must not all be 0");
    expect(() => mixtureBatches([ramp(100)], [1, 1], { seqLen: 8 })).toThrow("expected one weight per stream");
    expect(() => randomBatches(ramp(100), { batchSize: 0 })).toThrow(
      "config.batchSize must be a positive integer, got 0",
    );
  });
});
