// The fused dequant-matmul decode kernel (native/src/quant_dequant_gemm.cc via lib/quant/dequant-matmul.ts) against
// the composite oracle dequantize-then-tf.matMul, and (x = I) bit for bit against QuantizedTensor.dequantize(), for
// INT8 / INT4 / FP8 layouts with every edge (odd k, odd groups, partial 128-row blocks, M = 1 and M > 1; subnormal,
// NaN and Inf FP8 codes), the composite path on the cpu backend, W8A8 against the int32 W8A8 GEMM, quantizeModel's
// logits against the same weights fake-quantized (quantizeWeights) for dense, MoE (routed experts quantized per
// expert, which equals quantizing the stacked tensor when 128-row blocks do not straddle experts) and MLA models,
// named errors and no tensor growth. test/quant/dequant-isa.test.ts reruns it with MOELAB_ISA=avx2 and =scalar.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { lmConfig, LMConfig, TransformerLM } from "../../lib/model";
import { Rng, seed } from "../../lib/random";
import {
  decodeQuantConfig,
  dequantMatmul,
  dequantMatmulKernel,
  quantize,
  QuantConfig,
  quantizeModel,
  QuantizeModelConfig,
  quantizeWeights,
  w8a8Matmul,
} from "../../lib/quant";

beforeAll(async () => {
  await selectBackend("native");
});

function randomMatrix(rng: Rng, rows: number, cols: number): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: rows * cols }, () => rng.normal()),
    [rows, cols],
  );
}

/** max |a − b| / max |b|. */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const [x, y] = [a.dataSync(), b.dataSync()];
  let d = 0;
  let m = 0;
  for (let i = 0; i < y.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    m = Math.max(m, Math.abs(y[i]));
  }
  return d / m;
}

const CASES: { label: string; config: Partial<QuantConfig>; n: number; k: number }[] = [
  { label: "int8 per channel, odd k", config: { format: "int8", granularity: { kind: "channel" } }, n: 37, k: 203 },
  { label: "int8 g64", config: { format: "int8", granularity: { kind: "group", size: 64 } }, n: 33, k: 192 },
  { label: "int8 per tensor", config: { format: "int8", granularity: { kind: "tensor" } }, n: 9, k: 40 },
  {
    label: "int4 g128 fp16 scales",
    config: { format: "int4", granularity: { kind: "group", size: 128 }, scaleFormat: "fp16" },
    n: 65,
    k: 256,
  },
  {
    label: "int4 per channel, k with a tail",
    config: { format: "int4", granularity: { kind: "channel" } },
    n: 17,
    k: 202,
  },
  { label: "int4 odd group 5", config: { format: "int4", granularity: { kind: "group", size: 5 } }, n: 7, k: 40 },
  {
    label: "e4m3 128x128, partial block row",
    config: { format: "e4m3", granularity: { kind: "block", size: 128 } },
    n: 130,
    k: 256,
  },
  { label: "e5m2 1x32", config: { format: "e5m2", granularity: { kind: "group", size: 32 } }, n: 19, k: 96 },
];

