// The native grouped expert matmul (native/src/moe_gemm.cc on gemm.cc's sgemm_grouped) in its three modes against a
// float64 per-segment reference, at sizes that take each path of the grouped driver: ragged experts with empty, tiny
// (B read in place) and multi-task segments in one pool job; packed B over the wave budget (several waves); depth beyond
// one packed column block (several column blocks, each its own wave); a segment deep enough for the depth split; and a
// product too small for the pool. Every output element is checked (the buffer starts as NaN). matmul-isa.test.ts
// reruns this file with MOELAB_ISA=avx2 and =scalar.
//
// Tolerance as in matmul.test.ts: |native − reference| ≤ 1e-5 · (scale + |reference|), scale = Σ_p |a·b| terms.
import { describe, expect, it } from "vitest";
import { nativeAddon } from "../../lib/native/addon";
import type { MoeAddon } from "../../lib/native/kernels/moe";
import { Rng } from "../../lib/random";

const MODES = { nt: 0, nn: 1, tn: 2 } as const;
type Mode = keyof typeof MODES;

function random(rng: Rng, n: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.uniform() * 2 - 1;
  return v;
}

/**
 * float64 reference and term scale of one grouped product. nt: out[r, o] = Σ_i a[r, i]·b[e, o, i];
 * nn: out[r, i] = Σ_o a[r, o]·b[e, o, i]; tn: out[e, o, i] = Σ_{r in seg e} a[r, o]·b[r, i].
 */
function reference(mode: Mode, a: Float32Array, b: Float32Array, offsets: Int32Array, O: number, I: number) {
  const E = offsets.length - 1;
  const M = offsets[E];
  const size = mode === "nt" ? M * O : mode === "nn" ? M * I : E * O * I;
  const value = new Float64Array(size),
    scale = new Float64Array(size);
  for (let e = 0; e < E; e++) {
    for (let r = offsets[e]; r < offsets[e + 1]; r++) {
      for (let o = 0; o < O; o++) {
        for (let i = 0; i < I; i++) {
          const t =
            mode === "nt"
              ? a[r * I + i] * b[(e * O + o) * I + i]
              : mode === "nn"
                ? a[r * O + o] * b[(e * O + o) * I + i]
                : a[r * O + o] * b[r * I + i];
          const at = mode === "nt" ? r * O + o : mode === "nn" ? r * I + i : (e * O + o) * I + i;
          value[at] += t;
          scale[at] += Math.abs(t);
        }
      }
    }
  }
  return { value, scale };
}

/** Runs one mode on the addon with `counts` rows per expert and checks every element. */
function check(mode: Mode, counts: number[], O: number, I: number, seed: number): void {
  const addon = nativeAddon() as unknown as MoeAddon;
  const rng = new Rng(seed);
  const offsets = new Int32Array(counts.length + 1);
  counts.forEach((c, e) => (offsets[e + 1] = offsets[e] + c));
  const E = counts.length,
    M = offsets[E];
  const a = random(rng, M * (mode === "nt" ? I : O));
  const b = random(rng, mode === "tn" ? M * I : E * O * I);
  const out = new Float32Array(mode === "nt" ? M * O : mode === "nn" ? M * I : E * O * I).fill(NaN);
  addon.moeGroupedMatmul(a, b, offsets, MODES[mode], O, I, out);
  const ref = reference(mode, a, b, offsets, O, I);
  for (let j = 0; j < out.length; j++) {
    const err = Math.abs(out[j] - ref.value[j]);
    if (!(err <= 1e-5 * (ref.scale[j] + Math.abs(ref.value[j]))))
      expect.fail(`${mode} [${counts.join(",")}] O=${O} I=${I}: element ${j} is ${out[j]}, reference ${ref.value[j]}`);
  }
}

describe("native grouped expert matmul (sgemm_grouped)", () => {
  it("ragged experts in one job: empty, tiny and multi-task segments, odd widths, every mode", () => {
    const counts = [0, 1, 5, 30, 251, 700, 13, 0, 1203];
    for (const mode of ["nt", "nn", "tn"] as const) check(mode, counts, 75, 97, 1);
  });

  it("packed B over the wave budget: several waves", () => {
    // nt packs each expert's [in, out] B: 8 experts × 64 × 9000 floats > the 4M-float wave budget.
    check("nt", [31, 29, 40, 2, 35, 33, 30, 37], 64, 9000, 2);
  });

  it("depth beyond one packed column block: several column blocks, each a wave of its own", () => {
    // depth 70000: a column block holds one 32-wide micro-panel (2M floats of packed B); 64 columns = 2 blocks.
    check("nt", [17, 23], 64, 70_000, 3);
  });

  it("a segment much deeper than its output splits its depth; the others share one job", () => {
    // tn: expert 1's depth 3000 ≥ 4·max(100, 48) and ≥ 2 blocks of depth, 100 rows = 2 row tasks → the depth split;
    // expert 3 is empty → 0.
    check("tn", [40, 3000, 120, 0, 57], 100, 48, 4);
  });

  it("a group too small for the pool runs on the calling thread", () => {
    for (const mode of ["nt", "nn", "tn"] as const) check(mode, [3, 0, 4, 2], 5, 7, 5);
  });
});
