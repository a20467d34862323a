// The fused causal attention op: forward and q/k/v gradients against an independent float64 reference (the visibility
// rule written out, central differences for the gradients), on cpu (the composite) and native (the fused kernels), for
// MHA, GQA with cached keys (kOffset), MQA with vector tails, and sliding windows with global tokens (on cpu these run
// lib/model/sparse.ts's blocked windowedAttention: T a multiple of the window or not, GQA/MQA, cached keys); no
// tensor leaks; bad input named. Without a window the native kernel runs batched GEMMs (native/src/attention_gemm.cc)
// while a key/value group's scores fit its scratch, else its row kernels: long sequences check both (several GEMM
// chunks; past the scratch) against the cpu composite. test/ops/fused-ops-isa.test.ts reruns this file on the AVX2
// and scalar paths.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { causalAttention, type CausalAttentionOptions } from "../../lib/ops";
import { hasFusedKernel } from "../../lib/ops/fused";
import { ATTENTION_KERNELS } from "../../lib/kernel-names";
import { Rng } from "../../lib/random";
import { expectClose, expectNoLeak, numericGradient, randomValues } from "./helpers";

interface Case {
  name: string;
  B: number;
  H: number;
  Hkv: number;
  T: number;
  S: number;
  dk: number;
  dv: number;
  options: CausalAttentionOptions;
}

const CASES: Case[] = [
  { name: "MHA", B: 2, H: 2, Hkv: 2, T: 5, S: 5, dk: 3, dv: 4, options: { scale: 0.6 } },
  { name: "GQA, 3 cached keys", B: 1, H: 4, Hkv: 2, T: 4, S: 7, dk: 5, dv: 3, options: { scale: 0.4 } },
  { name: "MQA, vector tails", B: 1, H: 3, Hkv: 1, T: 19, S: 19, dk: 17, dv: 18, options: { scale: 0.25 } },
  {
    name: "window 3 + 2 global",
    B: 1,
    H: 2,
    Hkv: 1,
    T: 9,
    S: 9,
    dk: 4,
    dv: 4,
    options: { scale: 0.5, window: 3, globalTokens: 2 },
  },
  {
    name: "GQA, window 4 + 1 global, T = 10 (not a multiple of the window), 3 cached keys",
    B: 2,
    H: 4,
    Hkv: 2,
    T: 10,
    S: 13,
    dk: 3,
    dv: 2,
    options: { scale: 0.7, window: 4, globalTokens: 1 },
  },
  {
    name: "MQA, window 2, no global, T = 11",
    B: 1,
    H: 3,
    Hkv: 1,
    T: 11,
    S: 11,
    dk: 2,
    dv: 3,
    options: { scale: 0.9, window: 2 },
  },
  {
    name: "queries before the cache end (kOffset 1 of 3)",
    B: 1,
    H: 1,
    Hkv: 1,
    T: 3,
    S: 6,
    dk: 2,
    dv: 2,
    options: { scale: 1, kOffset: 1 },
  },
];

/** float64 reference: out[b,h,t] = Σ_j softmax_j(scale·q·k_j over visible j) v_j, weighted-summed with `w` into a loss. */
function referenceLoss(c: Case, q: Float64Array, k: Float64Array, v: Float64Array, w: Float64Array): number {
  const { B, H, Hkv, T, S, dk, dv } = c;
  const off = c.options.kOffset ?? S - T;
  const win = c.options.window ?? 0;
  const glob = c.options.globalTokens ?? 0;
  let loss = 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const kh = Math.floor((h * Hkv) / H);
      for (let t = 0; t < T; t++) {
        const p = off + t;
        const s: number[] = [];
        const js: number[] = [];
        for (let j = 0; j < S; j++) {
          if (!(j <= p && (win === 0 || p - j < win || j < glob))) continue;
          let dot = 0;
          for (let c2 = 0; c2 < dk; c2++)
            dot += q[((b * H + h) * T + t) * dk + c2] * k[((b * Hkv + kh) * S + j) * dk + c2];
          s.push(dot * c.options.scale);
          js.push(j);
        }
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, x) => a + x, 0);
        for (let c2 = 0; c2 < dv; c2++) {
          let o = 0;
          js.forEach((j, i) => (o += (e[i] / z) * v[((b * Hkv + kh) * S + j) * dv + c2]));
          loss += o * w[((b * H + h) * T + t) * dv + c2];
        }
      }
    }
  return loss;
}

