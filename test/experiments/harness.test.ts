// lab.experiments' helpers against hand-computed values: moving averages, load shares and spans, mean loads, MaxVio
// curves; interleaved timing's round order; ffnLatency's rows without leaks; lib/flops' MoE and LM step counts (the MoE
// step's against the products a native step runs); lab.unlessQuick.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend, useBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { unlessQuick } from "../../lib/verdict";
import { presetConfig } from "../../lib/model";
import { MoELayer } from "../../lib/moe";
import { lmStepFlops, moeForwardFlops, moeStepFlops } from "../../lib/flops";
import {
  ffnLatency,
  loadShare,
  loadShareSpans,
  maxVioCurve,
  meanLoads,
  meanSeries,
  movingAverage,
  moeStep,
  timeInterleaved,
} from "../../lib/experiments";

beforeAll(async () => {
  await selectBackend();
});

describe("series", () => {
  it("moving averages, means over seeds, load shares and MaxVio match hand values", () => {
    expect(movingAverage([1, 3, 5, 7], 2)).toEqual([1, 2, 4, 6]);
    expect(movingAverage([2, 4], 10)).toEqual([2, 3]);
    expect(() => movingAverage([1], 0)).toThrow(/window must be a positive integer/);
    expect(
      meanSeries([
        [1, 2],
        [3, 6],
      ]),
    ).toEqual([2, 4]);
    expect(loadShare([1, 3])).toEqual([0.25, 0.75]);
    // [step][layer][expert]: 4 steps, 2 layers, 2 experts
    const loads = [
      [
        [1, 3],
        [2, 2],
      ],
      [
        [3, 1],
        [4, 0],
      ],
      [
        [2, 2],
        [0, 4],
      ],
      [
        [0, 4],
        [2, 2],
      ],
    ];
    expect(meanLoads(loads)).toEqual([
      [1.5, 2.5],
      [2, 2],
    ]);
    expect(loadShareSpans(loads, 0, 2)).toEqual([
      [0.5, 0.5],
      [0.25, 0.75],
    ]);
    expect(() => loadShareSpans(loads, 0, 5)).toThrow(/spans \(5\) must be at most the number of steps 4/);
    // MaxVio = max/mean − 1 per layer, averaged: step 0: (3/2 − 1 + 0)/2 = 0.25; step 1: (0.5 + 1)/2 = 0.75
    expect(maxVioCurve(loads)).toEqual([0.25, 0.75, 0.5, 0.5]);
  });

  it("unlessQuick says 'not measured' in a quick run only", () => {
    expect(unlessQuick(true, "reproduced")).toBe("not measured");
    expect(unlessQuick(false, "not reproduced")).toBe("not reproduced");
  });
});

describe("timing harnesses", () => {
  it("times every call once per round, in order, after the warmup rounds", () => {
    const order: string[] = [];
    const rows = timeInterleaved(
      [
        { name: "a", run: () => order.push("a") },
        { name: "b", run: () => order.push("b") },
      ],
      { rounds: 3, warmupRounds: 1 },
    );
    expect(order).toEqual(["a", "b", "a", "b", "a", "b", "a", "b"]);
    expect(rows.map((r) => [r.name, r.samples.length])).toEqual([
      ["a", 3],
      ["b", 3],
    ]);
    expect(() => timeInterleaved([], { rounds: 0 })).toThrow(/config.rounds must be a positive integer/);
  });

  it("ffnLatency: one row per configuration and part, nothing left behind", () => {
    seed(0);
    const before = tf.memory().numTensors;
    const configs = {
      dense: presetConfig("nano", { dim: 16, nHeads: 2 }),
      MoE: presetConfig("nano", { dim: 16, nHeads: 2, ffn: "moe" }),
    };
    const rows = ffnLatency(configs, { tokens: 32, seqLen: 16, rounds: 2, wholeBlock: true });
    expect(rows.map((r) => `${r.name} ${r.part}`)).toEqual([
      "dense FFN layer d=16",
      "dense whole block d=16",
      "MoE FFN layer d=16",
      "MoE whole block d=16",
    ]);
    for (const r of rows) expect(r.min <= r.median && r.median <= r.max).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(() =>
      ffnLatency(
        { a: configs.dense, b: presetConfig("nano") },
        { tokens: 32, seqLen: 16, rounds: 1, wholeBlock: false },
      ),
    ).toThrow(/one width dim, got 16, 64/);
  });
});

