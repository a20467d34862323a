import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { matmulThroughput, summarize, time } from "../lib/bench/timing";

describe("timing harness", () => {
  it("summarizes odd and even sample counts", () => {
    expect(summarize([5, 1, 3])).toEqual({ samples: [5, 1, 3], median: 3, min: 1, max: 5 });
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
    expect(() => summarize([])).toThrow(/summarize\(samples\)/);
  });

  it("calls warmup + repeats times and awaits async work", async () => {
    let calls = 0;
    const t = await time(
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 2));
      },
      { warmup: 2, repeats: 3 },
    );
    expect(calls).toBe(5);
    expect(t.samples).toHaveLength(3);
    expect(t.min).toBeGreaterThanOrEqual(1);
    await expect(time(() => 0, { repeats: 0 })).rejects.toThrow(/options.repeats/);
  });

  it("measures matmul throughput without leaking tensors", async () => {
    await tf.setBackend("cpu");
    const before = tf.memory().numTensors;
    const r = await matmulThroughput(16, { warmup: 0, repeats: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.backend).toBe("cpu");
    expect(r.gflops).toBeCloseTo((2 * 16 ** 3) / (r.timing.median * 1e6), 12);
    await expect(matmulThroughput(0)).rejects.toThrow(/matmulThroughput\(n\)/);
  });
});
