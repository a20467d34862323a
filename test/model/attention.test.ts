// The attention family: GQA/MQA against MHA with repeated key/value heads, MLA's naive and absorbed paths against
// each other, cached decoding against the full pass for every variant, sliding-window attention against a dense
// masked oracle, MLA gradients by central differences, cache sizes against kvCacheBytesPerToken, named errors and
// no tensor growth.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { expectDirectionalGradients, randomTokens, randn } from "../helpers/tensors";
import { selectBackend } from "../../lib/backend-select";
import { Rng, seed } from "../../lib/random";
import {
  attend,
  attentionParams,
  CausalSelfAttention,
  countParams,
  decodeSpeed,
  KVCache,
  kvCacheBytesPerToken,
  lmConfig,
  LMConfig,
  measureCache,
  MLA,
  MLAConfig,
  ropeTables,
  TransformerLM,
  keptPositions,
  windowedAttention,
  windowMask,
} from "../../lib/model";

beforeAll(async () => {
  await selectBackend();
});

/** A tiny config for fast tests: V 16, d 16, 2 layers of 4 heads (head width 4), context 24. */
const TINY: Partial<LMConfig> = { vocabSize: 16, dim: 16, nLayers: 2, nHeads: 4, contextLen: 24, ffnHidden: 24 };
const MLA_TINY: Partial<MLAConfig> = { qLoraRank: 0, kvLoraRank: 6, qkNopeHeadDim: 4, qkRopeHeadDim: 4, vHeadDim: 3 };

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Each variable's gradient of `objective` against a central difference along a random direction (eps 1e-2, float32). */
function expectGradients(objective: () => tf.Scalar, params: tf.Variable[], rng: Rng): void {
  expectDirectionalGradients(objective, params, rng, { minAnalytic: 1e-3 });
}

describe("GQA / MQA", () => {
  for (const Hkv of [4, 2, 1]) {
    it(`nKVHeads ${Hkv} equals MHA whose key/value heads repeat each shared head (HF repeat_kv)`, () => {
      seed(5);
      const H = 4;
      const dh = 4;
      const d = 16;
      const gqa = new CausalSelfAttention(d, H, { nKVHeads: Hkv });
      const mha = new CausalSelfAttention(d, H);
      // MHA's qkv rows: the queries, then for each query head h the rows of kv head ⌊h·Hkv/H⌋, for K and for V.
      const w = gqa.wqkv.weight; // [(H + 2·Hkv)·dh, d]
      const rows = (block: number, head: number) => tf.slice(w, [(block + head) * dh, 0], [dh, d]);
      const repeated = (block: number) => Array.from({ length: H }, (_, h) => rows(block, Math.floor((h * Hkv) / H)));
      mha.wqkv.weight.assign(tf.concat([tf.slice(w, [0, 0], [H * dh, d]), ...repeated(H), ...repeated(H + Hkv)], 0));
      mha.wo.weight.assign(gqa.wo.weight);
      const x = randn(new Rng(6), [2, 7, d]) as tf.Tensor3D;
      const rope = ropeTables(0, 7, dh, 10000);
      const diff = maxAbsDiff(gqa.apply(x, rope), mha.apply(x, rope));
      expect(diff).toBeLessThan(1e-5);
      expect(gqa.numParams()).toBe(d * (H + 2 * Hkv) * dh + d * d);
      expect(gqa.numParams()).toBe(attentionParams(lmConfig({ ...TINY, nKVHeads: Hkv })));
      tf.dispose([x, rope.cos, rope.sin]);
      gqa.dispose();
      mha.dispose();
    });
  }

  it("a model with nKVHeads = nHeads is the MHA model (same weights from the same seed, same logits)", () => {
    const tokens = randomTokens(new Rng(7), 2, 6, 16);
    seed(8);
    const mha = new TransformerLM(TINY);
    seed(8);
    const gqa = new TransformerLM({ ...TINY, nKVHeads: 4 });
    expect(maxAbsDiff(mha.forward(tokens).logits, gqa.forward(tokens).logits)).toBe(0);
    mha.dispose();
    gqa.dispose();
  });
});

