// The deployment-cost formula, its inverse, the articles' table's implied prices, and the serving roofline on
// hand-computed cases: a one-layer dense MHA shape (every FLOP and byte counted by hand), expected distinct experts,
// DeepSeek-V3's MoE and MLA terms at the extremes, memory fit and max batch, KV bytes against lab.model's formula;
// bad inputs → errors naming the field.
import { describe, expect, it } from "vitest";
import {
  ARTICLE_A100_COSTS,
  costPerMillionTokens,
  expectedDistinctExperts,
  GPUS,
  GpuSpec,
  impliedCosts,
  impliedHourlyCost,
  kvBytesPerToken,
  matmulParams,
  maxDecodeBatch,
  ModelShape,
  roofline,
  SHAPES,
  shapeParams,
  weightBytesRead,
} from "../../lib/plan";
import { kvCacheBytesPerToken, lmConfig } from "../../lib/model";

describe("deployment cost formula", () => {
  it("cost = hardware / (throughput × utilisation) × power, in USD per million tokens (hand-computed)", () => {
    // $36/h = $0.01/s; 1000 tok/s × 0.5 = 500 tok/s → $2e-5/token; × 1.2 → $2.4e-5/token = $24/M.
    expect(
      costPerMillionTokens({ hardwarePerHour: 36, tokensPerSecond: 1000, utilisation: 0.5, powerFactor: 1.2 }).value,
    ).toBeCloseTo(24, 10);
    expect(costPerMillionTokens({ hardwarePerHour: 3.6, tokensPerSecond: 1 }).value).toBeCloseTo(1e6 * 1e-3, 6);
    expect(impliedHourlyCost(24, { tokensPerSecond: 1000, utilisation: 0.5, powerFactor: 1.2 }).value).toBeCloseTo(
      36,
      10,
    );
  });

  it("the articles' A100 rows imply these $/hour (0.12 $/M × 3420 tok/s × 3600 s / 10⁶ = $1.477/h for 8 GPUs)", () => {
    const rows = impliedCosts();
    expect(rows.map((r) => r.row.model)).toEqual(["DeepSeek", "GPT-4", "Claude", "PaLM-2"]);
    expect(rows[0].instancePerHour.value).toBeCloseTo(1.47744, 10);
    expect(rows[0].gpuPerHour.value).toBeCloseTo(1.47744 / 8, 10);
    expect(rows[1].instancePerHour.value).toBeCloseTo(0.18 * 2850 * 0.0036, 10);
    expect(rows[1].gpuPerHour.value).toBeCloseTo((0.18 * 2850 * 0.0036) / 16, 10);
    // Round trip: the implied price gives back the printed $/M.
    for (const { row, instancePerHour } of rows) {
      expect(
        costPerMillionTokens({ hardwarePerHour: instancePerHour.value, tokensPerSecond: row.throughput }).value,
      ).toBeCloseTo(row.usdPerMillion, 12);
    }
    expect(ARTICLE_A100_COSTS.every((r) => r.gpu === GPUS.A100)).toBe(true);
  });

  it("rejects bad inputs with errors naming the field", () => {
    expect(() => costPerMillionTokens({ tokensPerSecond: 10 })).toThrow(
      /hardwarePerHour must be a finite number > 0, got NaN/,
    );
    expect(() => costPerMillionTokens({ hardwarePerHour: 1, tokensPerSecond: 0 })).toThrow(
      /tokensPerSecond must be a finite number > 0/,
    );
    expect(() => costPerMillionTokens({ hardwarePerHour: 1, tokensPerSecond: 1, utilisation: 1.5 })).toThrow(
      /utilisation must be in \(0, 1\]/,
    );
    expect(() => costPerMillionTokens({ hardwarePerHour: 1, tokensPerSecond: 1, powerFactor: 0.5 })).toThrow(
      /powerFactor must be a finite number ≥ 1/,
    );
    expect(() => impliedHourlyCost(-1, { tokensPerSecond: 1 })).toThrow(/usdPerMillion must be a finite number > 0/);
  });
});

