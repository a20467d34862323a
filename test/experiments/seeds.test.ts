// lab.experiments' seed helpers against hand-computed values: the seeds of a quick and a full run, the arm × seed
// loop's order, std, mean ± std text and the paired-difference text (its interval checked by hand: t(0.975, 2)).
import { describe, expect, it } from "vitest";
import { armRows, meanStd, overSeeds, pairedText, runSeeds, seedMetrics, std } from "../../lib/experiments";
import { comparePaired } from "../../lib/verdict";

describe("seeds", () => {
  it("a quick run uses the first seed, a full run all of them; bad lists are refused", () => {
    expect(runSeeds([3, 1, 2], true)).toEqual([3]);
    expect(runSeeds([3, 1, 2], false)).toEqual([3, 1, 2]);
    expect(() => runSeeds([], false)).toThrow(/non-empty/);
    expect(() => runSeeds([1, 1], false)).toThrow(/distinct/);
    expect(() => runSeeds([0.5], false)).toThrow(/integer/);
  });

  it("runs every arm on every seed, seeds outermost, results in seed order", async () => {
    const calls: string[] = [];
    const out = await overSeeds([7, 8], ["a", "b"] as const, async (arm, seed) => {
      calls.push(`${arm}${seed}`);
      return seed * (arm === "a" ? 1 : 10);
    });
    expect(calls).toEqual(["a7", "b7", "a8", "b8"]);
    expect(out).toEqual({ a: [7, 8], b: [70, 80] });
    await expect(overSeeds([], ["a"], () => 0)).rejects.toThrow(/non-empty/);
  });

  it("std, mean ± std and the paired text match hand values", () => {
    expect(std([1, 2, 3])).toBeCloseTo(1, 12);
    expect(std([5])).toBe(0);
    expect(meanStd([1, 2, 3], 2)).toBe("2.00 ± 1.00");
    expect(meanStd([1.5], 1)).toBe("1.5");
    // differences 1, 2, 3: mean 2, se 1/√3, t(0.975, 2) = 4.303 → 2 ± 2.484
    const p = comparePaired([2, 4, 6], [1, 2, 3], "higher");
    expect(pairedText(p, 2)).toBe("Δ +2.00 [−0.48, +4.48]");
    expect(pairedText(comparePaired([1], [2], "lower"), 1)).toBe("Δ −1.0 (one seed)");
    expect(armRows({ x: [1, 2, 3], y: [2, 4, 6] }, "x", 2)).toEqual([
      ["x", "2.00 ± 1.00", "—"],
      ["y", "4.00 ± 2.00", "Δ +2.00 [−0.48, +4.48]"],
    ]);
    expect(() => armRows({ x: [1] }, "z")).toThrow(/baseline "z"/);
    expect(seedMetrics({ a: [1, 2, 3], b: [4] })).toEqual({ a: 2, "a.std": 1, b: 4 });
  });
});

describe("meanStd and pairedText with a scale (per cent)", () => {
  it("multiply before formatting", () => {
    // [0.01, 0.02, 0.04]: mean 0.07/3, std √(7/3)/100 → in % 2.33 ± 1.53
    expect(meanStd([0.01, 0.02, 0.04], 2, 100)).toBe("2.33 ± 1.53");
    expect(meanStd([0.5], 1, 100)).toBe("50.0");
    expect(() => meanStd([1, NaN])).toThrow(/finite/);
    expect(pairedText(comparePaired([0.01, 0.02, 0.03], [0.02, 0.04, 0.06], "lower"), 2, 100)).toBe(
      "Δ −2.00 [−4.48, +0.48]",
    );
  });
});
