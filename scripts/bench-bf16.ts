// `npm run bench:bf16`: bf16 against fp32 on this CPU (AMX or AVX512-BF16), in one run — (1) GEMM throughput: tfjs
// native fp32 matmul vs lab.matmulBf16 on square and transformer-shaped products (with the transposes the training
// step uses), timed alternately, GFLOP/s as a share of the measured fp32 and bf16 peaks; (2) training: the bench's
// dense TransformerLM (vocab 256 for byte text) trained by lab.train.fit on the shipped Austen corpus in fp32 and in
// bf16 mixed precision from the same weights and batches: tokens/s and the loss after the run (mean of the last 5
// steps), with the gap. Writes results/bench/bf16.json and .md.
// Usage: npm run bench:bf16 -- [--quick] [--steps N] [--repeats N] [--out DIR]
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../lib/backend-select";
import { measuredPeak } from "../lib/bench/machine";
import { DENSE_LM } from "../lib/bench/models/lm-fit";
import { summarize, type Timing } from "../lib/bench/timing";
import { randomBatches } from "../lib/data/batch";
import { loadCorpus } from "../lib/data/shipped";
import { lmConfig } from "../lib/model/config";
import { TransformerLM } from "../lib/model/transformer";
import { matmulBf16Engine, matmulBf16Support } from "../lib/native/kernels/matmul";
import { matmulBf16 } from "../lib/ops/matmul-bf16";
import { randomUniform, seed } from "../lib/random";
import { fit } from "../lib/train/fit";
import { asciiTable } from "../lib/viz/format";

function parseArgs(argv: string[]): { quick: boolean; steps: number | null; repeats: number | null; out: string } {
  const cli = {
    quick: false,
    steps: null as number | null,
    repeats: null as number | null,
    out: path.join("results", "bench"),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") cli.quick = true;
    else if (a === "--steps") cli.steps = Number(argv[++i]);
    else if (a === "--repeats") cli.repeats = Number(argv[++i]);
    else if (a === "--out") cli.out = argv[++i];
    else
      throw new Error(
        `bench-bf16: unknown argument "${a}"; usage: npm run bench:bf16 -- [--quick] [--steps N] [--repeats N] [--out DIR]`,
      );
  }
  for (const k of ["steps", "repeats"] as const) {
    const v = cli[k];
    if (v !== null && !(Number.isInteger(v) && v > 0)) throw new Error(`bench-bf16: --${k} expects a positive integer`);
  }
  return cli;
}

/** A product op(a) [m, k] · op(b) [k, n] (tf.matMul's transpose flags) and what it is. */
interface GemmShape {
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  label: string;
}