/** One dense MHA layer: V 100, h 8, 2 heads (d_h 4), SwiGLU 16, untied head, RMSNorm, no bias. */
const TINY: ModelShape = {
  name: "tiny",
  source: "test",
  vocab: 100,
  hidden: 8,
  layers: 1,
  heads: 2,
  seqLen: 32,
  ffnHidden: 16,
  ffnKind: "swiglu",
  attention: { kind: "mha", kvHeads: 2 },
  moe: null,
  norm: "rmsnorm",
  bias: false,
  tiedEmbeddings: false,
  positionEmbeddings: false,
  dropout: false,
};
/** A toy accelerator: 1000 FLOP/s, 100 B/s, 10 kB. */
const TOY: GpuSpec = {
  name: "toy",
  memoryBytes: 10_000,
  peakFlops: 1000,
  memoryBandwidth: 100,
  nvlinkBandwidth: 0,
  networkBandwidth: 0,
  gpusPerNode: 1,
  source: "test",
};

describe("serving roofline", () => {
  it("dense MHA decode step, counted by hand: memory-bound", () => {
    // Weights a token reads: attention 4h² = 256, SwiGLU 3·8·16 = 384, head V·h = 800, the planner's matmulParams also
    // counts the three RMSNorm gains 3·8 = 24 → 1464.
    expect(matmulParams(TINY)).toBe(1464);
    // KV: 2·L·n_kv·d_h·2 bytes = 2·1·2·4·2 = 32 bytes/token.
    expect(kvBytesPerToken(TINY, 2).value).toBe(32);
    const r = roofline(TINY, TOY, { batch: 1, contextTokens: 10, promptTokens: 4 });
    // FLOPs = 2·1464 + 4·c·h = 2928 + 320; bytes = 1464·2 + 10·32 = 3248.
    expect(r.decode.flops.value).toBe(3248);
    expect(r.decode.bytes.value).toBe(3248);
    expect(r.decode.seconds.value).toBeCloseTo(32.48, 12); // max(3.248 s compute, 32.48 s memory)
    expect(r.decode.bound).toBe("memory");
    expect(r.decode.tokensPerSecond.value).toBeCloseTo(1 / 32.48, 12);
    // Prefill of 4 tokens: 4·(2928 + 4·2.5·8) = 12032 FLOPs → 12.032 s; bytes 2928 + 4·32 = 3056 → 30.56 s.
    expect(r.prefill.flops.value).toBe(12032);
    expect(r.prefill.seconds.value).toBeCloseTo(30.56, 12);
    // Memory: all weights (1440 + embedding 800 + norms 3·8 = 2264 params, 4528 bytes) + 10·32 KV.
    expect(shapeParams(TINY).total).toBe(2264);
    expect(r.memory.need.value).toBe(4528 + 320);
    expect(r.memory.fits).toBe(true);
  });

  it("large batches become compute-bound; GPUs and efficiencies scale the bounds", () => {
    const r = roofline(TINY, TOY, { batch: 64, contextTokens: 10, promptTokens: 4 });
    // FLOPs 64·3248 = 207872 → 207.872 s; bytes 2928 + 64·320 = 23408 → 234.08 s: still memory.
    expect(r.decode.seconds.value).toBeCloseTo(234.08, 9);
    const fast = roofline(TINY, { ...TOY, memoryBandwidth: 1e4 }, { batch: 64, contextTokens: 10 });
    expect(fast.decode.bound).toBe("compute");
    expect(fast.decode.seconds.value).toBeCloseTo(207.872, 9);
    const two = roofline(
      TINY,
      { ...TOY, memoryBandwidth: 1e4 },
      { batch: 64, contextTokens: 10, gpus: 2, computeEfficiency: 0.5 },
    );
    expect(two.decode.seconds.value).toBeCloseTo(207.872, 9); // 2 GPUs at half efficiency
  });

  it("expected distinct experts: k at one token, E(1 − (1 − k/E)^b), → E", () => {
    expect(expectedDistinctExperts(4, 2, 1)).toBe(2);
    expect(expectedDistinctExperts(4, 2, 2)).toBeCloseTo(3, 12);
    expect(expectedDistinctExperts(256, 8, 0)).toBe(0);
    expect(expectedDistinctExperts(256, 8, 100000)).toBeCloseTo(256, 9);
    expect(() => expectedDistinctExperts(4, 5, 1)).toThrow(/topK \(5\) must be ≤ nExperts \(4\)/);
  });

  it("DeepSeek-V3: batch 1 reads the active weights, a huge batch all experts; the MLA cache is 61·576 elements", () => {
    const v3 = SHAPES.deepseekV3;
    const m = v3.moe!;
    const expert = 3 * v3.hidden * m.expertHidden;
    const moeLayers = v3.layers - m.nDenseLayers;
    expect(weightBytesRead(v3, 1, 8).bytes.value).toBeCloseTo(matmulParams(v3), 0);
    expect(weightBytesRead(v3, 1e6, 8).bytes.value).toBeCloseTo(
      matmulParams(v3) + moeLayers * (m.nRouted - m.topK) * expert,
      -3,
    );
    expect(kvBytesPerToken(v3, 2).value).toBe(61 * 576 * 2);
    // 671B at 16 bits does not fit 8×A100 80GB; at 4.125 bits it does, with room for this many 4989-token sequences.
    expect(roofline(v3, GPUS.A100, { gpus: 8, batch: 1, contextTokens: 4989 }).memory.fits).toBe(false);
    const b = maxDecodeBatch(v3, GPUS.A100, { gpus: 8, weightBits: 4.125, contextTokens: 4989 }).value;
    const free = 8 * GPUS.A100.memoryBytes - (shapeParams(v3).total * 4.125) / 8;
    expect(b).toBe(Math.floor(free / (4989 * 61 * 576 * 2)));
  });

  it("the roofline's KV bytes per token equal lab.model.kvCacheBytesPerToken (MLA absorbed latent, MHA, GQA)", () => {
    const mla = {
      kvLoraRank: 32,
      qkRopeHeadDim: 8,
      qkNopeHeadDim: 16,
      vHeadDim: 16,
      qLoraRank: 0,
      path: "absorbed" as const,
    };
    const lab = lmConfig({ dim: 64, nHeads: 4, nLayers: 3, attention: "mla", mla });
    const shape: ModelShape = {
      ...TINY,
      hidden: 64,
      heads: 4,
      layers: 3,
      attention: { kind: "mla", qLoraRank: 0, kvLoraRank: 32, qkNopeDim: 16, qkRopeDim: 8, vDim: 16 },
    };
    expect(kvBytesPerToken(shape, 2).value).toBe(kvCacheBytesPerToken(lab, 2)); // 3·(32 + 8)·2
    expect(kvBytesPerToken(shape, 2).value).toBe(240);
    for (const nKVHeads of [4, 2, 1]) {
      const c = lmConfig({ dim: 64, nHeads: 4, nLayers: 3, nKVHeads });
      expect(kvBytesPerToken({ ...shape, attention: { kind: "mha", kvHeads: nKVHeads } }, 2).value).toBe(
        kvCacheBytesPerToken(c, 2),
      );
    }
  });

  it("rejects bad workloads with errors naming the field", () => {
    expect(() => roofline(TINY, TOY, { batch: 0 })).toThrow(/batch/);
    expect(() => roofline(TINY, TOY, { contextTokens: -1 })).toThrow(/contextTokens must be an integer ≥ 0/);
    expect(() => roofline(TINY, TOY, { weightBits: 0 })).toThrow(/weightBits must be a finite number > 0/);
    expect(() => roofline(TINY, TOY, { bandwidthEfficiency: 2 })).toThrow(/bandwidthEfficiency must be in \(0, 1\]/);
    expect(() => roofline(TINY, TOY, { gpus: 1.5 })).toThrow(/gpus/);
  });
});
