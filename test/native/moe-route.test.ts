// The native MoE dispatch, combine and slot-dot kernels (native/src/moe_route.cc) against float64 references at widths
// that take every vector path (two accumulators, one, and the scalar tail, for W = 16, 8 and 4 lanes): random
// plans with repeated tokens, tokens with no slot, weighted and unweighted copies. matmul-isa.test.ts reruns this file
// with MOELAB_ISA=avx2 and =scalar.
import { describe, expect, it } from "vitest";
import { nativeAddon } from "../../lib/native/addon";
import type { MoeAddon } from "../../lib/native/kernels/moe";
import { tokenChoicePlan } from "../../lib/moe";
import { Rng } from "../../lib/random";

const WIDTHS = [1, 5, 16, 37, 53, 512];

function random(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
}

/** |got − want| ≤ 1e-6 · (scale + |want|) per element. */
function expectNear(got: Float32Array, want: Float64Array, scale: Float64Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= 1e-6 * (scale[i] + Math.abs(want[i]))))
      expect.fail(`${what}: element ${i} is ${got[i]}, reference ${want[i]}`);
  }
}

describe("native MoE dispatch / combine / slot dot", () => {
  const addon = nativeAddon() as unknown as MoeAddon;
  const rng = new Rng(3);
  const T = 40,
    k = 3,
    E = 7;
  // Capacity 4: the 28 slots fill with first choices, so the 12+ tokens whose first choice overflows get no slot.
  const plan = tokenChoicePlan(
    Int32Array.from({ length: T * k }, () => rng.int(E)),
    T,
    k,
    E,
    4,
  );
  const M = plan.nSlots;

  for (const d of WIDTHS) {
    it(`d = ${d}: every slot and token against float64`, () => {
      const x = random(rng, T * d),
        ys = random(rng, M * d),
        w = random(rng, M);
      // dispatch: out[s] = w[s]·x[token[s]]
      const disp = new Float32Array(M * d).fill(NaN);
      addon.moeDispatch(x, plan.slotToken, w, d, disp);
      const dispRef = Float64Array.from(
        disp,
        (_, i) => w[Math.floor(i / d)] * x[plan.slotToken[Math.floor(i / d)] * d + (i % d)],
      );
      expectNear(disp, dispRef, new Float64Array(M * d), `dispatch d=${d}`);
      // combine: out[t] = Σ_{slots s of t} w[s]·ys[s]
      const comb = new Float32Array(T * d).fill(NaN);
      addon.moeCombine(ys, w, plan.tokenStart, plan.tokenSlots, d, comb);
      const combRef = new Float64Array(T * d),
        combScale = new Float64Array(T * d);
      for (let s = 0; s < M; s++)
        for (let j = 0; j < d; j++) {
          const v = w[s] * ys[s * d + j];
          combRef[plan.slotToken[s] * d + j] += v;
          combScale[plan.slotToken[s] * d + j] += Math.abs(v);
        }
      expectNear(comb, combRef, combScale, `combine d=${d}`);
      // slot dot: out[s] = <x[token[s]], ys[s]>
      const dots = new Float32Array(M).fill(NaN);
      addon.moeSlotDot(x, ys, plan.slotToken, d, dots);
      const dotRef = new Float64Array(M),
        dotScale = new Float64Array(M);
      for (let s = 0; s < M; s++)
        for (let j = 0; j < d; j++) {
          const v = x[plan.slotToken[s] * d + j] * ys[s * d + j];
          dotRef[s] += v;
          dotScale[s] += Math.abs(v);
        }
      expectNear(dots, dotRef, dotScale, `slot dot d=${d}`);
    });
  }

  it("the plan holds a token with no slot", () => {
    expect(plan.dropped).toBeGreaterThan(0);
    expect(Array.from({ length: T }, (_, t) => plan.tokenStart[t + 1] - plan.tokenStart[t])).toContain(0);
  });
});
