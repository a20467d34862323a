// Plans end to end: impossible plans give named PlanErrors; the evaluation adds up (step time, MFU, tokens/s from its
// parts); the search returns only plans that fit, fastest first; the Megatron-LM flags exist in the real
// arguments.py (fixture: test/fixtures/megatron-arguments.json, from scripts/megatron-flags.py) and the DeepSpeed
// config's batch arithmetic holds.
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  cluster,
  deepspeedConfig,
  evaluatePlan,
  MEGATRON_COMMIT,
  megatronArgs,
  megatronLaunchScript,
  PlanError,
  PlanErrorReason,
  resolvePlan,
  searchPlans,
  SHAPES,
  trainingFlopsPerToken,
} from "../../lib/plan";

const V3 = SHAPES.deepseekV3;
const GPT3 = SHAPES.gpt3;

function reason(f: () => unknown): PlanErrorReason | string {
  try {
    f();
  } catch (e) {
    return e instanceof PlanError ? e.reason : `not a PlanError: ${(e as Error).message}`;
  }
  return "no error";
}

describe("impossible plans", () => {
  it("are rejected with named errors", () => {
    expect(reason(() => resolvePlan(V3, { tp: 3 }))).toBe("tp-heads"); // 128 heads
    expect(reason(() => resolvePlan(GPT3, { pp: 97 }))).toBe("pp-layers"); // 96 layers
    expect(reason(() => resolvePlan(V3, { dp: 96, ep: 96, globalBatch: 96 }))).toBe("ep-experts"); // 256 experts
    expect(reason(() => resolvePlan(GPT3, { dp: 8, ep: 2, globalBatch: 8 }))).toBe("ep-dense");
    expect(reason(() => resolvePlan(V3, { dp: 2, ep: 4, globalBatch: 2 }))).toBe("ep-group");
    expect(reason(() => resolvePlan(V3, { dp: 4, globalBatch: 4 }, cluster("H800", 1)))).toBe("world-size");
    expect(reason(() => resolvePlan(V3, { dp: 4, microBatch: 2, globalBatch: 12 }))).toBe("batch");
    expect(reason(() => resolvePlan(GPT3, { pp: 5, schedule: "interleaved", virtualStages: 2, globalBatch: 10 }))).toBe(
      "interleaved",
    );
    expect(reason(() => resolvePlan(V3, { pp: 3, schedule: "dualpipe", globalBatch: 6 }))).toBe("dualpipe");
    expect(reason(() => resolvePlan(V3, { zero: 4 as 0 }))).toBe("value");
    expect(reason(() => resolvePlan(V3, { dp: 0 }))).toBe("value");
    expect(reason(() => resolvePlan(V3, { etp: 0 }))).toBe("value");
    expect(() => resolvePlan(V3, { tp: 3 })).toThrow(/tp = 3 does not divide the 128 attention heads/);
  });
  it("and a possible one resolves its derived fields", () => {
    const p = resolvePlan(V3, { dp: 32, tp: 8, pp: 4, ep: 2, globalBatch: 1024 });
    expect(p).toMatchObject({ world: 1024, etp: 8, expertDp: 16, microBatches: 32 });
  });
});