describe("MLA", () => {
  for (const qLoraRank of [0, 5]) {
    it(`naive and absorbed paths agree (qLoraRank ${qLoraRank}): outputs and cached decoding`, () => {
      const x = randn(new Rng(9), [2, 8, 16]) as tf.Tensor3D;
      seed(10);
      const naive = new MLA(16, 4, { ...MLA_TINY, qLoraRank, path: "naive" });
      seed(10);
      const absorbed = new MLA(16, 4, { ...MLA_TINY, qLoraRank, path: "absorbed" });
      const names = [...naive.namedParameters().keys()];
      expect(names).toEqual(
        qLoraRank
          ? [
              "wq_a.weight",
              "q_norm.weight",
              "wq_b.weight",
              "wkv_a.weight",
              "kv_norm.weight",
              "wkv_b.weight",
              "wo.weight",
            ]
          : ["wq.weight", "wkv_a.weight", "kv_norm.weight", "wkv_b.weight", "wo.weight"],
      );
      const rope = ropeTables(0, 8, 4, 10000, { layout: "interleaved" });
      const a = naive.apply(x, rope);
      const b = absorbed.apply(x, rope);
      expect(tf.max(tf.abs(a)).dataSync()[0]).toBeGreaterThan(1e-2);
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
      tf.dispose([a, b, x, rope.cos, rope.sin]);
      naive.dispose();
      absorbed.dispose();
    });
  }

  it("a model's logits agree between paths, full and decoded with the cache; the absorbed cache holds latent + rope key", () => {
    const mla = (path: "naive" | "absorbed"): Partial<LMConfig> => ({
      ...TINY,
      attention: "mla",
      mla: { ...MLA_TINY, qLoraRank: 5, path },
    });
    const tokens = randomTokens(new Rng(11), 2, 9, 16);
    seed(12);
    const naive = new TransformerLM(mla("naive"));
    seed(12);
    const absorbed = new TransformerLM(mla("absorbed"));
    const full = naive.forward(tokens).logits;
    expect(maxAbsDiff(full, absorbed.forward(tokens).logits)).toBeLessThan(1e-5);
    for (const model of [naive, absorbed]) {
      const cache = model.newCache();
      const parts = [
        [0, 3],
        [3, 1],
        [4, 5],
      ].map(([s, n]) => model.forward(tf.slice(tokens, [0, s], [2, n]), cache).logits);
      expect(maxAbsDiff(tf.concat(parts, 1), full)).toBeLessThan(1e-5);
      // Elements actually cached, per token: naive H·(nope + rope + v) = 4·11, absorbed kvLoraRank + rope = 6 + 4, × 2 layers.
      expect(cache.elements() / (2 * 9)).toBe(kvCacheBytesPerToken(model.config, 1));
      expect(kvCacheBytesPerToken(model.config, 1)).toBe(model === naive ? 2 * 4 * 11 : 2 * 10);
      cache.dispose();
    }
    naive.dispose();
    absorbed.dispose();
  });

  it("counts its parameters by hand", () => {
    // d 16, H 4, nope 4, rope 4, v 3, kvLoraRank 6, qLoraRank 5: wq_a 16·5 + q_norm 5 + wq_b 5·4·8; wkv_a 16·10 + kv_norm 6
    // + wkv_b 6·4·7; wo 4·3·16.
    const hand = 16 * 5 + 5 + 5 * 32 + 16 * 10 + 6 + 6 * 28 + 12 * 16;
    seed(0);
    const m = new MLA(16, 4, { ...MLA_TINY, qLoraRank: 5 });
    expect(m.numParams()).toBe(hand);
    const cfg = lmConfig({ ...TINY, attention: "mla", mla: { ...MLA_TINY, qLoraRank: 5 } });
    expect(attentionParams(cfg)).toBe(hand);
    const model = new TransformerLM(cfg);
    expect(model.numParams()).toBe(countParams(cfg).total);
    m.dispose();
    model.dispose();
  });

  for (const path of ["naive", "absorbed"] as const) {
    it(`${path}: every parameter's gradient matches central differences along a random direction`, () => {
      seed(13);
      const mla = new MLA(16, 4, { ...MLA_TINY, qLoraRank: 5, path });
      const rng = new Rng(14);
      const x = randn(rng, [2, 5, 16]) as tf.Tensor3D;
      const r = randn(rng, [2, 5, 16]);
      const rope = ropeTables(0, 5, 4, 10000, { layout: "interleaved" });
      expectGradients(() => tf.sum(tf.mul(mla.apply(x, rope), r)) as tf.Scalar, mla.trainableVariables(), rng);
      tf.dispose([x, r, rope.cos, rope.sin]);
      mla.dispose();
    });
  }
});

