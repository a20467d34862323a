// RoPE layouts and YaRN: the interleaved layout against a hand computation and against rotate-half under the pair
// permutation; YaRN's correction range, frequencies and softmax mscale against hand-computed values; and both against
// DeepSeek-V3's own precompute_freqs_cis / apply_rotary_emb run with torch (fixture made by
// scripts/deepseek_rope_fixture.py).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { Rng } from "../../lib/random";
import {
  applyRope,
  correctionRange,
  lmConfig,
  ropeFor,
  ropeTables,
  rowRopeTables,
  softmaxScale,
  yarnFrequencies,
  yarnMscale,
  yarnScaling,
} from "../../lib/model";

beforeAll(async () => {
  await selectBackend();
});

interface FixtureCase {
  name: string;
  dim: number;
  theta: number;
  factor: number;
  originalSeqLen: number;
  betaFast: number;
  betaSlow: number;
  maxSeqLen: number;
  positions: number[];
  frequencies: number[];
  cos: number[][];
  sin: number[][];
}
const FIXTURE = JSON.parse(readFileSync(join(__dirname, "fixtures", "deepseek-rope.json"), "utf8")) as {
  cases: FixtureCase[];
  rotary: { case: string; shape: number[]; x: number[]; y: number[] };
};

/** The lab config whose RoPE is the fixture case's: one head of width `dim` so ropeDim = dim. */
function configOf(c: FixtureCase) {
  const ropeScaling = {
    factor: c.factor,
    originalMaxPositionEmbeddings: c.originalSeqLen,
    betaFast: c.betaFast,
    betaSlow: c.betaSlow,
  };
  return lmConfig({
    dim: c.dim,
    nHeads: 1,
    contextLen: c.maxSeqLen,
    ropeTheta: c.theta,
    ropeLayout: "interleaved",
    ropeScaling,
  });
}

describe("interleaved RoPE", () => {
  it("rotates features (2i, 2i + 1) by pos·θ^(−2i/dh)", () => {
    // dh = 4, θ = 100: pair 0 (features 0, 1) turns by pos rad, pair 1 (features 2, 3) by pos/10 rad.
    const x = tf.tensor4d([1, 2, 3, 4, 1, 2, 3, 4], [1, 1, 2, 4]); // positions 5 and 6
    const y = applyRope(x, ropeTables(5, 2, 4, 100, { layout: "interleaved" })).dataSync();
    const expected: number[] = [];
    for (const p of [5, 6]) {
      const [a, b] = [p, p / 10];
      expected.push(
        Math.cos(a) - 2 * Math.sin(a),
        2 * Math.cos(a) + Math.sin(a),
        3 * Math.cos(b) - 4 * Math.sin(b),
        4 * Math.cos(b) + 3 * Math.sin(b),
      );
    }
    expected.forEach((e, i) => expect(Math.abs(y[i] - e)).toBeLessThan(1e-5));
  });

  it("is rotate-half conjugated by the pair permutation (2i, 2i + 1) ↔ (i, i + dh/2)", () => {
    const dh = 8;
    const rng = new Rng(1);
    const x = tf.tensor4d(
      Array.from({ length: 2 * 3 * 5 * dh }, () => rng.normal()),
      [2, 3, 5, dh],
    );
    const toHalf = tf.tensor1d([0, 2, 4, 6, 1, 3, 5, 7], "int32"); // half layout feature j ← interleaved feature toHalf[j]
    const toInterleaved = tf.tensor1d([0, 4, 1, 5, 2, 6, 3, 7], "int32");
    const inter = applyRope(x, ropeTables(3, 5, dh, 10000, { layout: "interleaved" }));
    const viaHalf = tf.gather(
      applyRope(tf.gather(x, toHalf, 3) as tf.Tensor4D, ropeTables(3, 5, dh, 10000)),
      toInterleaved,
      3,
    );
    expect(tf.max(tf.abs(tf.sub(inter, viaHalf))).dataSync()[0]).toBeLessThan(1e-6);
  });
});