describe(`dequantMatmul (dequant GEMM: ${dequantMatmulKernel()})`, () => {
  it.each(CASES)("$label: fused kernel = dequantize-then-matMul to float noise, M = 1 and 5", ({ config, n, k }) => {
    const rng = new Rng(11);
    const w = randomMatrix(rng, n, k);
    const q = quantize(w, config);
    for (const m of [1, 5]) {
      const x = randomMatrix(rng, m, k);
      const fused = dequantMatmul(x, q);
      const deq = q.toTensor();
      const oracle = tf.matMul(x, deq, false, true);
      expect(fused.shape).toEqual([m, n]);
      expect(relErr(fused, oracle)).toBeLessThan(2e-6);
      tf.dispose([x, fused, deq, oracle]);
    }
    w.dispose();
  });

  it.each(["e4m3", "e5m2"] as const)("%s: subnormal, NaN and Inf codes decode as lab.quant does", (format) => {
    const rng = new Rng(9);
    const k = 64;
    const s = 0.01; // one given scale: row 0 tiny (subnormal codes), row 1 normal with a NaN, row 2 past the format's max
    const big = format === "e4m3" ? 1000 : 1e5; // > 448 (E4M3 → NaN) or > 57344 (E5M2 → Inf) without saturation
    const vals = Float32Array.from({ length: 3 * k }, (_, i) => {
      const sign = i % 2 ? -1 : 1;
      const r = Math.floor(i / k);
      return sign * s * (r === 0 ? 2 ** -(4 + (i % 14)) : r === 1 ? 1 + rng.uniform() : big);
    });
    vals[k + 5] = NaN;
    const q = quantize(
      vals,
      { format, granularity: { kind: "tensor" }, saturate: false },
      { shape: [3, k], scales: Float32Array.of(s) },
    );
    const [expMask, mantMask] = format === "e4m3" ? [0x78, 0x07] : [0x7c, 0x03];
    const codes = Array.from(q.codes as Uint8Array);
    expect(codes.filter((c) => (c & expMask) === 0 && (c & mantMask) !== 0).length).toBeGreaterThan(4); // subnormals
    expect(codes.filter((c) => (c & expMask) === expMask).length).toBeGreaterThan(k / 2); // NaN / Inf codes
    const x = tf.tensor2d(
      Float32Array.from({ length: k }, () => rng.normal()),
      [1, k],
    );
    const fused = dequantMatmul(x, q);
    const oracle = tf.matMul(x, tf.tensor2d(q.dequantize(), [3, k]), false, true).dataSync();
    const f = fused.dataSync();
    expect(Math.abs(f[0] - oracle[0])).toBeLessThanOrEqual(2e-6 * Math.abs(oracle[0]));
    expect(oracle[0]).not.toBe(0);
    expect(f[1]).toBeNaN();
    expect(oracle[1]).toBeNaN();
    if (Number.isNaN(oracle[2])) expect(f[2]).toBeNaN();
    else expect(f[2]).toBe(oracle[2]);
    tf.dispose([x, fused]);
  });

  it.each(CASES)(
    "$label: the kernel's dequantised weights are bit-identical to QuantizedTensor.dequantize()",
    ({ config, n, k }) => {
      // x = I_k: out[i, j] = Σ_t δ(i,t)·w[j,t] = w[j,i] exactly (products with 0 and 1 and sums of zeros are exact).
      const rng = new Rng(13);
      const w = randomMatrix(rng, n, k);
      const q = quantize(w, config);
      const eye = tf.eye(k) as tf.Tensor2D;
      const out = dequantMatmul(eye, q); // [k, n] = dequant(W)ᵀ
      const wt = tf.transpose(out);
      expect(Array.from(wt.dataSync())).toEqual(Array.from(q.dequantize()));
      tf.dispose([w, eye, out, wt]);
    },
  );

  it("the composite path (cpu backend, no fused kernel) equals the native kernel to float noise", async () => {
    const rng = new Rng(5);
    const w = randomMatrix(rng, 24, 256);
    const x = randomMatrix(rng, 3, 256);
    const q = quantize(w, { format: "int4", granularity: { kind: "group", size: 128 } });
    const fused = dequantMatmul(x, q).arraySync();
    await tf.setBackend("cpu");
    try {
      const xc = tf.tensor2d(x.arraySync());
      const composite = dequantMatmul(xc, q);
      expect(relErr(composite, tf.tensor2d(fused))).toBeLessThan(2e-6);
    } finally {
      await selectBackend("native");
    }
    tf.dispose([w, x]);
  });

  it("W8A8 (int8 activations per token) equals the int32-accumulating w8a8Matmul to float noise", () => {
    const rng = new Rng(7);
    const w = randomMatrix(rng, 40, 160);
    const x = randomMatrix(rng, 4, 160);
    const q = quantize(w, { format: "int8", granularity: { kind: "channel" } });
    const [a, b] = [dequantMatmul(x, q, "int8"), w8a8Matmul(x, q)];
    expect(relErr(a, b)).toBeLessThan(2e-6);
    // ... and activation quantisation changes the result (it is not silently skipped).
    const plain = dequantMatmul(x, q);
    expect(relErr(plain, b)).toBeGreaterThan(1e-4);
    tf.dispose([w, x, a, b, plain]);
  });

  it("rejects bad inputs with errors naming the argument", () => {
    const rng = new Rng(1);
    const w = randomMatrix(rng, 8, 16);
    const asym = quantize(w, { format: "int8", granularity: { kind: "channel" }, symmetric: false });
    const q = quantize(w, { format: "int8", granularity: { kind: "channel" } });
    const x = randomMatrix(rng, 2, 15);
    expect(() => dequantMatmul(x, asym)).toThrow(/symmetric/);
    expect(() => dequantMatmul(x, q)).toThrow(/x must be a float32 tensor \[M, 16\]/);
    const x16 = randomMatrix(rng, 2, 16);
    expect(() => dequantMatmul(x16, q, "int4" as never)).toThrow(/activationQuant/);
    tf.dispose([w, x, x16]);
  });
});

