// The planner's formulas against hand-computed small cases and the papers' published examples: ZeRO's Figure 1
// (7.5B params, N_d = 64: 120 / 31.4 / 16.6 / 1.9 GB), Korthikanti et al.'s per-layer activations sbh(34 + 5as/h)
// (GPT-3: 5as/h = 80) and its TP/SP/selective variants, bubbles, communication volumes, FLOPs and published costs.
import { describe, expect, it } from "vitest";
import { countParams, deepSeekPreset, lmConfig } from "../../lib/model";
import {
  bubbleFraction,
  bubbleTime,
  cluster,
  communication,
  defaultChunks,
  expectedRemoteSends,
  impliedMfu,
  layerActivationBytes,
  layerActivationTerms,
  memoryPerGpu,
  ModelShape,
  narayananDays,
  PUBLISHED_RUNS,
  resolvePlan,
  shapeFromLM,
  shapeParams,
  SHAPES,
  sixN,
  trainingCost,
  trainingFlopsPerToken,
  zeroStateBytes,
  kvBytesPerToken,
  weightBytes,
  servingMemory,
  decodeFloor,
  GPUS,
  calibrateEfficiency,
  evaluatePlan,
} from "../../lib/plan";

const GPT3 = SHAPES.gpt3;

describe("parameter counts", () => {
  it("reproduce the published sizes", () => {
    const v3 = shapeParams(SHAPES.deepseekV3);
    expect(v3.total / 1e9).toBeCloseTo(671, 0);
    expect(v3.active / 1e9).toBeGreaterThan(37);
    expect(v3.active / 1e9).toBeLessThan(38);
    const v2 = shapeParams(SHAPES.deepseekV2);
    expect(Math.round(v2.total / 1e9)).toBe(236);
    expect(Math.round(v2.active / 1e9)).toBe(21);
    expect(Math.abs(shapeParams(GPT3).total / 175e9 - 1)).toBeLessThan(0.003);
    expect(Math.round(shapeParams(SHAPES.llama2_70b).total / 1e9)).toBe(69);
    expect(shapeParams(SHAPES.deepseekV2Lite).total / 1e9).toBeCloseTo(15.7, 1);
  });

  it("DeepSeek's shapes are lab.model's published configs: MLA dims, MoE fields, counts equal countParams", () => {
    expect(SHAPES.deepseekV3).toMatchObject({ hidden: 7168, layers: 61, heads: 128, vocab: 129280, seqLen: 4096 });
    expect(SHAPES.deepseekV3.attention).toEqual({
      kind: "mla",
      qLoraRank: 1536,
      kvLoraRank: 512,
      qkNopeDim: 128,
      qkRopeDim: 64,
      vDim: 128,
    });
    expect(SHAPES.deepseekV3.moe).toMatchObject({ nRouted: 256, topK: 8, expertBias: true, routeScale: 2.5 });
    expect(SHAPES.deepseekV2.moe).toMatchObject({ nGroups: 8, topkGroups: 3, renormalize: false, expertBias: false });
    expect(SHAPES.deepseekV2Lite.attention).toMatchObject({ kind: "mla", qLoraRank: 0 });
    const presets = {
      deepseekV3: "DeepSeek-V3",
      deepseekV2: "DeepSeek-V2",
      deepseekV2Lite: "DeepSeek-V2-Lite",
    } as const;
    for (const [key, name] of Object.entries(presets)) {
      const p = countParams(deepSeekPreset(name));
      const s = shapeParams(SHAPES[key as keyof typeof presets]);
      expect([s.total, s.active]).toEqual([p.total, p.active]);
    }
  });

  it("equal lab.model.countParams for lab configs (dense, GQA, MoE, MLA)", () => {
    const mla = {
      attention: "mla" as const,
      mla: { kvLoraRank: 32, qkNopeHeadDim: 16, qkRopeHeadDim: 8, vHeadDim: 16 },
    };
    const configs = [
      lmConfig({}),
      lmConfig({ ffn: "moe", nDenseLayers: 1, tiedHead: false, norm: "layernorm" }),
      lmConfig({ nKVHeads: 2 }),
      lmConfig(mla),
      lmConfig({ ...mla, mla: { ...mla.mla, qLoraRank: 24 } }),
    ];
    expect(shapeFromLM(configs[2]).attention).toEqual({ kind: "mha", kvHeads: 2 });
    for (const c of configs) {
      const shape = shapeFromLM(c);
      expect(shapeParams(shape).total).toBe(countParams(c).total);
      expect(shapeParams(shape).active).toBe(countParams(c).active);
    }
    expect(() => shapeFromLM(lmConfig({ mtpDepth: 1 }))).toThrow(
      "shapeFromLM(c): the planner's shapes have no multi-token-prediction modules; got mtpDepth 1 (plan the model with mtpDepth 0)",
    );
  });
});

