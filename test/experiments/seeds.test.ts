// meanStd / formatMeanStd / formatPaired against hand-computed values.
import { describe, expect, it } from "vitest";
import { formatMeanStd, formatPaired, meanStd } from "../../lib/experiments";
import { comparePaired } from "../../lib/verdict";

describe("seed summaries", () => {
  it("mean ± sample std (n − 1)", () => {
    // [1, 2, 4]: mean 7/3, squared deviations 16/9 + 1/9 + 25/9 = 42/9, / 2 = 7/3, std √(7/3) = 1.5275
    const s = meanStd([1, 2, 4]);
    expect(s.mean).toBeCloseTo(7 / 3, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(7 / 3), 12);
    expect(formatMeanStd([1, 2, 4], 2)).toBe("2.33 ± 1.53");
    expect(formatMeanStd([0.5], 1, 100)).toBe("50.0");
    expect(() => meanStd([])).toThrow(/non-empty/);
    expect(() => meanStd([1, NaN])).toThrow(/finite/);
  });

  it("formats the paired difference and its 95% interval from comparePaired", () => {
    // differences [-1, -2, -3]: mean -2, se = 1/√3, t(0.975, 2) = 4.303 → half-width 2.484
    const c = comparePaired([1, 2, 3], [2, 4, 6], "lower");
    expect(formatPaired(c, 2)).toBe("Δ -2.00 [-4.48, 0.48]");
    expect(formatPaired(comparePaired([1], [2], "lower"), 1)).toBe("Δ -1.0 (one seed)");
  });
});
