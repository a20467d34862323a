// Benchmark cases: suites, shapes and FLOP counts derived from the model configs.
import { describe, expect, it } from "vitest";
import { DEFAULT_MLP_CONFIG, mlpWidths } from "../../lib/bench/models/mlp";
import { DEFAULT_TRANSFORMER_CONFIG } from "../../lib/bench/models/transformer";
import { benchCases, transformerGemms } from "../../lib/bench/workloads";
import { gemmFlops, lmStepFlops, mlpStepFlops } from "../../lib/flops";

describe("workloads", () => {
  it("lists every suite in run order by default", () => {
    const cases = benchCases();
    expect(cases.map((c) => c.suite)).toEqual([
      ...Array(4).fill("gemm"),
      ...Array(8).fill("tgemm"),
      "mlp",
      "transformer",
      "lm",
      "lm",
    ]);
    expect(cases.slice(-2).map((c) => c.id)).toEqual(["lm-dense", "lm-moe"]);
    // The models: 32 × 128 tokens a step; MoE active FFN width 3 × 170 = 510 against the dense 680.
    const [dense, moe] = cases.slice(-2).map((c) => (c.workload.kind === "lm-fit" ? c.workload.config : null)!);
    expect([
      dense.model.vocabSize,
      dense.model.dim,
      dense.model.nLayers,
      dense.model.nHeads,
      dense.model.contextLen,
      dense.model.ffnHidden,
    ]).toEqual([96, 256, 4, 4, 128, 680]);
    expect([moe.model.moe.nRouted, moe.model.moe.topK, moe.model.moe.nShared, moe.model.moe.expertHidden]).toEqual([
      16, 2, 1, 170,
    ]);
    expect(cases.at(-1)!.tokens).toBe(moe.steps * 32 * 128);
    expect(cases.slice(0, 4).map((c) => c.id)).toEqual(["gemm-256", "gemm-512", "gemm-1024", "gemm-2048"]);
    expect(cases[2].flops).toBe(2 * 1024 ** 3);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it("derives the transformer GEMMs from the model (N = B·T, d, 4d, batched heads)", () => {
    const byId = Object.fromEntries(transformerGemms(DEFAULT_TRANSFORMER_CONFIG).map((c) => [c.id, c.workload]));
    expect(byId["mlp-up"]).toEqual({
      kind: "gemm",
      shape: { batch: 1, m: 1024, n: 768, k: 256, transposeA: false, transposeB: false },
    });
    expect(byId["mlp-up-dw"]).toEqual({
      kind: "gemm",
      shape: { batch: 1, m: 256, n: 768, k: 1024, transposeA: true, transposeB: false },
    });
    expect(byId["mlp-up-dx"]).toEqual({
      kind: "gemm",
      shape: { batch: 1, m: 1024, n: 256, k: 768, transposeA: false, transposeB: true },
    });
    expect(byId["attn-qkt"]).toEqual({
      kind: "gemm",
      shape: { batch: 32, m: 128, n: 128, k: 64, transposeA: false, transposeB: true },
    });
    expect(gemmFlops({ batch: 32, m: 128, n: 128, k: 64, transposeA: false, transposeB: true })).toBe(
      2 * 32 * 128 * 128 * 64,
    );
  });

  it("counts train-step FLOPs as 3 × the forward matmuls", () => {
    expect(mlpStepFlops(mlpWidths(DEFAULT_MLP_CONFIG), 128)).toBe(3 * 2 * 128 * (784 * 512 + 512 * 512 + 512 * 10));
    const c = DEFAULT_TRANSFORMER_CONFIG;
    const n = 8 * 128;
    // per block: qkv 3d² + output d² + SwiGLU 3·d·768 multiply-adds per token, then QKᵀ and PV over T² per sequence
    const layer = 2 * n * 256 * (3 * 256 + 256 + 3 * 768) + 4 * 8 * 128 * 128 * 256;
    expect(lmStepFlops(c.model, c.batchSize, c.seqLen)).toBe(3 * (2 * layer + 2 * n * 256 * 256));
    expect(benchCases({ only: ["transformer"] })[0].flops).toBe(lmStepFlops(c.model, 8, 128));
  });

  it("filters suites and rejects bad options", () => {
    expect(benchCases({ only: ["mlp"] }).map((c) => c.id)).toEqual(["mlp-step"]);
    expect(benchCases({ only: ["gemm"], gemmSizes: [3] }).map((c) => c.label)).toEqual(["GEMM 3³"]);
    expect(() => benchCases({ only: ["nope" as "gemm"] })).toThrow(/benchCases\(options.only\): unknown suite "nope"/);
    expect(() => benchCases({ gemmSizes: [0] })).toThrow(/gemmSizes\[0\]/);
  });
});
