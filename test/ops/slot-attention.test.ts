// The decode attention over KV-cache slot buffers: outputs against an independent float64 reference (the visibility
// rule by positions written out, softmax in float64), on cpu and wasm (the composite) and native (the fused kernel),
// for MHA, GQA with padding rows and slots, MQA with vector tails and value columns read from a wider buffer (MLA
// absorbed's layout), and a sliding window with global tokens; buffers with spare capacity; no tensor leaks; bad
// input named. test/ops/fused-ops-isa.test.ts reruns this file on the AVX2 and scalar paths.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { slotAttention, type SlotAttentionOptions } from "../../lib/ops";
import { hasFusedKernel } from "../../lib/ops/fused";
import { SLOT_ATTENTION_KERNEL } from "../../lib/kernel-names";
import { Rng } from "../../lib/random";
import { expectClose, expectNoLeak, OPS_BACKENDS, randomValues } from "./helpers";

interface Case {
  name: string;
  B: number;
  H: number;
  Hkv: number;
  T: number;
  cap: number;
  dk: number;
  kw: number;
  vw: number;
  /** Per row: T query positions (−1 = padding). */
  query: number[][];
  /** Per row: S key positions (−1 = padding). */
  keys: number[][];
  options: SlotAttentionOptions;
}

const CASES: Case[] = [
  {
    name: "MHA, one decode token, spare capacity",
    B: 2,
    H: 2,
    Hkv: 2,
    T: 1,
    cap: 8,
    dk: 3,
    kw: 3,
    vw: 4,
    query: [[4], [2]],
    keys: [
      [0, 1, 2, 3, 4],
      [-1, -1, 0, 1, 2],
    ],
    options: { scale: 0.6 },
  },
  {
    name: "GQA, a prefill step with padding queries and keys",
    B: 2,
    H: 4,
    Hkv: 2,
    T: 3,
    cap: 6,
    dk: 5,
    kw: 5,
    vw: 3,
    query: [
      [-1, 0, 1],
      [3, 4, 5],
    ],
    keys: [
      [-1, -1, -1, -1, 0, 1],
      [0, 1, 2, 3, 4, 5],
    ],
    options: { scale: 0.4 },
  },
  {
    name: "MQA, vector tails, values = the first dv of 20 columns (MLA absorbed)",
    B: 1,
    H: 3,
    Hkv: 1,
    T: 2,
    cap: 40,
    dk: 20,
    kw: 20,
    vw: 20,
    query: [[17, 18]],
    keys: [Array.from({ length: 19 }, (_, i) => i)],
    options: { scale: 0.25, dv: 17 },
  },
  {
    name: "window 3 + 2 global, keys in evicted order",
    B: 2,
    H: 2,
    Hkv: 1,
    T: 1,
    cap: 9,
    dk: 4,
    kw: 6,
    vw: 4,
    query: [[9], [3]],
    keys: [
      [0, 1, 5, 6, 7, 8, 9],
      [-1, -1, 0, 1, 2, 3, -1],
    ],
    options: { scale: 0.5, window: 3, globalTokens: 2 },
  },
  {
    // 2·g·T·S·(dk + dv) = 3·10⁵ flops per (row, kv head), 8 of them: two pool tasks (native/src/slot_attention.cc kTaskFlops)
    name: "GQA, enough work for the thread pool, rows of different lengths",
    B: 4,
    H: 8,
    Hkv: 2,
    T: 1,
    cap: 620,
    dk: 32,
    kw: 32,
    vw: 32,
    query: [[599], [400], [599], [10]],
    keys: [599, 400, 599, 10].map((last) => Array.from({ length: 600 }, (_, i) => (i <= last ? i : -1))),
    options: { scale: 0.2 },
  },
];