const DENSE: Partial<LMConfig> = { vocabSize: 64, dim: 128, nLayers: 2, nHeads: 4, contextLen: 16, ffnHidden: 256 };
const MODELS: { label: string; config: Partial<LMConfig> }[] = [
  { label: "dense", config: DENSE },
  { label: "MoE", config: { ...DENSE, ffn: "moe", nDenseLayers: 1, moe: { nRouted: 4, topK: 2, expertHidden: 128 } } },
  {
    label: "MLA",
    config: {
      ...DENSE,
      attention: "mla",
      mla: { qLoraRank: 0, kvLoraRank: 64, qkNopeHeadDim: 16, qkRopeHeadDim: 16, vHeadDim: 32 },
    },
  },
];
const SETTINGS: Partial<QuantizeModelConfig>[] = [
  { format: "int8" },
  { format: "int4" },
  { format: "e4m3" },
  { format: "int8", activationQuant: true },
  { format: "int4", activationQuant: true },
];

describe("quantizeModel", () => {
  it.each(MODELS)(
    "$label: logits = the fake-quantized model's (same dequantised weights) to float noise, every format",
    ({ config }) => {
      seed(3);
      const model = new TransformerLM(lmConfig(config));
      const tokens = tf.tensor2d(
        Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 7) % 64),
        [2, 8],
        "int32",
      );
      const before = tf.memory().numTensors;
      for (const setting of SETTINGS) {
        const qm = quantizeModel(model, setting);
        expect(qm.layers.length).toBeGreaterThan(0);
        expect(
          qm.layers.some((l) => l.name === "head.weight" || l.name.includes("wkv_b") || l.name.includes("gate")),
        ).toBe(false);
        expect(qm.layers.some((l) => l.name.endsWith("experts.w1"))).toBe(model.config.ffn === "moe");
        const fused = model.apply(tokens);
        qm.restore();
        const names = new Set(qm.layers.map((l) => l.name));
        const report = quantizeWeights(model, decodeQuantConfig(setting), (name) => names.has(name));
        expect(report.params.length).toBe(qm.layers.length);
        const fake = model.apply(tokens);
        report.restore();
        if (setting.activationQuant) {
          // Activations are quantized only in the fused path: quantisation noise (MoE routing may flip), not equal.
          const e = relErr(fused, fake);
          expect(e).toBeGreaterThan(1e-5);
          expect(e).toBeLessThan(0.25);
        } else {
          expect(relErr(fused, fake)).toBeLessThan(1e-5);
        }
        tf.dispose([fused, fake]);
      }
      expect(tf.memory().numTensors).toBe(before);
      tokens.dispose();
      model.dispose();
    },
  );

  it("restore() gives back the float32 logits exactly; bytes and labels are honest", () => {
    seed(4);
    const model = new TransformerLM(lmConfig(DENSE));
    const tokens = tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32");
    const ref = model.apply(tokens);
    const qm = quantizeModel(model, { format: "int4" });
    expect(qm.label).toBe("int4 1x128");
    // 4 bits per weight + one fp32 scale per 128 weights = 4.25 bits → fp32 / 7.53.
    expect(qm.fp32Bytes / qm.quantizedBytes).toBeCloseTo(32 / 4.25, 2);
    expect(() => quantizeModel(model, { format: "int8" })).toThrow(/already quantized/);
    qm.restore();
    const back = model.apply(tokens);
    expect(Array.from(back.dataSync())).toEqual(Array.from(ref.dataSync()));
    tf.dispose([ref, back, tokens]);
    model.dispose();
  });

  it("rejects bad settings with errors naming the field or the layer", () => {
    seed(5);
    const model = new TransformerLM(lmConfig({ ...DENSE, dim: 96, ffnHidden: 192 }));
    expect(() => quantizeModel(model, { format: "int3" as never })).toThrow(/format must be one of int8, int4, e4m3/);
    expect(() => quantizeModel(model, { groupSize: 0 })).toThrow(/groupSize must be a positive integer/);
    expect(() => quantizeModel(model, { format: "int4" })).toThrow(
      /layer "layers\.0\.attn\.wqkv" \[288,96\].*group size 128/,
    );
    model.dispose();
  });
});
