// Seeded generators: arithmetic lines are correct equations (checked by an independent parser), JSON lines parse;
// both are deterministic per seed and respect the byte budget.
import { describe, expect, it } from "vitest";
import { arithmeticProblem, arithmeticText, checkArithmeticAnswer } from "../../lib/data/arithmetic-problems";
import { jsonText } from "../../lib/data/json-text";
import { Rng } from "../../lib/random";

describe("arithmetic", () => {
  it("writes correct equations a op b=c with operands in range and no negative results by default", () => {
    const text = arithmeticText(3, 20_000);
    expect(text.length).toBeLessThanOrEqual(20_000);
    expect(text.length).toBeGreaterThan(19_900);
    const lines = text.trimEnd().split("\n");
    const ops = new Set<string>();
    for (const line of lines) {
      const m = /^(\d+)([+*-])(\d+)=(\d+)$/.exec(line);
      expect(m, line).not.toBeNull();
      const [a, op, b, c] = [Number(m![1]), m![2], Number(m![3]), Number(m![4])];
      ops.add(op);
      expect(a).toBeLessThanOrEqual(99);
      expect(b).toBeLessThanOrEqual(99);
      expect(c).toBe(op === "+" ? a + b : op === "-" ? a - b : a * b);
    }
    expect([...ops].sort()).toEqual(["*", "+", "-"]);
  });
  it("is deterministic per seed", () => {
    expect(arithmeticText(5, 3000)).toBe(arithmeticText(5, 3000));
    expect(arithmeticText(5, 3000)).not.toBe(arithmeticText(6, 3000));
  });
  it("allows negative results and custom operators when asked", () => {
    const rng = new Rng(1);
    const problems = Array.from({ length: 200 }, () =>
      arithmeticProblem(rng, { ops: ["-"], allowNegative: true, maxOperand: 9 }),
    );
    expect(problems.some((p) => p.answer.startsWith("-"))).toBe(true);
    expect(problems.every((p) => p.op === "-" && p.a <= 9 && p.b <= 9 && Number(p.answer) === p.a - p.b)).toBe(true);
  });
  it("checks a completion against the exact answer", () => {
    const p = arithmeticProblem(new Rng(2), { ops: ["+"] });
    expect(checkArithmeticAnswer(p, `${p.answer}\n12+3=15`)).toBe(true);
    expect(checkArithmeticAnswer(p, `${Number(p.answer) + 1}`)).toBe(false);
    expect(checkArithmeticAnswer(p, `${p.answer}0`)).toBe(false);
    expect(checkArithmeticAnswer(p, "")).toBe(false);
  });
  it("rejects bad configs by name", () => {
    expect(() => arithmeticProblem(new Rng(0), { ops: ["/" as never] })).toThrow(
      "arithmeticProblem(rng, config): config.ops must be a non-empty list",
    );
    expect(() => arithmeticProblem(new Rng(0), { maxOperand: -1 })).toThrow(
      "config.maxOperand must be an integer ≥ 0, got -1",
    );
    expect(() => arithmeticText(0, 0)).toThrow(
      "arithmeticText(seed, bytes): bytes must be an integer in [1, 134217728] (128 MiB; the text is built in memory), got 0",
    );
  });
  it("refuses a byte budget that would exhaust the heap (2^31 used to kill the process) before generating anything", () => {
    expect(() => arithmeticText(0, 2 ** 31)).toThrow(
      /^arithmeticText\(seed, bytes\): bytes must be an integer in \[1, 134217728\] .*got 2147483648$/,
    );
    expect(() => jsonText(0, 2 ** 31)).toThrow(
      /^jsonText\(seed, bytes\): bytes must be an integer in \[1, 134217728\] .*got 2147483648$/,
    );
    expect(() => jsonText(0, 1.5)).toThrow(/got 1\.5$/);
  });
});

describe("jsonText", () => {
  it("writes one parseable record per line with consecutive ids, within the byte budget, per seed", () => {
    const text = jsonText(4, 10_000);
    expect(text.length).toBeLessThanOrEqual(10_000);
    const records = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.map((r) => r.id)).toEqual(records.map((_, i) => i + 1));
    expect(records.every((r) => typeof r.address.city === "string" && Array.isArray(r.items))).toBe(true);
    expect(jsonText(4, 10_000)).toBe(text);
    expect(jsonText(5, 10_000)).not.toBe(text);
  });
});