describe("sliding window + global tokens", () => {
  it("chunked attention equals dense attention under the local + global mask, and the mask is what it says", () => {
    const rng = new Rng(15);
    const [B, H, Hkv, T, dk] = [2, 4, 2, 11, 3];
    const q = randn(rng, [B, H, T, dk]) as tf.Tensor4D;
    const k = randn(rng, [B, Hkv, T, dk]) as tf.Tensor4D;
    const v = randn(rng, [B, Hkv, T, dk]) as tf.Tensor4D;
    const w = { window: 3, global: 2 };
    // Oracle: the dense T×T mask written out by the rule (j ≤ p and (p − j < 3 or j < 2)).
    const dense = new Float32Array(T * T).map((_, i) => {
      const [p, j] = [Math.floor(i / T), i % T];
      return j <= p && (p - j < 3 || j < 2) ? 0 : -1e9;
    });
    const oracle = attend(q, k, v, tf.tensor2d(dense, [T, T]), 0.5);
    expect(maxAbsDiff(windowedAttention(q, k, v, w, 0.5), oracle)).toBeLessThan(1e-5);
    // windowMask: query 7 sees keys 0, 1 (global) and 5, 6, 7 (window) and nothing else; the cache after 8 positions
    // keeps rows 0, 1 and 6, 7 (the next query, 8, needs 6, 7, 8 and the globals).
    const row = windowMask(
      7,
      1,
      Array.from({ length: T }, (_, j) => j),
      w,
    ).dataSync();
    expect(Array.from(row).map((m) => (m === 0 ? 1 : 0))).toEqual([1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
    expect(keptPositions(8, w)).toEqual([0, 1, 6, 7]);
    expect(keptPositions(1, w)).toEqual([0]);
  });

  it("chunked GQA attention's gradients match central differences", () => {
    seed(21);
    const attn = new CausalSelfAttention(16, 4, { nKVHeads: 2, window: { window: 3, global: 1 } });
    const rng = new Rng(22);
    const x = randn(rng, [1, 8, 16]) as tf.Tensor3D;
    const r = randn(rng, [1, 8, 16]);
    const rope = ropeTables(0, 8, 4, 10000);
    expectGradients(() => tf.sum(tf.mul(attn.apply(x, rope), r)) as tf.Scalar, attn.trainableVariables(), rng);
    tf.dispose([x, r, rope.cos, rope.sin]);
    attn.dispose();
  });

  it("a model decodes with a cache of global + window − 1 rows and matches its full pass", () => {
    const cfg: Partial<LMConfig> = { ...TINY, nKVHeads: 2, slidingWindow: 4, globalTokens: 2 };
    seed(16);
    const model = new TransformerLM(cfg);
    const tokens = randomTokens(new Rng(17), 2, 14, 16);
    const full = model.forward(tokens).logits;
    const cache = model.newCache();
    const parts = [
      [0, 5],
      [5, 1],
      [6, 1],
      [7, 4],
      [11, 3],
    ].map(([s, n]) => model.forward(tf.slice(tokens, [0, s], [2, n]), cache).logits);
    expect(maxAbsDiff(tf.concat(parts, 1), full)).toBeLessThan(1e-5);
    // 2 global + 3 window rows, per layer, of 2·Hkv·dh = 2·2·4 elements per batch row.
    expect(cache.elements()).toBe((2 * 2 * (2 + 3) * kvCacheBytesPerToken(model.config, 1)) / 2);
    cache.dispose();
    // Window ≥ length and no globals is full causal attention.
    seed(16);
    const wide = new TransformerLM({ ...cfg, slidingWindow: 24, globalTokens: 0 });
    seed(16);
    const plain = new TransformerLM({ ...cfg, slidingWindow: null, globalTokens: 0 });
    expect(maxAbsDiff(wide.forward(tokens).logits, plain.forward(tokens).logits)).toBeLessThan(1e-5);
    tf.dispose([wide, plain, model].flatMap((m) => m.trainableVariables()));
  });
});

describe("cached decoding equals the full pass", () => {
  const variants: [string, Partial<LMConfig>][] = [
    ["MHA", TINY],
    ["GQA", { ...TINY, nKVHeads: 2 }],
    ["MQA", { ...TINY, nKVHeads: 1, ropeLayout: "interleaved" }],
    [
      "MHA + YaRN",
      {
        ...TINY,
        ropeScaling: {
          factor: 4,
          originalMaxPositionEmbeddings: 8,
          betaFast: 4,
          betaSlow: 1,
          mscale: 0.8,
          mscaleAllDim: 0.7,
        },
      },
    ],
    ["MLA naive", { ...TINY, attention: "mla", mla: { ...MLA_TINY, path: "naive" }, ropeLayout: "interleaved" }],
    [
      "MLA absorbed + YaRN",
      {
        ...TINY,
        attention: "mla",
        mla: { ...MLA_TINY, path: "absorbed" },
        ropeScaling: { factor: 4, originalMaxPositionEmbeddings: 8 },
      },
    ],
    ["sparse", { ...TINY, slidingWindow: 3, globalTokens: 1 }],
  ];
  for (const [name, cfg] of variants) {
    it(`${name}: same logits, cache as large as kvCacheBytesPerToken says, no tensor growth`, () => {
      seed(18);
      const model = new TransformerLM(cfg);
      const tokens = randomTokens(new Rng(19), 2, 10, 16);
      const before = tf.memory().numTensors;
      const full = tf.tidy(() => model.forward(tokens).logits);
      const cache = model.newCache();
      const parts = [
        [0, 4],
        [4, 1],
        [5, 1],
        [6, 4],
      ].map(([s, n]) => tf.tidy(() => model.forward(tf.slice(tokens, [0, s], [2, n]), cache).logits));
      const decoded = tf.concat(parts, 1);
      expect(maxAbsDiff(decoded, full)).toBeLessThan(1e-5);
      const rows = model.config.slidingWindow ? model.config.globalTokens + model.config.slidingWindow - 1 : 10;
      expect(cache.elements()).toBe(2 * rows * kvCacheBytesPerToken(model.config, 1));
      cache.dispose();
      tf.dispose([full, decoded, ...parts]);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }
});

describe("cache sizes", () => {
  it("kvCacheBytesPerToken gives V3's (512 + 64) × 61 elements and the MHA/GQA/MQA/naive formulas", () => {
    const v3 = { dim: 7168, nLayers: 61, nHeads: 128, attention: "mla" as const };
    const mla = { qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 };
    expect(kvCacheBytesPerToken(lmConfig({ ...v3, mla: { ...mla, path: "absorbed" } }), 1)).toBe((512 + 64) * 61);
    expect(kvCacheBytesPerToken(lmConfig({ ...v3, mla: { ...mla, path: "naive" } }), 2)).toBe(
      128 * (192 + 128) * 61 * 2,
    );
    // d 16, 4 heads of 4, 2 layers: MHA 2·4·4·2, GQA-2 2·2·4·2, MQA 2·1·4·2 values per token.
    expect([null, 2, 1].map((nKVHeads) => kvCacheBytesPerToken(lmConfig({ ...TINY, nKVHeads }), 4))).toEqual([
      256, 128, 64,
    ]);
  });

  it("measureCache reads the cache tensors; decodeSpeed times each context and names an overflow", () => {
    seed(20);
    const model = new TransformerLM({ ...TINY, nKVHeads: 2 });
    const before = tf.memory().numTensors;
    const f = measureCache(model, 7);
    expect(f).toEqual({
      tokens: 7,
      elements: 7 * 2 * 2 * 2 * 4,
      bytesPerToken: 4 * 2 * 2 * 2 * 4,
      formulaBytesPerToken: 128,
    });
    const speeds = decodeSpeed(model, [3, 10], 2);
    expect(speeds.map((s) => s.context)).toEqual([3, 10]);
    speeds.forEach((s) => expect(s.tokensPerSecond).toBeCloseTo(1000 / s.msPerToken, 9));
    expect(tf.memory().numTensors).toBe(before);
    expect(() => decodeSpeed(model, [20], 4)).toThrow(/decodeSpeed: context 20 \+ 5 steps exceeds contextLen 24/);
    model.dispose();
  });

  it("KVCache.keepEnds keeps the first and last rows and names bad counts", () => {
    const cache = new KVCache(1);
    const k = tf.tensor4d([0, 1, 2, 3, 4, 5], [1, 1, 6, 1]);
    cache.append(0, { k });
    cache.keepEnds(0, 2, 3);
    expect(cache.elements()).toBe(5);
    const all = cache.append(0, { k: tf.tensor4d([6], [1, 1, 1, 1]) });
    expect(Array.from(all.k.dataSync())).toEqual([0, 1, 3, 4, 5, 6]);
    expect(() => cache.keepEnds(0, 4, 3)).toThrow(
      /KVCache.keepEnds\(layer, head, tail\): need integers ≥ 0 with head \+ tail ≤ 6 rows, got 4 and 3/,
    );
    expect(() => cache.append(0, { v: k })).toThrow(/KVCache.append: layer 0 caches parts \[k\], got \[v\]/);
    expect(() => cache.append(1, { k })).toThrow(/KVCache.append\(layer\): expected a layer in \[0, 1\), got 1/);
    cache.dispose();
    k.dispose();
  });
});

describe("named errors", () => {
  const cases: [Partial<LMConfig>, RegExp][] = [
    [{ attention: "gqa" as never }, /lmConfig: attention must be one of mha, mla, got gqa/],
    [{ nKVHeads: 3 }, /lmConfig: nKVHeads must be a positive integer dividing nHeads \(4\) or null, got 3/],
    [{ nKVHeads: 0 }, /nKVHeads must be a positive integer dividing nHeads/],
    [{ attention: "mla", nKVHeads: 2 }, /nKVHeads applies to attention "mha"/],
    [{ attention: "mla", mla: { qkRopeHeadDim: 3 } }, /mlaConfig: qkRopeHeadDim must be even/],
    [{ attention: "mla", mla: { kvLoraRank: 0 } }, /mlaConfig: kvLoraRank must be a positive integer, got 0/],
    [{ attention: "mla", mla: { qLoraRank: -1 } }, /mlaConfig: qLoraRank must be an integer ≥ 0/],
    [
      { attention: "mla", mla: { path: "absorb" as never } },
      /mlaConfig: path must be "naive" or "absorbed", got absorb/,
    ],
    [{ attention: "mla", slidingWindow: 4 }, /slidingWindow is implemented for attention "mha" only/],
    [{ slidingWindow: 0 }, /lmConfig: slidingWindow must be a positive integer or null/],
    [{ globalTokens: 2 }, /globalTokens \(2\) needs a slidingWindow/],
    [{ ropeLayout: "complex" as never }, /lmConfig: ropeLayout must be one of half, interleaved, got complex/],
    [{ ropeScaling: { factor: 0.5 } }, /yarnScaling: factor must be a finite number ≥ 1, got 0.5/],
    [
      { ropeScaling: { betaFast: 1, betaSlow: 32 } },
      /yarnScaling: betaFast and betaSlow must be finite with betaFast > betaSlow > 0/,
    ],
  ];
  for (const [cfg, error] of cases)
    it(`${JSON.stringify(cfg)} → ${error.source.slice(0, 40)}…`, () =>
      expect(() => lmConfig({ ...TINY, ...cfg })).toThrow(error));

  it("kvCacheBytesPerToken names a bad bytesPerElement; attend names mismatched shapes", () => {
    expect(() => kvCacheBytesPerToken(lmConfig(TINY), 0)).toThrow(
      /kvCacheBytesPerToken: bytesPerElement must be a finite number > 0, got 0/,
    );
    expect(() =>
      attend(
        tf.zeros([1, 3, 2, 4]) as tf.Tensor4D,
        tf.zeros([1, 2, 2, 4]) as tf.Tensor4D,
        tf.zeros([1, 2, 2, 4]) as tf.Tensor4D,
        null,
        1,
      ),
    ).toThrow(/attend\(q, k, v\): expected k/);
  });
});