describe("causalAttention", () => {
  for (const backend of ["cpu", "native"] as const) {
    for (const c of CASES) {
      it(`${backend}: ${c.name} — forward and gradients equal the float64 reference`, async () => {
        await useBackend(backend);
        expect(hasFusedKernel(ATTENTION_KERNELS.forward)).toBe(backend === "native");
        const rng = new Rng(7);
        const { B, H, Hkv, T, S, dk, dv } = c;
        const [q, k, v, w] = [B * H * T * dk, B * Hkv * S * dk, B * Hkv * S * dv, B * H * T * dv].map((n) =>
          randomValues(rng, n),
        );
        const tq = tf.tensor4d(Float32Array.from(q), [B, H, T, dk]);
        const tk = tf.tensor4d(Float32Array.from(k), [B, Hkv, S, dk]);
        const tv = tf.tensor4d(Float32Array.from(v), [B, Hkv, S, dv]);
        const tw = tf.tensor4d(Float32Array.from(w), [B, H, T, dv]);
        const loss = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          tf.tidy(() =>
            tf.sum(tf.mul(causalAttention(a as tf.Tensor4D, b as tf.Tensor4D, d as tf.Tensor4D, c.options), tw)),
          );
        const [value, grads] = expectNoLeak(() => {
          const l = loss(tq, tk, tv);
          const g = tf.grads(loss)([tq, tk, tv]);
          const out = [l.dataSync()[0], g.map((x) => Float64Array.from(x.dataSync()))] as const;
          tf.dispose([l, ...g]);
          return out;
        });
        expect(Math.abs(value - referenceLoss(c, q, k, v, w))).toBeLessThan(1e-4 * Math.max(1, Math.abs(value)));
        const fd = [
          numericGradient((x) => referenceLoss(c, x, k, v, w), q),
          numericGradient((x) => referenceLoss(c, q, x, v, w), k),
          numericGradient((x) => referenceLoss(c, q, k, x, w), v),
        ];
        grads.forEach((g, i) => expectClose(g, fd[i], 2e-5));
        tf.dispose([tq, tk, tv, tw]);
      });
    }
  }

  // [B, H, Hkv, T = S, dk, dv]: 2 groups of 1500² scores = two GEMM chunks of 4M floats; 2049² > 4M: the row kernels.
  it.each([
    ["several GEMM chunks", [2, 1, 1, 1500, 3, 2]],
    ["scores past the GEMM scratch (row kernels)", [1, 1, 1, 2049, 2, 3]],
  ])(
    "native, %s: forward and gradients equal the cpu composite",
    async (_, [B, H, Hkv, T, dk, dv]) => {
      const rng = new Rng(11);
      const values = [B * H * T * dk, B * Hkv * T * dk, B * Hkv * T * dv, B * H * T * dv].map((n) =>
        Float32Array.from(randomValues(rng, n)),
      );
      const shapes = [
        [B, H, T, dk],
        [B, Hkv, T, dk],
        [B, Hkv, T, dv],
        [B, H, T, dv],
      ];
      const run = async (backend: "cpu" | "native") => {
        await useBackend(backend);
        const [q, k, v, w] = values.map((x, i) => tf.tensor4d(x, shapes[i] as [number, number, number, number]));
        const loss = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          tf.tidy(() =>
            tf.sum(tf.mul(causalAttention(a as tf.Tensor4D, b as tf.Tensor4D, d as tf.Tensor4D, { scale: 0.5 }), w)),
          );
        const [l, ...g] = tf.tidy(() => [loss(q, k, v), ...tf.grads(loss)([q, k, v])]);
        const out = [l, ...g].map((x) => Float64Array.from(x.dataSync()));
        tf.dispose([q, k, v, w, l, ...g]);
        return out;
      };
      const cpu = await run("cpu");
      const native = await run("native");
      native.forEach((x, i) => expectClose(x, cpu[i], 1e-4));
    },
    120_000,
  );

  it("names bad arguments", async () => {
    await useBackend("native");
    const q = tf.zeros([1, 4, 3, 2]) as tf.Tensor4D;
    const k = tf.zeros([1, 3, 3, 2]) as tf.Tensor4D;
    const v = tf.zeros([1, 2, 3, 2]) as tf.Tensor4D;
    expect(() => causalAttention(q, k, v, { scale: 1 })).toThrow(
      /causalAttention\(k\): expected \[1, Hkv dividing 4, S, 2\]/,
    );
    expect(() => causalAttention(q, v, k, { scale: 1 })).toThrow(/causalAttention\(v\)/);
    expect(() => causalAttention(q, v, v, { scale: 0 })).toThrow(/options\.scale/);
    expect(() => causalAttention(q, v, v, { scale: 1, kOffset: 1 })).toThrow(/options\.kOffset/);
    expect(() => causalAttention(q, v, v, { scale: 1, window: 1.5 })).toThrow(/options\.window/);
    tf.dispose([q, k, v]);
  });
});
