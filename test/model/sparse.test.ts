// Blocked local + global attention (lib/model/sparse.ts windowedAttention, causalAttention's composite with a window):
// outputs and q/k/v gradients equal dense attention under the [T, S] visibility mask (lib/ops visibilityMask, the
// rule written out) on cpu, wasm and native, over MHA/GQA/MQA, T a multiple of the window or not, windows wider than
// T, more global tokens than keys, and cached keys (kOffset); no tensor leaks; a windowed model's uncached pass and
// prefill on cpu against its dense per-row-mask pass; and its cost is linear in T, read off
// the kernels tf.profile records (matmul FLOPs from their shapes, the largest tensor), where the dense path's is
// quadratic. test/ops/causal-attention.test.ts checks the same path against a float64 reference and central differences.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { attend } from "../../lib/model/attend";
import { bandedScores, windowedAttention, type SlidingWindow } from "../../lib/model/sparse";
import { causalAttention, visibilityMask } from "../../lib/ops/causal-attention";
import { TransformerLM } from "../../lib/model/transformer";
import { Rng, seed } from "../../lib/random";
import { randomTokens } from "../helpers/tensors";
import { expectClose, expectNoLeak, OPS_BACKENDS, randomValues } from "../ops/helpers";

interface Case {
  B: number;
  H: number;
  Hkv: number;
  T: number;
  S: number;
  d: number;
  w: SlidingWindow;
}

const CASES: Case[] = [
  { B: 1, H: 2, Hkv: 2, T: 16, S: 16, d: 4, w: { window: 4, global: 2 } }, // MHA, T a multiple of the window
  { B: 2, H: 4, Hkv: 2, T: 23, S: 23, d: 3, w: { window: 5, global: 3 } }, // GQA, T not a multiple
  { B: 1, H: 3, Hkv: 1, T: 19, S: 19, d: 5, w: { window: 3, global: 0 } }, // MQA, no global tokens
  { B: 2, H: 2, Hkv: 1, T: 7, S: 7, d: 2, w: { window: 9, global: 1 } }, // window wider than the sequence
  { B: 1, H: 2, Hkv: 2, T: 6, S: 6, d: 3, w: { window: 2, global: 10 } }, // more global tokens than keys
  { B: 1, H: 4, Hkv: 2, T: 9, S: 12, d: 3, w: { window: 4, global: 2 } }, // 3 cached keys (kOffset < window)
  { B: 2, H: 2, Hkv: 2, T: 10, S: 21, d: 2, w: { window: 3, global: 2 } }, // 11 cached keys (kOffset > window)
];

function tensors(c: Case, seed: number): tf.Tensor4D[] {
  const rng = new Rng(seed);
  const make = (shape: [number, number, number, number]) =>
    tf.tensor4d(
      Float32Array.from(
        randomValues(
          rng,
          shape.reduce((a, b) => a * b, 1),
        ),
      ),
      shape,
    );
  return [
    make([c.B, c.H, c.T, c.d]),
    make([c.B, c.Hkv, c.S, c.d]),
    make([c.B, c.Hkv, c.S, c.d + 1]),
    make([c.B, c.H, c.T, c.d + 1]),
  ];
}

/** The dense oracle: attend() under the [T, S] visibility mask of the same rule. */
function dense(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, w: SlidingWindow, scale: number): tf.Tensor4D {
  const [T, S] = [q.shape[2], k.shape[2]];
  const attrs = { scale, kOffset: S - T, window: w.window, globalTokens: w.global };
  return tf.tidy(() => attend(q, k, v, visibilityMask(T, S, attrs), scale));
}

describe("windowedAttention (blocked local + global)", () => {
  for (const backend of OPS_BACKENDS) {
    it(`${backend}: outputs and q/k/v gradients equal dense attention under the visibility mask`, async () => {
      await useBackend(backend);
      CASES.forEach((c, i) => {
        const [q, k, v, r] = tensors(c, 40 + i);
        expectNoLeak(() => {
          const loss = (f: typeof dense) => (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
            tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D, d as tf.Tensor4D, c.w, 0.6), r));
          const blocked = (a: tf.Tensor4D, b: tf.Tensor4D, d: tf.Tensor4D, w: SlidingWindow, s: number) =>
            windowedAttention(a, b, d, w, s);
          const [got, want] = [blocked, dense].map((f) => f(q, k, v, c.w, 0.6));
          expect(got.shape).toEqual(want.shape);
          expectClose(got.dataSync(), want.dataSync(), 1e-5);
          const [gGot, gWant] = [blocked, dense].map((f) => tf.grads(loss(f))([q, k, v]));
          gGot.forEach((g, j) => expectClose(g.dataSync(), gWant[j].dataSync(), 1e-5));
          tf.dispose([got, want, ...gGot, ...gWant]);
        });
        tf.dispose([q, k, v, r]);
      });
    });
  }

  it("names bad arguments", async () => {
    await useBackend("cpu");
    const [q, k, v] = tensors(CASES[1], 1);
    expect(() => windowedAttention(q, k, v, { window: 0, global: 1 }, 1)).toThrow(/windowedAttention\(w\)/);
    expect(() => windowedAttention(q, k, v, { window: 2, global: 1 }, 1, 1)).toThrow(/windowedAttention\(kOffset\)/);
    expect(() => windowedAttention(q, v, k, { window: 2, global: 1 }, 1)).toThrow(/windowedAttention\(q, k, v\)/);
    tf.dispose([q, k, v]);
  });
});