describe("evaluatePlan", () => {
  const c = cluster("H800", 256);
  const v3plan = {
    dp: 128,
    tp: 1,
    pp: 16,
    ep: 64,
    zero: 1,
    recompute: "full",
    schedule: "dualpipe",
    globalBatch: 15360,
    dispatchBytes: 1,
    nodeLimit: 4,
  } as const;
  it("adds up: step = compute/(1 − bubble) + exposed, MFU and tokens/s from the step", () => {
    const r = evaluatePlan(V3, c, v3plan);
    expect(r.stepTime.value).toBeCloseTo(r.compute.value / (1 - r.bubble.value) + r.exposedComm.value, 9);
    const tokens = 15360 * V3.seqLen;
    expect(r.tokensPerSecond.value).toBeCloseTo(tokens / r.stepTime.value, 3);
    expect(r.mfu.value).toBeCloseTo(
      (trainingFlopsPerToken(V3).value * tokens) / (r.stepTime.value * 2048 * c.gpu.peakFlops),
      9,
    );
    expect(r.mfu.value).toBeLessThan(1);
    for (const f of [r.memory.total, r.stepTime, r.mfu, r.communication.ep.bytes, r.bubble]) {
      expect(f.formula.length).toBeGreaterThan(5);
      expect(f.source.length).toBeGreaterThan(5);
    }
  });
  it("responds to the levers the way the formulas say", () => {
    const base = evaluatePlan(V3, c, v3plan);
    const slower = evaluatePlan(V3, c, v3plan, { kernelEfficiency: 0.5 });
    expect(slower.compute.value).toBeCloseTo(2 * base.compute.value, 9);
    const unlimited = evaluatePlan(V3, c, { ...v3plan, nodeLimit: null });
    expect(unlimited.communication.ep.time.value).toBeGreaterThan(base.communication.ep.time.value);
    const oneF = evaluatePlan(V3, c, { ...v3plan, schedule: "1f1b" });
    expect(oneF.bubble.value).toBeGreaterThan(base.bubble.value);
    const zero3 = evaluatePlan(V3, c, { ...v3plan, zero: 3 });
    expect(zero3.memory.modelStates.value).toBeLessThan(base.memory.modelStates.value);
  });
});

describe("searchPlans", () => {
  it("returns plans that fit, fastest first, and counts the rejects", () => {
    const c = cluster("A100", 2);
    const { best, tried, impossible, tooBig } = searchPlans(SHAPES.llama2_70b, c, { globalBatch: 64, top: 4 });
    expect(best.length).toBe(4);
    expect(tried).toBeGreaterThan(impossible + tooBig);
    for (const r of best) expect(r.memory.fits).toBe(true);
    for (let i = 1; i < best.length; i++)
      expect(best[i - 1].tokensPerSecond.value).toBeGreaterThanOrEqual(best[i].tokensPerSecond.value);
    expect(tooBig).toBeGreaterThan(0); // 70B without sharding does not fit in 80 GB
  });
});

