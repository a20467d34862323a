// LR schedules against their closed forms (nanoGPT's warmup and cosine, torch's StepLR and ExponentialLR), and the
// comparable set ending at one learning rate.
import { describe, expect, it } from "vitest";
import { comparableSchedules, learningRate, LrSchedule, scheduleCurve } from "../../lib/train/schedules";

const lr = 0.01;
const minLr = 0.001;

describe("learningRate", () => {
  it("warms up linearly: lr·(s+1)/(w+1), reaching lr at step w", () => {
    const s: LrSchedule = { kind: "constant", lr, warmupSteps: 4 };
    expect(scheduleCurve(s, 6)).toEqual(
      [0.002, 0.004, 0.006, 0.008, 0.01, 0.01].map((v, i) => (i < 4 ? (lr * (i + 1)) / 5 : v)),
    );
    expect(learningRate(s, 3)).toBeCloseTo(0.008, 15);
  });
  it("cosine: lr at the end of warmup, (lr+min)/2 halfway, min at totalSteps and after", () => {
    const s: LrSchedule = { kind: "cosine", lr, warmupSteps: 10, totalSteps: 110, minLr };
    expect(learningRate(s, 10)).toBeCloseTo(lr, 15);
    expect(learningRate(s, 60)).toBeCloseTo((lr + minLr) / 2, 15);
    expect(learningRate(s, 35)).toBeCloseTo(minLr + 0.5 * (1 + Math.cos(Math.PI / 4)) * (lr - minLr), 15);
    expect(learningRate(s, 110)).toBeCloseTo(minLr, 15);
    expect(learningRate(s, 500)).toBeCloseTo(minLr, 15);
  });
  it("linear: a straight line from lr to min", () => {
    const s: LrSchedule = { kind: "linear", lr, warmupSteps: 0, totalSteps: 100, minLr };
    expect(learningRate(s, 0)).toBeCloseTo(lr, 15);
    expect(learningRate(s, 25)).toBeCloseTo(lr - 0.25 * (lr - minLr), 15);
    expect(learningRate(s, 100)).toBeCloseTo(minLr, 15);
  });
  it("step: lr·γ^⌊t/size⌋ after warmup (torch StepLR)", () => {
    const s: LrSchedule = { kind: "step", lr, warmupSteps: 2, stepSize: 3, gamma: 0.5 };
    expect(scheduleCurve(s, 11).slice(2)).toEqual([lr, lr, lr, lr / 2, lr / 2, lr / 2, lr / 4, lr / 4, lr / 4]);
  });
  it("exponential: lr·γ^t after warmup (torch ExponentialLR)", () => {
    const s: LrSchedule = { kind: "exponential", lr, warmupSteps: 0, gamma: 0.9 };
    expect(learningRate(s, 0)).toBe(lr);
    expect(learningRate(s, 7)).toBeCloseTo(lr * 0.9 ** 7, 15);
  });
  it("rejects malformed schedules and steps by name", () => {
    expect(() => learningRate({ kind: "poly" } as never, 0)).toThrow(
      'learningRate(schedule, step): schedule.kind must be one of constant, cosine, linear, step, exponential, got "poly"',
    );
    expect(() => learningRate({ kind: "cosine", lr, warmupSteps: 0, totalSteps: 10, minLr: 1 }, 0)).toThrow(
      "schedule.minLr must be in [0, lr = 0.01], got 1",
    );
    expect(() => learningRate({ kind: "step", lr, warmupSteps: 0, stepSize: 0, gamma: 0.5 }, 0)).toThrow(
      "schedule.stepSize must be an integer ≥ 1, got 0",
    );
    expect(() => learningRate({ kind: "exponential", lr, warmupSteps: 0, gamma: 1.5 }, 0)).toThrow(
      "schedule.gamma must be in (0, 1], got 1.5",
    );
    expect(() => learningRate({ kind: "constant", lr: -1, warmupSteps: 0 }, 0)).toThrow(
      "schedule.lr must be a finite number ≥ 0, got -1",
    );
    expect(() => learningRate({ kind: "constant", lr, warmupSteps: 0 }, -1)).toThrow(
      "learningRate(schedule, step): step must be an integer ≥ 0, got -1",
    );
  });
});

describe("comparableSchedules", () => {
  for (const [total, warmup, drops] of [
    [200, 20, 3],
    [111, 10, 4],
  ]) {
    it(`share warmup and peak, end at minLr on the last step (total ${total}, warmup ${warmup}, ${drops} drops)`, () => {
      const all = comparableSchedules({ lr, minLr, warmupSteps: warmup, totalSteps: total, drops });
      for (const [kind, s] of Object.entries(all)) {
        const curve = scheduleCurve(s, total);
        expect(curve[warmup], kind).toBeCloseTo(lr, 12);
        expect(curve[total - 1], kind).toBeCloseTo(minLr, 12);
        for (let i = warmup + 1; i < total; i++)
          expect(curve[i], `${kind} step ${i}`).toBeLessThanOrEqual(curve[i - 1] + 1e-15);
      }
      const stepCurve = scheduleCurve(all.step, total);
      expect(new Set(stepCurve.slice(warmup)).size).toBeGreaterThanOrEqual(drops + 1);
    });
  }
  it("rejects a run too short for its drops", () => {
    expect(() => comparableSchedules({ lr, minLr, warmupSteps: 5, totalSteps: 8, drops: 3 })).toThrow(
      "comparableSchedules(settings): totalSteps (8) must exceed warmupSteps (5) + drops (3)",
    );
  });
});