describe("a windowed model on a composite backend (cpu)", () => {
  it("its uncached pass and its prefill into an empty cache equal the dense per-row-mask pass; decoding goes on", async () => {
    await useBackend("cpu");
    seed(31);
    const model = new TransformerLM({
      vocabSize: 16,
      dim: 16,
      nLayers: 2,
      nHeads: 4,
      nKVHeads: 2,
      contextLen: 32,
      ffnHidden: 24,
      slidingWindow: 4,
      globalTokens: 2,
    });
    const [B, T] = [2, 23]; // ⌈23/4⌉·4·(2 + 8) = 240 banded scores < 23·23: the blocked path runs
    expect(bandedScores(T, 4, 2, T)).toBeLessThan(T * T);
    const tokens = randomTokens(new Rng(32), B, T + 1, 16);
    const prompt = tf.slice(tokens, [0, 0], [B, T]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const positions = Int32Array.from({ length: B * (T + 1) }, (_, i) => i % (T + 1));
    const dense = tf.tidy(() => model.forward(tokens, undefined, positions).logits); // [B, T + 1, V]: rowMask, attend() over [T, S]
    const blocked = tf.tidy(() => model.forward(tokens).logits); // [B, T + 1, V]
    const cache = model.newCache();
    const prefill = tf.tidy(() => model.forward(prompt, cache).logits); // [B, T, V]
    const next = tf.tidy(() => model.forward(tf.slice(tokens, [0, T], [B, 1]) as tf.Tensor2D, cache).logits); // [B, 1, V]
    expectClose(blocked.dataSync(), dense.dataSync(), 1e-5);
    const decoded = tf.concat([prefill, next], 1); // [B, T + 1, V]
    expectClose(decoded.dataSync(), dense.dataSync(), 1e-5);
    cache.dispose();
    tf.dispose([dense, blocked, prefill, next, decoded]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([tokens, prompt]);
    model.dispose();
  });
});

/** What tf.profile records for one forward + backward of `f`: matmul FLOPs and the largest tensor, in elements. */
async function cost(f: () => tf.Scalar, inputs: tf.Tensor[]): Promise<{ flops: number; largest: number }> {
  let flops = 0;
  let largest = 0;
  const info = await tf.profile(() => {
    const { value, grads } = tf.valueAndGrads(f)(inputs);
    tf.dispose(grads);
    return value;
  });
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  for (const kernel of info.kernels) {
    for (const s of kernel.outputShapes) if (s) largest = Math.max(largest, size(s));
    if (kernel.name === "BatchMatMul") {
      // [n, m, k] × [n, k, p] → [n, m, p] (either input maybe transposed): |a|·|b| / (|out|·n) = k².
      const [a, b] = kernel.inputShapes as number[][];
      const out = kernel.outputShapes[0]!;
      const k = Math.sqrt((size(a) * size(b)) / (size(out) * size(out.slice(0, -2))));
      flops += 2 * size(out) * k;
    }
  }
  tf.dispose(info.result as tf.Tensor);
  return { flops, largest };
}

describe("the cost of causal attention with a window grows linearly with the length", () => {
  it("cpu composite: matmul FLOPs and the largest tensor double when T doubles (dense: ×4); no [T, S] tensor", async () => {
    await useBackend("cpu");
    const w = { window: 8, global: 2 };
    const measure = async (T: number, windowed: boolean) => {
      const c = { B: 1, H: 2, Hkv: 1, T, S: T, d: 4, w };
      const [q, k, v, r] = tensors(c, T);
      const opts = windowed ? { scale: 0.5, window: w.window, globalTokens: w.global } : { scale: 0.5 };
      const f = () => tf.sum(tf.mul(causalAttention(q, k, v, opts), r)) as tf.Scalar;
      const out = await cost(f, [q, k, v]);
      tf.dispose([q, k, v, r]);
      return out;
    };
    const lengths = [128, 256, 512];
    const windowed = [];
    const full = [];
    for (const T of lengths) {
      windowed.push(await measure(T, true));
      full.push(await measure(T, false));
    }
    for (let i = 1; i < lengths.length; i++) {
      expect(windowed[i].flops / windowed[i - 1].flops).toBeCloseTo(2, 1);
      expect(windowed[i].largest / windowed[i - 1].largest).toBeCloseTo(2, 1);
      expect(full[i].flops / full[i - 1].flops).toBeGreaterThan(3.5);
    }
    const T = lengths[lengths.length - 1];
    // Exactly: bandedScores scores per query head (B·H = 2) in q·kᵀ (dk = 4) and p·v (dv = 5), and the backward's two
    // matmuls per forward one.
    expect(windowed[2].largest).toBeLessThan(T * T);
    expect(windowed[2].flops).toBe(2 * 2 * bandedScores(T, w.window, w.global, T) * (4 + 5) * 3);
    expect(full[2].largest).toBeGreaterThanOrEqual(2 * T * T);
  });
});