describe("Megatron-LM and DeepSpeed", () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "../fixtures/megatron-arguments.json"), "utf8")) as {
    commit: string;
    flags: string[];
    choices: Record<string, string[]>;
  };
  const known = new Set(fixture.flags);
  const check = (args: string[]) => {
    for (let i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) continue;
      expect(known.has(args[i]), `${args[i]} is in Megatron-LM's arguments.py`).toBe(true);
      const allowed = fixture.choices[args[i]];
      if (allowed) expect(allowed, `${args[i]} ${args[i + 1]}`).toContain(args[i + 1]);
    }
  };
  it("checks against the same commit the library names", () => {
    expect(fixture.commit).toBe(MEGATRON_COMMIT);
    expect(fixture.flags.length).toBeGreaterThan(500);
  });
  it("emits only real flags, with allowed values, for MoE/MLA and dense/GQA plans", () => {
    const art = resolvePlan(V3, {
      dp: 32,
      tp: 8,
      pp: 4,
      ep: 2,
      sp: true,
      zero: 1,
      recompute: "selective",
      globalBatch: 1024,
    });
    const args = megatronArgs(V3, art);
    check(args);
    for (const flag of [
      "--tensor-model-parallel-size",
      "--pipeline-model-parallel-size",
      "--expert-model-parallel-size",
      "--num-experts",
      "--moe-router-topk",
      "--sequence-parallel",
      "--recompute-granularity",
      "--multi-latent-attention",
      "--use-distributed-optimizer",
    ]) {
      expect(args).toContain(flag);
    }
    expect(args[args.indexOf("--expert-model-parallel-size") + 1]).toBe("2");
    expect(args[args.indexOf("--moe-router-score-function") + 1]).toBe("sigmoid");
    expect(args[args.indexOf("--moe-router-topk-scaling-factor") + 1]).toBe("2.5");
    expect(args).toContain("--moe-router-enable-expert-bias");
    const v2 = megatronArgs(SHAPES.deepseekV2, resolvePlan(SHAPES.deepseekV2, { dp: 8, ep: 8, globalBatch: 8 }));
    check(v2);
    expect(v2).toContain("--moe-router-pre-softmax"); // V2: softmax over all experts, no renormalisation
    expect(v2[v2.indexOf("--moe-router-group-topk") + 1]).toBe("3");
    const llama = resolvePlan(SHAPES.llama2_70b, {
      dp: 2,
      tp: 8,
      pp: 4,
      zero: 3,
      recompute: "full",
      schedule: "interleaved",
      virtualStages: 2,
      globalBatch: 16,
    });
    const dense = megatronArgs(SHAPES.llama2_70b, llama);
    check(dense);
    expect(dense).toContain("--group-query-attention");
    expect(dense[dense.indexOf("--num-layers-per-virtual-pipeline-stage") + 1]).toBe("10");
    check(megatronArgs(GPT3, resolvePlan(GPT3, { dp: 4, tp: 8, pp: 8, globalBatch: 32 })));
  });
  it("writes a torchrun script for the cluster and refuses a DualPipe plan", () => {
    const c = cluster("H800", 128);
    const plan = resolvePlan(V3, { dp: 32, tp: 8, pp: 4, ep: 2, globalBatch: 1024 }, c);
    const script = megatronLaunchScript(V3, plan, c);
    expect(script).toMatch(/torchrun --nnodes 128 --nproc-per-node 8/);
    expect(script).toContain('--moe-layer-freq "([0]*3+[1]*58)"');
    expect(() => megatronArgs(V3, resolvePlan(V3, { pp: 16, schedule: "dualpipe", globalBatch: 32 }))).toThrow(
      PlanError,
    );
  });
  it("emits only DeepSpeed config keys that DeepSpeed's source defines (fixture: scripts/deepspeed-keys.py)", () => {
    const keys = JSON.parse(
      fs.readFileSync(path.join(__dirname, "../fixtures/deepspeed-config-keys.json"), "utf8"),
    ) as Record<string, string[]>;
    for (const zero of [0, 1, 2] as const) {
      const cfg = deepspeedConfig(
        resolvePlan(GPT3, { dp: 4, tp: 8, zero, recompute: "full", sp: true, globalBatch: 8 }),
      ) as Record<string, Record<string, unknown>>;
      for (const key of Object.keys(cfg)) expect(keys.top, key).toContain(key);
      for (const key of Object.keys(cfg.zero_optimization)) expect(keys.zero_optimization, key).toContain(key);
      for (const key of Object.keys(cfg.activation_checkpointing))
        expect(keys.activation_checkpointing, key).toContain(key);
      expect(keys.top).toContain("enabled"); // bf16.enabled
    }
  });

  it("gives DeepSpeed batch = micro × accumulation × dp and the ZeRO stage", () => {
    const plan = resolvePlan(GPT3, { dp: 16, tp: 8, pp: 1, zero: 2, microBatch: 2, globalBatch: 256 });
    const cfg = deepspeedConfig(plan) as {
      train_batch_size: number;
      train_micro_batch_size_per_gpu: number;
      gradient_accumulation_steps: number;
      zero_optimization: { stage: number };
    };
    expect(cfg.train_batch_size).toBe(cfg.train_micro_batch_size_per_gpu * cfg.gradient_accumulation_steps * plan.dp);
    expect(cfg.zero_optimization.stage).toBe(2);
    expect(reason(() => deepspeedConfig(resolvePlan(GPT3, { dp: 2, pp: 2, zero: 3, globalBatch: 4 })))).toBe("value");
  });
});