describe("ZeRO model states (Rajbhandari et al. 2020, Figure 1: Ψ = 7.5B, N_d = 64, K = 12)", () => {
  const psi = 7.5e9;
  it("gives 120, 31.4, 16.6 and 1.9 GB for stages 0–3", () => {
    expect(zeroStateBytes(psi, 64, 0).value / 1e9).toBeCloseTo(120, 6);
    expect(zeroStateBytes(psi, 64, 1).value / 1e9).toBeCloseTo(31.4, 1);
    expect(zeroStateBytes(psi, 64, 2).value / 1e9).toBeCloseTo(16.6, 1);
    expect(zeroStateBytes(psi, 64, 3).value / 1e9).toBeCloseTo(1.9, 1);
  });
  it("has the 2Ψ/4Ψ/16Ψ terms as N_d → ∞ and (2 + 2 + K)Ψ at N_d = 1", () => {
    const huge = 1e12;
    expect(zeroStateBytes(1, huge, 1).value).toBeCloseTo(4, 9);
    expect(zeroStateBytes(1, huge, 2).value).toBeCloseTo(2, 9);
    expect(zeroStateBytes(1, huge, 3).value).toBeCloseTo(0, 9);
    for (const stage of [0, 1, 2, 3] as const) expect(zeroStateBytes(1, 1, stage).value).toBe(16);
    expect(zeroStateBytes(10, 4, 2).formula).toContain("2Ψ + (2 + K)Ψ/N_d");
  });
});

describe("activation memory per layer (Korthikanti et al. 2022, Table 2)", () => {
  const { seqLen: s, hidden: h, heads: a } = GPT3;
  const b = 1;
  const sbh = s * b * h;
  const plan = (tp: number, sp: boolean, recompute: "none" | "selective" | "full") => ({
    tp,
    sp,
    recompute,
    microBatch: b,
    etp: tp,
  });
  it("is sbh(34 + 5as/h) without parallelism; for GPT-3 5as/h = 80", () => {
    const T = layerActivationTerms(GPT3, b, false);
    expect(T.scores / sbh).toBe(80);
    expect((T.replicated + T.sharded) / sbh).toBe(34);
    expect(layerActivationBytes(GPT3, plan(1, false, "none")).value).toBe(sbh * (34 + (5 * a * s) / h));
  });
  it("has the TP, TP+SP, selective and full variants", () => {
    for (const t of [2, 4, 8]) {
      expect(layerActivationBytes(GPT3, plan(t, false, "none")).value).toBeCloseTo(
        sbh * (10 + 24 / t + (5 * a * s) / (h * t)),
        0,
      );
      expect(layerActivationBytes(GPT3, plan(t, true, "none")).value).toBeCloseTo(
        (sbh / t) * (34 + (5 * a * s) / h),
        0,
      );
      expect(layerActivationBytes(GPT3, plan(t, false, "selective")).value).toBeCloseTo(sbh * (10 + 24 / t), 0);
      expect(layerActivationBytes(GPT3, plan(t, true, "selective")).value).toBeCloseTo((sbh * 34) / t, 0);
      expect(layerActivationBytes(GPT3, plan(t, true, "full")).value).toBeCloseTo((2 * sbh) / t, 0);
    }
    expect(layerActivationBytes(GPT3, plan(1, false, "full")).value).toBe(2 * sbh);
  });
  it("counts a SwiGLU FFN as 8sbf and drops the dropout terms without dropout (hand count)", () => {
    const tiny: ModelShape = {
      ...GPT3,
      name: "tiny",
      seqLen: 4,
      hidden: 8,
      heads: 2,
      ffnHidden: 12,
      ffnKind: "swiglu",
      dropout: false,
      attention: { kind: "mha", kvHeads: 2 },
    };
    const T = layerActivationTerms(tiny, 3, false);
    const sbh = 4 * 3 * 8;
    expect(T.replicated).toBe(8 * sbh); // two norm inputs 4sbh, attention and FFN inputs 2sbh each
    expect(T.sharded).toBe(8 * sbh + 8 * 4 * 3 * 12); // q, k, v, attention output; gate, up, silu, product
    expect(T.scores).toBe(2 * 2 * 4 * 4 * 3); // softmax output 2as²b
  });
});

