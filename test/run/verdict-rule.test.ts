// The one verdict rule for comparisons (lab.comparePaired): each outcome on hand-computed seeds, and bad input.
import { describe, expect, it } from "vitest";
import { byConstruction, checkInterval, checkRange, comparePaired, holds, near, outOfReach } from "../../lib/verdict";

describe("comparePaired, the shared verdict rule", () => {
  it("reproduced: the 95% interval of the paired difference lies on the claimed side", () => {
    // differences −0.2, −0.21, −0.19: mean −0.2, sd 0.01, s.e. 0.01/√3, t(0.975, 2) = 4.303 → half width 0.0248
    const r = comparePaired([1.8, 1.79, 1.81], [2, 2, 2], "lower");
    expect(r.diff).toBeCloseTo(-0.2, 12);
    expect(r.se).toBeCloseTo(0.01 / Math.sqrt(3), 12);
    expect(r.ci95[0]).toBeCloseTo(-0.2 - 4.303 * (0.01 / Math.sqrt(3)), 10);
    expect(r.ci95[1]).toBeCloseTo(-0.2 + 4.303 * (0.01 / Math.sqrt(3)), 10);
    expect(r.verdict).toBe("reproduced");
    expect(comparePaired([2, 2, 2], [1.8, 1.79, 1.81], "higher").verdict).toBe("reproduced");
  });

  it("not reproduced: the effect goes the other way beyond noise", () => {
    expect(comparePaired([2.2, 2.21, 2.19], [2, 2, 2], "lower").verdict).toBe("not reproduced");
  });

  it("within noise: the interval contains 0 (a 2-s.e. rule would have called this one)", () => {
    // differences −0.1, −0.2, −0.3: mean −0.2, s.e. 0.0577; 2 s.e. = 0.115 < 0.2, but t·s.e. = 0.248 > 0.2
    const r = comparePaired([1.9, 1.8, 1.7], [2, 2, 2], "lower");
    expect(r.verdict).toBe("within noise");
    expect(r.ci95[0]).toBeLessThan(0);
    expect(r.ci95[1]).toBeGreaterThan(0);
  });

  it("a margin must be exceeded, not just zero", () => {
    expect(comparePaired([1.8, 1.79, 1.81], [2, 2, 2], "lower", 0.1).verdict).toBe("reproduced");
    expect(comparePaired([1.8, 1.79, 1.81], [2, 2, 2], "lower", 0.19).verdict).toBe("within noise");
  });

  it("one seed decides nothing: not measured", () => {
    const r = comparePaired([1], [2], "lower");
    expect([r.verdict, r.diff, r.se]).toEqual(["not measured", -1, Infinity]);
  });

  it("bad input is a named error", () => {
    expect(() => comparePaired([1, 2], [1], "lower")).toThrow(
      /comparePaired\(a, b, claimed\): a and b must be equally long/,
    );
    expect(() => comparePaired([1, NaN], [1, 2], "lower")).toThrow(/finite/);
    expect(() => comparePaired([1, 2], [1, 2], "less" as never)).toThrow(/claimed must be "lower" or "higher"/);
    expect(() => comparePaired([1, 2], [1, 2], "lower", -1)).toThrow(/margin/);
  });
});

describe("checkRange, near, holds, byConstruction, outOfReach: the rule for single measurements", () => {
  it("checkRange: in the claimed range, in the partly band, outside both", () => {
    expect(checkRange(2.5, { min: 2, max: 3 })).toBe("reproduced");
    expect(checkRange(2, { min: 2, max: 3 })).toBe("reproduced"); // closed ends
    expect(checkRange(1.9, { min: 2, max: 3 }, { min: 1.5 })).toBe("partly");
    expect(checkRange(1.4, { min: 2, max: 3 }, { min: 1.5 })).toBe("not reproduced");
    expect(checkRange(3.1, { min: 2, max: 3 })).toBe("not reproduced");
    expect(checkRange(-1, { max: 0 })).toBe("reproduced");
    expect(checkRange(NaN, { min: 0 })).toBe("not reproduced");
  });

  it("near: a relative band around the target, also for a negative target", () => {
    expect(near(100, 0.05)).toEqual({ min: 95, max: 105 });
    expect(near(-10, 0.1)).toEqual({ min: -11, max: -9 });
    expect(checkRange(5.6e6, near(5.576e6, 0.005))).toBe("reproduced");
    expect(checkRange(5.7e6, near(5.576e6, 0.005))).toBe("not reproduced");
  });

  it("holds, byConstruction, outOfReach", () => {
    expect([holds(true), holds(false, true), holds(false)]).toEqual(["reproduced", "partly", "not reproduced"]);
    expect([byConstruction(true), byConstruction(false)]).toEqual(["by construction", "not reproduced"]);
    expect(outOfReach("a closed model's benchmark score")).toBe("not measured");
  });

  it("bad input is a named error", () => {
    expect(() => checkRange(1, {})).toThrow(/checkRange\(measured, claimed, partly\): claimed needs min, max or both/);
    expect(() => checkRange(1, { min: 3, max: 2 })).toThrow(/min ≤ max/);
    expect(() => checkRange(1, { min: 2, max: 3 }, { min: 2.5 })).toThrow(/partly .* must contain claimed/);
    expect(() => near(1, -0.1)).toThrow(/relTolerance must be a finite number ≥ 0/);
    expect(() => holds(1 as never)).toThrow(/holds\(condition, partlyHolds\): both must be booleans/);
    expect(() => byConstruction("yes" as never)).toThrow(/expected a boolean/);
    expect(() => outOfReach(" ")).toThrow(/reason must be a non-empty string/);
  });
});

describe("checkInterval: a size claim measured over seeds", () => {
  it("inside, straddling, outside in the partly band, outside both, one seed", () => {
    expect(checkInterval([0.1, 0.5], { min: 0, max: 0.6 })).toBe("reproduced");
    expect(checkInterval([-0.2, 0.5], { min: 0, max: 0.6 })).toBe("within noise");
    expect(checkInterval([0.5, 0.9], { min: 0, max: 0.6 })).toBe("within noise");
    expect(checkInterval([0.7, 1.2], { min: 0, max: 0.6 }, { min: -0.6, max: 1.5 })).toBe("partly");
    expect(checkInterval([-0.5, -0.1], { min: 0, max: 0.6 }, { min: -0.6, max: 1.5 })).toBe("partly");
    expect(checkInterval([1.2, 2], { min: 0, max: 0.6 }, { min: -0.6, max: 1.5 })).toBe("not reproduced");
    expect(checkInterval([-Infinity, Infinity], { min: 0, max: 0.6 })).toBe("not measured");
    // straight from comparePaired: fp32 − int8 accuracy of 0.2, 0.3, 0.25 points
    const lost = comparePaired([90.2, 90.3, 90.25], [90, 90, 90], "higher");
    expect(checkInterval(lost.ci95, { min: 0, max: 0.6 })).toBe("reproduced");
  });

  it("bad input is a named error", () => {
    expect(() => checkInterval([1] as never, { min: 0 })).toThrow(
      /checkInterval\(ci95, claimed, partly\): ci95 must be \[lo, hi\]/,
    );
    expect(() => checkInterval([2, 1], { min: 0 })).toThrow(/lo ≤ hi/);
    expect(() => checkInterval([0, 1], {})).toThrow(/claimed needs min, max or both/);
  });
});