describe("FLOP counts", () => {
  it("an MoE forward: gate + routed slots + shared experts (dispatch), every expert on every token (naive)", () => {
    seed(1);
    const layer = new MoELayer(8, { nRouted: 4, nShared: 1, topK: 2, expertHidden: 6 });
    // gate 2·T·d·E + 3 matmuls × 2·slots·d·h + shared 3 × 2·T·d·h
    expect(moeForwardFlops(layer, 10, 20)).toBe(2 * 10 * 8 * 4 + 3 * 2 * 20 * 8 * 6 + 3 * 2 * 10 * 8 * 6);
    expect(moeForwardFlops({ ...layer, dim: 8, hidden: 6, config: { ...layer.config, impl: "naive" } }, 10, 20)).toBe(
      2 * 10 * 8 * 4 + 3 * 2 * 40 * 8 * 6 + 3 * 2 * 10 * 8 * 6,
    );
    const x = tf.randomNormal([10, 8]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(moeStep(layer, x).slots).toBe(20); // dropless top-2: every (token, expert) pair kept
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    layer.dispose();
  });

  it("an MoE layer step counts the products that run: 2 × gate, 7/3 × experts (no gradient into the input)", async () => {
    seed(2);
    const layer = new MoELayer(8, { nRouted: 4, nShared: 1, topK: 2, expertHidden: 6 });
    expect(moeStepFlops(layer, 10, 20)).toBe(2 * (2 * 10 * 8 * 4) + 7 * 2 * 20 * 8 * 6 + 7 * 2 * 10 * 8 * 6);
    // The matmul kernels of a native step, from their shapes: BatchMatMul 2·m·n·k; the grouped expert matmul
    // 2·rows·out·in (a [M, in or out], out [M, ·] or [E, out, in] with b [M, in]).
    await useBackend("native");
    const x = tf.randomNormal([10, 8]) as tf.Tensor2D;
    let slots = 0;
    const { kernels } = await tf.profile(() => {
      slots = moeStep(layer, x).slots;
    });
    let flops = 0;
    for (const k of kernels) {
      const [a, b] = k.inputShapes as number[][];
      const out = k.outputShapes[0] as number[];
      const size = (s: number[]) => s.reduce((p, v) => p * v, 1);
      if (k.name === "BatchMatMul") {
        const n = out[out.length - 1];
        flops += 2 * size(out) * (size(a) / (size(out) / n)); // 2·batch·m·n·k, k = |a| / (batch·m)
      }
      if (k.name === "MoelabMoeGroupedMatMul") flops += 2 * size(a) * (out.length === 3 ? b[1] : out[1]);
    }
    expect(flops).toBe(moeStepFlops(layer, 10, slots));
    tf.dispose(x);
    layer.dispose();
    await selectBackend();
  });

  it("an MoE LM's train step counts the FFN a token uses (gate + topK routed + shared)", () => {
    const c = presetConfig("nano", { ffn: "moe", nDenseLayers: 1 }); // d 64, 2 layers, experts of 64, top-2 + 1 shared
    const n = 4 * 16;
    const attention = 2 * n * 4 * 64 * 64 + 4 * 4 * 16 * 16 * 64;
    const moeActive = 8 * 64 + 3 * 3 * 64 * 64;
    expect(lmStepFlops(c, 4, 16)).toBe(
      3 * (2 * attention + 2 * n * 3 * 64 * 192 + 2 * n * moeActive + 2 * n * 64 * 256),
    );
  });
});