/** The product: fp32 (tf.matMul on native) and bf16 timed alternately; medians. */
async function gemmRow(g: GemmShape, repeats: number): Promise<{ shape: string; fp32: Timing; bf16: Timing }> {
  const { m, n, k, transposeA, transposeB } = g;
  const a = randomUniform(transposeA ? [k, m] : [m, k], -1, 1) as tf.Tensor2D;
  const b = randomUniform(transposeB ? [n, k] : [k, n], -1, 1) as tf.Tensor2D;
  const once = (f: () => tf.Tensor) => {
    const t0 = performance.now();
    f().dispose();
    return performance.now() - t0;
  };
  const fp: number[] = [];
  const bf: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const x = once(() => tf.matMul(a, b, transposeA, transposeB));
    const y = once(() => matmulBf16(a, b, transposeA, transposeB));
    if (i > 0) {
      // the first pair warms up
      fp.push(x);
      bf.push(y);
    }
  }
  tf.dispose([a, b]);
  const op = (t: boolean) => (t ? "ᵀ" : "");
  const shape = `${m}×${k}${op(transposeA)}·${k}×${n}${op(transposeB)}${g.label ? ` (${g.label})` : ""}`;
  return { shape, fp32: summarize(fp), bf16: summarize(bf) };
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const why = matmulBf16Support();
  if (why !== null) throw new Error(`bench-bf16: no bf16 product on this machine: ${why}`);
  await useBackend("native");
  const repeats = cli.repeats ?? (cli.quick ? 3 : 10);
  const steps = cli.steps ?? (cli.quick ? 4 : 60);
  const peak = measuredPeak(cli.quick ? { repeats: 2 } : {});
  console.log(`bf16 engine: ${matmulBf16Engine()}; peak ${peak.derivation}`);

  // (1) GEMMs: square, and the dense bench model's FFN products as its training step runs them (N = 32·128 tokens,
  // d 256, f 680; weights [out, in]): w1's forward x·W1ᵀ, its input gradient dY·W1, its weight gradient dYᵀ·x, and
  // w2's forward.
  const N = 32 * 128;
  const gemm = (m: number, n: number, k: number, transposeA: boolean, transposeB: boolean, label: string) => ({
    m,
    n,
    k,
    transposeA,
    transposeB,
    label,
  });
  const shapes: GemmShape[] = [
    gemm(1024, 1024, 1024, false, false, ""),
    gemm(N, 680, 256, false, true, "w1 forward"),
    gemm(N, 256, 680, false, false, "w1 dX"),
    gemm(680, 256, N, true, false, "w1 dW"),
    gemm(N, 256, 680, false, true, "w2 forward"),
  ];
  const gemms = [];
  for (const g of shapes) gemms.push({ flops: 2 * g.m * g.n * g.k, ...(await gemmRow(g, repeats)) });
  const gf = (flops: number, t: Timing) => flops / (t.median * 1e6);
  const gemmHead = [
    "product",
    "fp32 ms",
    "fp32 GFLOP/s",
    "% fp32 peak",
    "bf16 ms",
    "bf16 GFLOP/s",
    "% bf16 peak",
    "bf16/fp32",
  ];
  const gemmBody = gemms.map((g) => [
    g.shape,
    g.fp32.median.toFixed(2),
    gf(g.flops, g.fp32).toFixed(1),
    `${((100 * gf(g.flops, g.fp32)) / peak.gflops).toFixed(1)}%`,
    g.bf16.median.toFixed(2),
    gf(g.flops, g.bf16).toFixed(1),
    `${((100 * gf(g.flops, g.bf16)) / peak.bf16Gflops!).toFixed(1)}%`,
    `${(g.fp32.median / g.bf16.median).toFixed(2)}×`,
  ]);
  console.log(
    `\nGEMM (median of ${repeats}, fp32 and bf16 alternating; bf16 includes rounding and packing of both operands)\n${asciiTable(gemmHead, gemmBody).join("\n")}`,
  );

  // (2) Training: same weights (seed), same batches (fit's per-step seeding from seed 0), fp32 then bf16.
  const tokens = Int32Array.from(new TextEncoder().encode(loadCorpus("austen")));
  const batches = randomBatches(tokens, { batchSize: 32, seqLen: 128, seed: 1 });
  const runs = [];
  for (const precision of ["fp32", "bf16"] as const) {
    seed(0);
    const lm = new TransformerLM(lmConfig({ ...DENSE_LM, vocabSize: 256, precision }));
    const r = await fit({
      module: lm,
      loss: (b) => lm.stepLoss(b.inputs as tf.Tensor2D, b.targets as tf.Tensor2D),
      batches,
      config: { steps, seed: 0, yieldMs: 1e9 },
    });
    const losses = r.history.map((h) => h.loss);
    const last = losses.slice(-Math.min(5, steps));
    const stepMs = summarize(
      r.history
        .slice(1)
        .map((h) => h.ms)
        .concat(steps === 1 ? [r.history[0].ms] : []),
    );
    runs.push({
      precision,
      tokensPerS: (32 * 128) / (stepMs.median / 1e3),
      stepMs,
      loss: last.reduce((a, b) => a + b, 0) / last.length,
      losses,
    });
    lm.dispose();
  }
  const [fp, bf] = runs;
  const trainHead = [
    "precision",
    "step ms (median, min–max)",
    "tokens/s",
    `loss after ${steps} steps (mean of last ${Math.min(5, steps)})`,
  ];
  const trainBody = runs.map((r) => [
    r.precision,
    `${r.stepMs.median.toFixed(0)} (${r.stepMs.min.toFixed(0)}–${r.stepMs.max.toFixed(0)})`,
    r.tokensPerS.toFixed(0),
    r.loss.toFixed(4),
  ]);
  const gap = (bf.loss - fp.loss) / fp.loss;
  const summary = `bf16 step ${(fp.stepMs.median / bf.stepMs.median).toFixed(2)}× fp32's speed; loss gap ${(100 * gap).toFixed(2)}% (target < 1%)`;
  console.log(
    `\nTraining: TransformerLM d=${DENSE_LM.dim} L=${DENSE_LM.nLayers} SwiGLU ${DENSE_LM.ffnHidden}, bytes of Austen, B 32 T 128, fit (AdamW, clip 1)\n${asciiTable(trainHead, trainBody).join("\n")}\n${summary}`,
  );

  mkdirSync(cli.out, { recursive: true });
  const table = (h: string[], body: string[][]) => [
    `| ${h.join(" | ")} |`,
    `|${h.map((_, i) => (i ? " --: " : " :-- ")).join("|")}|`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ];
  const md = [
    "# bf16 vs fp32",
    "",
    `Engine: ${matmulBf16Engine()}. Peak: ${peak.derivation}.`,
    "",
    "## GEMM",
    "",
    ...table(gemmHead, gemmBody),
    "",
    "## Training",
    "",
    ...table(trainHead, trainBody),
    "",
    summary,
    "",
  ];
  writeFileSync(path.join(cli.out, "bf16.md"), md.join("\n"));
  writeFileSync(
    path.join(cli.out, "bf16.json"),
    JSON.stringify({ engine: matmulBf16Engine(), peak, gemms, runs, steps, date: new Date().toISOString() }, null, 2),
  );
  console.log(`wrote ${path.join(cli.out, "bf16.md")} and bf16.json`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