/** float64 reference: out [B, H, T, dv]. */
function reference(c: Case, q: Float64Array, k: Float64Array, v: Float64Array): Float64Array {
  const { B, H, Hkv, T, cap, dk, kw, vw } = c;
  const S = c.keys[0].length;
  const dv = c.options.dv ?? vw;
  const w = c.options.window ?? 0;
  const g = c.options.globalTokens ?? 0;
  const out = new Float64Array(B * H * T * dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const kh = Math.floor((h * Hkv) / H);
      for (let t = 0; t < T; t++) {
        const p = c.query[b][t];
        const seen = c.keys[b].map((j) => p >= 0 && j >= 0 && j <= p && (w === 0 || p - j < w || j < g));
        if (!seen.some(Boolean)) continue;
        const scores = seen.map((ok, s) => {
          if (!ok) return -Infinity;
          let dot = 0;
          for (let i = 0; i < dk; i++)
            dot += q[((b * H + h) * T + t) * dk + i] * k[((b * Hkv + kh) * cap + s) * kw + i];
          return dot * c.options.scale;
        });
        const m = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - m));
        const sum = e.reduce((a, x) => a + x, 0);
        for (let s = 0; s < S; s++)
          for (let i = 0; i < dv; i++)
            out[((b * H + h) * T + t) * dv + i] += (e[s] / sum) * v[((b * Hkv + kh) * cap + s) * vw + i];
      }
    }
  return out;
}

describe("slotAttention", () => {
  for (const backend of OPS_BACKENDS)
    for (const c of CASES) {
      it(`${backend}, ${c.name}: equals the float64 reference`, async () => {
        await useBackend(backend);
        expect(hasFusedKernel(SLOT_ATTENTION_KERNEL)).toBe(backend === "native");
        const rng = new Rng(5);
        const S = c.keys[0].length;
        const q = randomValues(rng, c.B * c.H * c.T * c.dk);
        const k = randomValues(rng, c.B * c.Hkv * c.cap * c.kw);
        const v = randomValues(rng, c.B * c.Hkv * c.cap * c.vw);
        const out = expectNoLeak(() =>
          tf.tidy(() =>
            Float64Array.from(
              slotAttention(
                tf.tensor4d(Float32Array.from(q), [c.B, c.H, c.T, c.dk]),
                tf.tensor4d(Float32Array.from(k), [c.B, c.Hkv, c.cap, c.kw]),
                tf.tensor4d(Float32Array.from(v), [c.B, c.Hkv, c.cap, c.vw]),
                tf.tensor2d(c.query.flat(), [c.B, c.T], "int32"),
                tf.tensor2d(c.keys.flat(), [c.B, S], "int32"),
                c.options,
              ).dataSync(),
            ),
          ),
        );
        expectClose(out, reference(c, q, k, v), 2e-5);
      });
    }

  it("names bad arguments", async () => {
    await useBackend("native");
    tf.tidy(() => {
      const q = tf.zeros([1, 2, 1, 4]) as tf.Tensor4D;
      const k = tf.zeros([1, 1, 5, 4]) as tf.Tensor4D;
      const qp = tf.tensor2d([[2]], [1, 1], "int32");
      const kp = tf.tensor2d([[0, 1, 2]], [1, 3], "int32");
      expect(() => slotAttention(q, tf.zeros([1, 1, 5, 3]) as tf.Tensor4D, k, qp, kp, { scale: 1 })).toThrow(
        /slotAttention\(k\): expected \[1, Hkv dividing 2, cap, width ≥ 4\], got \[1,1,5,3\]/,
      );
      expect(() => slotAttention(q, k, k, qp, tf.zeros([1, 6], "int32") as tf.Tensor2D, { scale: 1 })).toThrow(
        /slotAttention\(keyPositions\): expected int32 \[1, S ≤ 5\], got int32 \[1,6\]/,
      );
      expect(() => slotAttention(q, k, k, tf.zeros([1, 1]) as tf.Tensor2D, kp, { scale: 1 })).toThrow(
        /slotAttention\(queryPositions\): expected int32 \[1, 1\], got float32 \[1,1\]/,
      );
      expect(() => slotAttention(q, k, k, qp, kp, { scale: 1, dv: 5 })).toThrow(
        /slotAttention\(options.dv\): expected an integer in \[1, 4\], got 5/,
      );
    });
  });
});