describe("MoE layer activations (the generalisation, by hand)", () => {
  it("k routed copies of the input plus SwiGLU internals, shared experts and fp32 router scores", () => {
    const moe: ModelShape = {
      ...GPT3,
      name: "moe",
      seqLen: 4,
      hidden: 8,
      heads: 2,
      ffnHidden: 12,
      ffnKind: "swiglu",
      dropout: false,
      attention: { kind: "mha", kvHeads: 2 },
      moe: {
        nRouted: 6,
        nShared: 1,
        topK: 2,
        expertHidden: 5,
        nDenseLayers: 0,
        nGroups: 1,
        topkGroups: 1,
        scoreFunc: "softmax",
        renormalize: true,
        routeScale: 1,
        expertBias: false,
      },
    };
    const [s, b, h] = [4, 3, 8];
    const T = layerActivationTerms(moe, b, true);
    expect(T.routed).toBe(2 * (2 * s * b * h + 8 * s * b * 5));
    expect(T.sharded).toBe(8 * s * b * h + 8 * s * b * 5 + 4 * s * b * 6);
    const plan = { tp: 2, sp: false, recompute: "none" as const, microBatch: b, etp: 1 };
    expect(layerActivationBytes(moe, plan, true).value).toBe(T.replicated + T.sharded / 2 + T.scores / 2 + T.routed);
  });
});

describe("pipeline bubbles", () => {
  it("1F1B is (p − 1)/(m + p − 1), interleaved (p − 1)/(vm + p − 1)", () => {
    expect(bubbleFraction("1f1b", 4, 8).value).toBeCloseTo(3 / 11, 12);
    expect(bubbleFraction("interleaved", 4, 8, undefined, 2).value).toBeCloseTo(3 / 19, 12);
    expect(bubbleFraction("1f1b", 1, 8).value).toBe(0);
  });
  it("follows DeepSeek-V3 Table 2 for 1F1B, ZB1P and DualPipe", () => {
    const c = { F: 1, B: 2, W: 1, FB: 2.5 };
    expect(bubbleTime("1f1b", 8, c).value).toBe(7 * 3);
    expect(bubbleTime("zb1p", 8, c).value).toBe(7 * (3 - 2));
    expect(bubbleTime("dualpipe", 8, c).value).toBe(3 * (2.5 + 2 - 3));
    expect(bubbleTime("dualpipe", 16, defaultChunks()).value).toBe(7 * (3 + 2 - 3));
    expect(bubbleTime("dualpipe", 16).value).toBeLessThan(bubbleTime("1f1b", 16).value);
  });
});