describe("YaRN", () => {
  it("correction range, frequencies and mscale equal hand-computed values", () => {
    // V3: dim 64, θ 1e4, 4096 → correction dims 64·ln(4096/(2π·32))/(2·ln 1e4) = 10.47 and 64·ln(4096/2π)/(2·ln 1e4) = 22.51.
    expect(correctionRange(32, 1, 64, 10000, 4096)).toEqual([10, 23]);
    // Tiny: dim 8, θ 100, 8 positions, β 4/1 → dims 8·ln(8/8π)/(2 ln 100) = −0.994 and 8·ln(8/2π)/(2 ln 100) = 0.210 → [0, 1];
    // ramp (i − 0)/(1 − 0) clamped = [0, 1, 1, 1]: pair 0 keeps 100^0 = 1, the others are divided by the factor 4.
    expect(correctionRange(4, 1, 8, 100, 8)).toEqual([0, 1]);
    const f = yarnFrequencies(
      8,
      100,
      yarnScaling({ factor: 4, originalMaxPositionEmbeddings: 8, betaFast: 4, betaSlow: 1 }),
    );
    [1, Math.sqrt(0.1) / 4, 0.1 / 4, Math.sqrt(0.001) / 4].forEach((e, i) => expect(f[i]).toBeCloseTo(e, 14));
    // A pair inside the range is blended: V3 pair 16 has ramp (16 − 10)/13 → f = base·(1 − 6/13) + base/40·6/13.
    const v3 = yarnFrequencies(64, 10000, yarnScaling());
    const base16 = Math.pow(10000, -32 / 64);
    expect(v3[16]).toBeCloseTo(base16 * (7 / 13) + (base16 / 40) * (6 / 13), 15);
    // Softmax scale of V3's MLA: (0.1·1·ln 40 + 1)² · (128 + 64)^−0.5 = 1.3688879² / 13.856406 = 0.1352338.
    expect(yarnMscale(40, 1)).toBeCloseTo(1 + 0.1 * Math.log(40), 15);
    const mla = { qkNopeHeadDim: 128, qkRopeHeadDim: 64, kvLoraRank: 512, vHeadDim: 128 };
    const v3Config = lmConfig({ dim: 256, nHeads: 2, contextLen: 16384, attention: "mla", mla, ropeScaling: {} });
    expect(softmaxScale(v3Config)).toBeCloseTo(0.1352338, 6);
    // The switch is the config: contextLen ≤ originalMaxPositionEmbeddings leaves plain RoPE and the plain scale.
    expect(softmaxScale({ ...v3Config, contextLen: 4096 })).toBeCloseTo(1 / Math.sqrt(192), 12);
  });

  for (const c of FIXTURE.cases) {
    it(`${c.name}: frequencies and cos/sin equal DeepSeek-V3's precompute_freqs_cis (torch, float32)`, () => {
      const config = configOf(c);
      const yarnOn = c.maxSeqLen > c.originalSeqLen;
      const freqs = yarnOn
        ? yarnFrequencies(c.dim, c.theta, yarnScaling(config.ropeScaling!))
        : Float64Array.from({ length: c.dim / 2 }, (_, i) => Math.pow(c.theta, (-2 * i) / c.dim));
      c.frequencies.forEach((e, i) =>
        expect(Math.abs(freqs[i] - e), `pair ${i}`).toBeLessThan(1e-6 * Math.max(e, 1e-3)),
      );
      for (const [k, pos] of c.positions.entries()) {
        const tables = ropeFor(config, pos, 1);
        const [cos, sin] = [tables.cos.dataSync(), tables.sin.dataSync()];
        // torch forms pos·f in float32: its angle is off by up to ~pos·f·2⁻²⁴ from the exact one.
        const tol = 2e-6 + pos * 1.2e-7;
        c.cos[k].forEach((e, i) => expect(Math.abs(cos[i] - e), `pos ${pos} pair ${i}`).toBeLessThan(tol));
        c.sin[k].forEach((e, i) => expect(Math.abs(sin[i] - e), `pos ${pos} pair ${i}`).toBeLessThan(tol));
        tf.dispose([tables.cos, tables.sin]);
      }
    });
  }

  it("interleaved rotation equals DeepSeek-V3's apply_rotary_emb on the YaRN tables", () => {
    const { shape, x, y } = FIXTURE.rotary;
    const [B, T, H, d] = shape;
    const config = configOf(FIXTURE.cases.find((c) => c.name === FIXTURE.rotary.case)!);
    const xs = tf.transpose(tf.tensor4d(x, [B, T, H, d]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, d]
    const ours = tf.transpose(applyRope(xs, ropeFor(config, 0, T)), [0, 2, 1, 3]).dataSync(); // [B, T, H, d]
    y.forEach((e, i) => expect(Math.abs(ours[i] - e), `index ${i}`).toBeLessThan(1e-5));
  });

  it("per-row tables at ragged positions equal the consecutive tables' rows, and rotate per row", () => {
    const positions = Int32Array.from([0, 4, 5, 2, 3, 0]); // B 2, T 3
    const rows = rowRopeTables(positions, 2, 3, 8, 10000, { layout: "interleaved" });
    expect(rows.cos.shape).toEqual([2, 1, 3, 4]);
    const full = ropeTables(0, 6, 8, 10000, { layout: "interleaved" });
    const want = tf.gather(full.cos, tf.tensor1d(positions, "int32")).dataSync();
    expect(Array.from(rows.cos.dataSync())).toEqual(Array.from(want));
    const x = tf.randomNormal([2, 2, 3, 8], 0, 1, "float32", 1) as tf.Tensor4D;
    const ours = applyRope(x, rows).arraySync();
    const row1 = applyRope(
      tf.slice(x, [1, 0, 0, 0], [1, 2, 3, 8]) as tf.Tensor4D,
      rowRopeTables(positions.slice(3), 1, 3, 8, 10000, { layout: "interleaved" }),
    ).arraySync();
    expect(ours[1]).toEqual(row1[0]);
    expect(() => rowRopeTables(Int32Array.from([0, -1]), 1, 2, 8, 10000)).toThrow(
      /positions\[1\] must be an integer ≥ 0, got -1/,
    );
  });
});
