// Paper-scale LoRA arithmetic against hand-computed counts (Hu et al. 2021: |Θ| = 2·L̂·d·r; GPT-3 175B d = 12288,
// 96 layers: r = 4 on Wq, Wv is the "18M" budget of §7.1, r = 8 is Table 4's 37.7M) and DeepSeek-V3's MLA shapes;
// and the TypeScript parse check the notebook's compile pass rate uses.
import { describe, expect, it } from "vitest";
import { SHAPES } from "../../lib/plan/shapes";
import { loraArithmetic, loraParamCount, projectionShape } from "../../lib/adapt";
import { declarationLines, isCompleteMember, parsesAsMember } from "../../lib/experiments/fine-tune";

describe("LoRA parameter arithmetic", () => {
  it("GPT-3 175B, Wq and Wv in all 96 layers", () => {
    expect(loraArithmetic(SHAPES.gpt3, ["wq", "wv"], 4).trainable).toBe(2 * 96 * 2 * 12288 * 4); // 18,874,368
    expect(loraArithmetic(SHAPES.gpt3, ["wq", "wv"], 8).trainable).toBe(37_748_736);
    expect(loraArithmetic(SHAPES.gpt3, ["wq", "wv"], 1).trainable).toBe(4_718_592);
    const a = loraArithmetic(SHAPES.gpt3, ["wq", "wv"], 4);
    expect(a.fullBytes).toBe(16 * a.total);
    expect(a.loraBytes).toBe(2 * a.total + 16 * a.trainable);
    expect(a.total / 1e9).toBeCloseTo(175, -1);
  });

  it("DeepSeek-V3's MLA projections, by hand from config.json (d 7168, 128 heads, q rank 1536, kv rank 512, nope 128, rope 64, v 128)", () => {
    expect(projectionShape(SHAPES.deepseekV3, "wq_a")).toEqual([1536, 7168]);
    expect(projectionShape(SHAPES.deepseekV3, "wq_b")).toEqual([128 * 192, 1536]);
    expect(projectionShape(SHAPES.deepseekV3, "wkv_a")).toEqual([576, 7168]);
    expect(projectionShape(SHAPES.deepseekV3, "wkv_b")).toEqual([128 * 256, 512]);
    expect(projectionShape(SHAPES.deepseekV3, "wo")).toEqual([7168, 128 * 128]);
    const r = 8;
    const perLayer = r * (1536 + 7168 + 24576 + 1536 + 576 + 7168 + 32768 + 512 + 7168 + 16384);
    expect(loraArithmetic(SHAPES.deepseekV3, ["wq_a", "wq_b", "wkv_a", "wkv_b", "wo"], r).trainable).toBe(
      61 * perLayer,
    );
    expect(() => projectionShape(SHAPES.deepseekV3, "wq")).toThrow(/MLA has wkv_a, wkv_b, wo, wq_a, wq_b/);
    expect(() => projectionShape(SHAPES.gpt3, "wkv_a")).toThrow(/multi-head attention/);
    expect(() => loraParamCount([[4, 4]], 0)).toThrow(/r must be an integer > 0/);
  });
});

describe("TypeScript parse check", () => {
  it("accepts interface members and rejects broken ones", () => {
    expect(parsesAsMember("    readonly length: number;")).toBe(true);
    expect(parsesAsMember("    slice(start?: number, end?: number): T[];")).toBe(true);
    expect(parsesAsMember("    slice(start?: number, end?: number: T[];")).toBe(false);
    expect(parsesAsMember("    readonly : ;")).toBe(false);
    expect(parsesAsMember("    replac")).toBe(true); // a property without a type: parses, but is no complete member
    expect(isCompleteMember("    replac")).toBe(false);
    expect(isCompleteMember("    replace(s: string): string;")).toBe(true);
    expect(declarationLines("interface A {\n    a: number;\n    b(: string;\n}\n    c<T>(x: T): T;")).toEqual([
      "    a: number;",
      "    c<T>(x: T): T;",
    ]);
  });
});