describe("communication", () => {
  const tiny: ModelShape = {
    ...SHAPES.llama2_70b,
    name: "tiny",
    vocab: 10,
    hidden: 16,
    layers: 4,
    heads: 4,
    seqLen: 8,
    ffnHidden: 32,
    attention: { kind: "mha", kvHeads: 4 },
    tiedEmbeddings: true,
  };
  it("matches hand-computed DP, TP and PP volumes", () => {
    const c = cluster("A100", 2); // 16 GPUs, 8 per node
    const plan = resolvePlan(tiny, { dp: 2, tp: 4, pp: 2, microBatch: 2, globalBatch: 8, zero: 1 }, c);
    const r = communication(tiny, plan, c);
    const P = shapeParams(tiny);
    const stageParams = (2 * P.attentionPerLayer + 2 * P.denseFfnPerLayer + P.embedding + P.finalNorm) / 4;
    expect(r.dp.bytes.value).toBeCloseTo(2 * stageParams * ((2 * (2 - 1)) / 2), 6);
    const m = 8 / (2 * 2);
    expect(r.tp.bytes.value).toBe(4 * 2 * m * 2 * 8 * 2 * 16 * ((2 * 3) / 4));
    expect(r.tp.time.value).toBe(r.tp.bytes.value / c.intraBandwidth); // the TP group (4 consecutive ranks) is inside a node
    expect(r.pp.bytes.value).toBe(2 * m * 2 * 8 * 2 * 16);
    expect(r.pp.time.value).toBe(r.pp.bytes.value / c.interBandwidth); // stages are dp·tp = 8 ranks apart: another node
    expect(r.ep.bytes.value).toBe(0);
    const z3 = communication(
      tiny,
      resolvePlan(tiny, { dp: 2, tp: 4, pp: 2, microBatch: 2, globalBatch: 8, zero: 3 }, c),
      c,
    );
    expect(z3.dp.bytes.value / r.dp.bytes.value).toBeCloseTo(1.5, 12);
  });

  it("counts inter-node sends per token like an enumeration of every routing (E = 8, G = 4, k = 2)", () => {
    // Every pair of experts equally likely; experts 0-1 on node 0 (the token's own), 2-3 on node 1, ...
    const E = 8,
      G = 4,
      k = 2,
      perNode = E / G;
    const pairs: [number, number][] = [];
    for (let i = 0; i < E; i++) for (let j = i + 1; j < E; j++) pairs.push([i, j]);
    const nodeOf = (e: number) => Math.floor(e / perNode);
    const copies = pairs.reduce((s, p) => s + p.filter((e) => nodeOf(e) !== 0).length, 0) / pairs.length;
    const distinct = pairs.reduce((s, p) => s + new Set(p.map(nodeOf).filter((n) => n !== 0)).size, 0) / pairs.length;
    expect(expectedRemoteSends(E, G, k, null).value).toBeCloseTo(copies, 12);
    expect(expectedRemoteSends(E, G, k, null, true).value).toBeCloseTo(distinct, 12);
    // Node-limited to M = 2 nodes chosen uniformly, then 2 experts among their 4.
    let limited = 0,
      count = 0;
    for (let a = 0; a < G; a++)
      for (let b2 = a + 1; b2 < G; b2++) {
        const pool = [a, b2].flatMap((n) => [n * perNode, n * perNode + 1]);
        for (let i = 0; i < pool.length; i++)
          for (let j = i + 1; j < pool.length; j++) {
            limited += new Set([pool[i], pool[j]].map(nodeOf).filter((n) => n !== 0)).size;
            count++;
          }
      }
    expect(expectedRemoteSends(E, G, k, 2).value).toBeCloseTo(limited / count, 12);
  });

  it("gives V3's sizes: 7 copies cross nodes without a limit, 3.18 sends with M = 4", () => {
    expect(expectedRemoteSends(256, 8, 8, null).value).toBe(7);
    expect(expectedRemoteSends(256, 8, 8, 4).value).toBeCloseTo(3.175384558872488, 10);
  });
});

