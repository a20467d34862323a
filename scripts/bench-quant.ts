// `npm run bench:quant`: quantization throughput (GB/s of fp32 input) against memory-copy bandwidth, and the W8A8
// int8 GEMM (int32 accumulation, VNNI where present) against the native backend's fp32 GEMM, and batch-1 decode of a
// lab model with weight-only INT8 / INT4 g128 / FP8 128×128 (and W8A8 / W4A8) against fp32 decode. Writes
// results/bench/quant.{json,md}. Options: --quick (smaller arrays and shapes, 3 repeats), --out DIR.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as lab from "../lib";
import { Timing, time } from "../lib/bench/timing";

interface Row {
  what: string;
  /** Median, min and max in ms. */
  timing: Timing;
  /** Throughput in the row's unit (GB/s of fp32 input, or GOP/s). */
  rate: number;
  unit: string;
}

function parseArgs(argv: string[]): { quick: boolean; out: string } {
  const cli = { quick: false, out: path.join("results", "bench") };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--quick") cli.quick = true;
    else if (argv[i] === "--out" && argv[i + 1]) cli.out = argv[++i];
    else
      throw new Error(`bench-quant: unknown argument ${argv[i]}; usage: npm run bench:quant -- [--quick] [--out DIR]`);
  }
  return cli;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  await lab.useBackend("native"); // throws when the addon is not built: the comparison is about native kernels
  const repeats = cli.quick ? 3 : 9;
  const n = cli.quick ? 1 << 22 : 1 << 24; // fp32 elements (16 or 64 MiB)
  lab.seed(0);
  const x = lab.randomNormal([n / 1024, 1024]).dataSync() as Float32Array;
  const shape = [n / 1024, 1024];
  const rows: Row[] = [];
  const gbps = (bytes: number, t: Timing) => bytes / (t.median * 1e6);
  const copy = new Float32Array(n);
  const tCopy = await time(() => copy.set(x), { repeats });
  rows.push({
    what: `memory copy (TypedArray.set, ${(4 * n) / 2 ** 20} MiB)`,
    timing: tCopy,
    rate: gbps(4 * n, tCopy),
    unit: "GB/s of fp32 input (reads + writes the same bytes)",
  });
  const cases: [string, () => unknown][] = [
    ["blockAmax per tensor", () => lab.quant.blockAmax(x, lab.quant.blockLayout("bench", shape, lab.quant.PER_TENSOR))],
    ["fp8Encode E4M3 (no scale)", () => lab.quant.fp8Encode(x, "e4m3")],
    ["quantize E4M3 per tensor (amax + scale + encode)", () => lab.quant.quantize(x, { format: "e4m3" }, { shape })],
    [
      "quantize E4M3 1×128 tiles",
      () => lab.quant.quantize(x, { format: "e4m3", granularity: lab.quant.TILE_1X128 }, { shape }),
    ],
    [
      "quantize E4M3 128×128 blocks",
      () => lab.quant.quantize(x, { format: "e4m3", granularity: lab.quant.BLOCK_128X128 }, { shape }),
    ],
    [
      "quantize INT8 per channel",
      () => lab.quant.quantize(x, { format: "int8", granularity: lab.quant.PER_CHANNEL }, { shape }),
    ],
  ];
  for (const [what, fn] of cases) {
    const t = await time(fn, { repeats });
    rows.push({ what, timing: t, rate: gbps(4 * n, t), unit: "GB/s of fp32 input" });
  }
  const q = lab.quant.quantize(x, { format: "e4m3", granularity: lab.quant.TILE_1X128 }, { shape });
  const tDeq = await time(() => q.dequantize(), { repeats });
  rows.push({ what: "dequantize E4M3 1×128", timing: tDeq, rate: gbps(4 * n, tDeq), unit: "GB/s of fp32 output" });
  const small = x.subarray(0, 1 << 18);
  const tJs = await time(
    () => {
      for (let i = 0; i < small.length; i += 4000) lab.quant.fp8Encode(small.subarray(i, i + 4000), "e4m3");
    },
    { repeats },
  );
  rows.push({
    what: "fp8Encode E4M3, JavaScript path (4000-element calls)",
    timing: tJs,
    rate: gbps(4 * small.length, tJs),
    unit: "GB/s of fp32 input",
  });

  const shapes = cli.quick
    ? [[256, 1024, 1024]]
    : [
        [256, 1024, 1024],
        [1024, 2048, 2048],
        [2048, 4096, 4096],
      ];
  for (const [m, k, nn] of shapes) {
    const a = lab.randomNormal([m, k]) as tf.Tensor2D;
    const w = lab.randomNormal([nn, k], 0, 0.05) as tf.Tensor2D;
    const wt = tf.transpose(w) as tf.Tensor2D;
    const qa = lab.quant.quantize(a, { format: "int8", granularity: lab.quant.PER_CHANNEL });
    const qw = lab.quant.quantizeW8(w);
    const ops = lab.flops.gemmFlops({ batch: 1, m, n: nn, k });
    const gops = (t: Timing) => ops / (t.median * 1e6);
    const shapeText = `${m}×${k} · ${k}×${nn}`;
    const tF = await time(() => tf.matMul(a, wt).dispose(), { repeats });
    rows.push({ what: `fp32 tf.matMul on native, ${shapeText}`, timing: tF, rate: gops(tF), unit: "GFLOP/s" });
    const tI = await time(() => lab.quant.int8Matmul(qa.codes as Int8Array, qw.codes as Int8Array, m, nn, k), {
      repeats,
    });
    rows.push({
      what: `int8 GEMM (${lab.quant.int8MatmulKernel()}), ${shapeText}`,
      timing: tI,
      rate: gops(tI),
      unit: "GOP/s",
    });
    const tW = await time(() => lab.quant.w8a8Matmul(a, qw).dispose(), { repeats });
    rows.push({
      what: `W8A8 layer (quantize x, int8 GEMM, rescale), ${shapeText}`,
      timing: tW,
      rate: gops(tW),
      unit: "GOP/s",
    });
    tf.dispose([a, w, wt]);
  }
  // Batch-1 decode of a lab model: fp32 against the fused dequant-matmul formats (lab.quant.quantizeModel), interleaved.
  const decodeConfig = cli.quick
    ? lab.model.presetConfig("small", { contextLen: 64 })
    : lab.model.presetConfig("small", { dim: 1024, nHeads: 16, ffnHidden: 2816, nLayers: 6, contextLen: 128 });
  lab.seed(0);
  const decodeModel = new lab.model.TransformerLM(decodeConfig);
  const decodeVal = lab.data.evalBatches(
    Int32Array.from({ length: 64 }, (_, i) => (i * 31) % decodeConfig.vocabSize),
    { batchSize: 1, seqLen: 16, maxBatches: 1 },
  );
  const decodeRows = lab.experiments.quantizedDecode(decodeModel, decodeVal, {
    settings: [
      { format: "int8" },
      { format: "int4" },
      { format: "e4m3" },
      { format: "int8", activationQuant: true },
      { format: "int4", activationQuant: true },
    ],
    context: 16,
    rounds: cli.quick ? 5 : 30,
    warmupRounds: 2,
  });
  const decodeShape = `d ${decodeConfig.dim}, ${decodeConfig.nLayers} layers, FFN ${decodeConfig.ffnHidden}`;
  for (const r of decodeRows) {
    rows.push({
      what: `decode batch 1, ${r.label} (${(r.layerBytes / 2 ** 20).toFixed(1)} MiB of layer weights; ${r.speedup.toFixed(2)}× fp32), ${decodeShape}`,
      timing: r.timing,
      rate: r.tokensPerSecond,
      unit: "tokens/s",
    });
  }
  decodeModel.dispose();
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const md = [
    `Quantization benchmark (${new Date().toISOString().slice(0, 10)}, backend native, int8 kernel ${lab.quant.int8MatmulKernel()}, dequant GEMM ${lab.quant.dequantMatmulKernel()}, ${repeats} repeats; shared machine: medians with min–max)`,
    "",
    "| what | median ms (min–max) | rate | unit |",
    "| :-- | --: | --: | :-- |",
    ...rows.map(
      (r) =>
        `| ${r.what} | ${fmt(r.timing.median)} (${fmt(r.timing.min)}–${fmt(r.timing.max)}) | ${fmt(r.rate)} | ${r.unit} |`,
    ),
  ].join("\n");
  console.log(md);
  fs.mkdirSync(cli.out, { recursive: true });
  fs.writeFileSync(
    path.join(cli.out, "quant.json"),
    JSON.stringify({ repeats, kernel: lab.quant.int8MatmulKernel(), rows }, null, 2),
  );
  fs.writeFileSync(path.join(cli.out, "quant.md"), md + "\n");
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