describe("FLOPs and published costs", () => {
  it("GPT-3: 72Lh²(1 + s/6h + V/12Lh) per token and 3.14e23 FLOPs for 300B tokens", () => {
    const { layers: L, hidden: h, seqLen: s, vocab: V } = GPT3;
    const narayanan = 72 * L * h * h * (1 + s / (6 * h) + V / (12 * L * h));
    expect(Math.abs(trainingFlopsPerToken(GPT3).value / narayanan - 1)).toBeLessThan(2e-3);
    expect(Math.abs((sixN(GPT3).value * 300e9) / 3.14e23 - 1)).toBeLessThan(0.01);
  });
  it("Megatron 175B: 8TP/(nX) = 34 days on 1024 A100 at 140 TFLOP/s", () => {
    expect(narayananDays(175e9, 300e9, 1024, 140e12).value).toBeCloseTo(33.9, 1);
  });
  it("DeepSeek-V3: 2.664M GPU-hours at the MFU they imply, and 2.788M × $2 = $5.576M", () => {
    const run = PUBLISHED_RUNS.deepseekV3;
    const mfu = impliedMfu(run.shape, run.tokens, run.gpuHours!, run.gpu).value;
    expect(mfu).toBeGreaterThan(0.4);
    expect(mfu).toBeLessThan(0.5);
    const cost = trainingCost(run.shape, run.tokens, run.gpu, mfu, 2);
    expect(cost.gpuHours.value).toBeCloseTo(2.664e6, 0);
    expect(cost.dollars.value).toBeCloseTo(5.328e6, 0);
    expect(trainingCost(run.shape, run.tokens, run.gpu, mfu, 2).gpuHours.formula).toContain("3600");
    expect(() => trainingCost(run.shape, run.tokens, run.gpu, 1.5, 2)).toThrow(/mfu must be in/);
  });
});

describe("memory per GPU", () => {
  it("matches a hand count for a dense model with ZeRO-1 and no pipeline", () => {
    const shape = shapeFromLM(lmConfig({}), 64);
    const plan = resolvePlan(shape, { dp: 4, zero: 1, microBatch: 2, globalBatch: 8 });
    const r = memoryPerGpu(shape, plan, 1e12);
    const psi = shapeParams(shape).total;
    expect(r.params.value).toBe(psi);
    expect(r.modelStates.value).toBeCloseTo(4 * psi + (12 * psi) / 4, 6);
    expect(r.activations.value).toBe(shape.layers * layerActivationBytes(shape, plan).value);
    expect(r.fits).toBe(true);
    expect(memoryPerGpu(shape, plan, 1000).fits).toBe(false);
  });
});

describe("serving formulas", () => {
  it("KV cache per token: MLA 576 elements per layer (V3), GQA 2·L·8·128 (Llama-2-70B)", () => {
    expect(kvBytesPerToken(SHAPES.deepseekV3).value).toBe(61 * 576 * 2);
    expect(kvBytesPerToken(SHAPES.llama2_70b).value).toBe(2 * 80 * 8 * 128 * 2);
  });
  it("weights, fit and the decode floor by hand", () => {
    const n = shapeParams(SHAPES.llama2_70b).total;
    expect(weightBytes(SHAPES.llama2_70b, 4.125).value).toBe((n * 4.125) / 8);
    const fit = servingMemory(SHAPES.llama2_70b, 16, 4096, GPUS.V100, 8);
    expect(fit.need.value).toBe(2 * n + 4096 * 327680);
    expect(fit.have.value).toBe(8 * 32 * 2 ** 30);
    expect(fit.fits).toBe(true);
    expect(decodeFloor(SHAPES.llama2_70b, 16, GPUS.A100).value).toBeCloseTo((2 * n) / 2.039e12, 12);
  });
});

describe("calibrateEfficiency", () => {
  it("finds the kernel efficiency that gives a target MFU", () => {
    const c = cluster("H800", 256);
    const plan = {
      dp: 128,
      pp: 16,
      ep: 64,
      zero: 1,
      recompute: "selective",
      schedule: "dualpipe",
      globalBatch: 15360,
      dispatchBytes: 1,
      nodeLimit: 4,
    } as const;
    const e = calibrateEfficiency(SHAPES.deepseekV3, c, plan, 0.4).value;
    expect(evaluatePlan(SHAPES.deepseekV3, c, plan, { kernelEfficiency: e }).mfu.value).toBeCloseTo(0.4, 6);
    expect(() => calibrateEfficiency(SHAPES.deepseekV3, c, plan, 0.99)).toThrow(/not reachable/);
  });
});
