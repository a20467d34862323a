// `npm run bench:lm-gemm`: the BatchMatMul products one lab.train.fit step of the LM suite's TransformerLM issues (issue
// 14), each timed on the native addon's sgemm and on torch.matmul (same threads), interleaved round by round, next to
// the native GEMM's best case (1024³) measured in the same run. With --baseline FILE, a second native addon (another
// build) is loaded beside this one and timed in the same rounds, so two builds compare under the same load.
// Usage: npm run bench:lm-gemm -- [--model dense|moe] [--rounds N] [--baseline path/to/moelab_native.node] [--no-torch]
import * as tf from "@tensorflow/tfjs";
import { createRequire } from "node:module";
import { useBackend } from "../lib/backend-select";
import { nativeAddon } from "../lib/native/addon";
import type { MatmulAddon } from "../lib/native/kernels/matmul";
import { DENSE_LM, LmFitRun, MOE_LM, lmFitConfig } from "../lib/bench/models/lm-fit";
import { TorchProcess, DEFAULT_TORCH_CONFIG } from "../lib/bench/torch";
import type { BenchCase, GemmShape } from "../lib/bench/workloads";
import { gemmFlops } from "../lib/flops";
import { seed } from "../lib/random";
import { summarize } from "../lib/bench/timing";

interface Cli {
  model: "dense" | "moe";
  rounds: number;
  baseline: string | null;
  torch: boolean;
}

function parseArgs(argv: string[]): Cli {
  const cli: Cli = { model: "dense", rounds: 7, baseline: null, torch: true };
  const usage = "usage: npm run bench:lm-gemm -- [--model dense|moe] [--rounds N] [--baseline FILE] [--no-torch]";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--model") cli.model = argv[++i] as Cli["model"];
    else if (argv[i] === "--rounds") cli.rounds = Number(argv[++i]);
    else if (argv[i] === "--baseline") cli.baseline = argv[++i] ?? null;
    else if (argv[i] === "--no-torch") cli.torch = false;
    else throw new Error(`bench-lm-gemm: unknown argument "${argv[i]}"; ${usage}`);
  }
  if (cli.model !== "dense" && cli.model !== "moe") throw new Error(`bench-lm-gemm: --model must be dense or moe`);
  if (!(Number.isInteger(cli.rounds) && cli.rounds >= 1))
    throw new Error("bench-lm-gemm: --rounds expects an integer ≥ 1");
  if (cli.baseline === null && argv.includes("--baseline")) throw new Error(`bench-lm-gemm: --baseline needs a file`);
  return cli;
}

/** A product with its call count in one step. */
interface Issued {
  shape: GemmShape;
  calls: number;
}

const key = (s: GemmShape) => `${s.batch}|${s.m}|${s.n}|${s.k}|${s.transposeA}|${s.transposeB}`;

/** The distinct addon.matmul products of one fit step of `run` (after a warm-up step), by first appearance. */
async function issuedProducts(addon: MatmulAddon, run: LmFitRun): Promise<Issued[]> {
  await run.call();
  const seen = new Map<string, Issued>();
  const original = addon.matmul;
  addon.matmul = (a, b, out, m, n, k, transA, transB, aOff, bOff, ep) => {
    const shape: GemmShape = { batch: aOff.length, m, n, k, transposeA: transA, transposeB: transB };
    const entry = seen.get(key(shape)) ?? { shape, calls: 0 };
    entry.calls++;
    seen.set(key(shape), entry);
    original(a, b, out, m, n, k, transA, transB, aOff, bOff, ep);
  };
  try {
    await run.call();
  } finally {
    addon.matmul = original;
  }
  return [...seen.values()];
}

/** Operands of `s` (dense batches) and a call of `addon` on them. */
function addonCall(addon: MatmulAddon, s: GemmShape): () => void {
  const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7));
  const a = fill(s.batch * s.m * s.k);
  const b = fill(s.batch * s.k * s.n);
  const out = new Float32Array(s.batch * s.m * s.n);
  const aOff = Float64Array.from({ length: s.batch }, (_, i) => i * s.m * s.k);
  const bOff = Float64Array.from({ length: s.batch }, (_, i) => i * s.k * s.n);
  return () => addon.matmul(a, b, out, s.m, s.n, s.k, s.transposeA, s.transposeB, aOff, bOff);
}

/** Process CPU ms (user + system) since `start` (process.cpuUsage): the work a call did, less sensitive to other
 * processes taking the cores than its wall time (spin-waits of the pool count as work). */
const cpuMs = (start: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e3;
};

/** Wall and CPU ms of one call of each of `fns`: calls alternate between them (paired under the same load), medians of
 * `reps` each. */
function timeCalls(fns: (() => void)[], reps: number): { wall: number; cpu: number }[] {
  for (const f of fns) f();
  const wall = fns.map(() => [] as number[]);
  const cpu = fns.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < fns.length; i++) {
      const j = r % 2 ? fns.length - 1 - i : i;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fns[j]();
      wall[j].push(performance.now() - t0);
      cpu[j].push(cpuMs(c0));
    }
  }
  return fns.map((_, j) => ({ wall: summarize(wall[j]).median, cpu: summarize(cpu[j]).median }));
}

/** One fit step with BatchMatMul on this build vs on `baseline` (the kernels swapped step by step), as a table line. */
async function stepAB(addon: MatmulAddon, baseline: MatmulAddon, run: LmFitRun, rounds: number): Promise<string> {
  const own = addon.matmul;
  const arms = { native: [] as number[], baseline: [] as number[] };
  const cpu = { native: [] as number[], baseline: [] as number[] };
  try {
    for (let r = 0; r < 2 * rounds; r++) {
      const arm = r % 4 === 0 || r % 4 === 3 ? "native" : "baseline";
      addon.matmul = arm === "native" ? own : baseline.matmul;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await run.call();
      arms[arm].push(performance.now() - t0);
      cpu[arm].push(cpuMs(c0));
    }
  } finally {
    addon.matmul = own;
  }
  const ratios = summarize(arms.baseline.map((b, i) => b / arms.native[i]));
  const cpuRatios = summarize(cpu.baseline.map((b, i) => b / cpu.native[i]));
  return (
    `Fit step (BatchMatMul swapped between builds, ABBA order, ${rounds} pairs): native ${fmt(summarize(arms.native).median, 0)} ms, ` +
    `baseline ${fmt(summarize(arms.baseline).median, 0)} ms, baseline/native ${fmt(ratios.median)} [${fmt(ratios.min)}–${fmt(ratios.max)}]; ` +
    `CPU time baseline/native ${fmt(cpuRatios.median)} [${fmt(cpuRatios.min)}–${fmt(cpuRatios.max)}].`
  );
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const label = (s: GemmShape) =>
  `${s.batch > 1 ? `${s.batch}× ` : ""}${s.m}×${s.k}×${s.n}${s.transposeA ? " Aᵀ" : ""}${s.transposeB ? " Bᵀ" : ""}`;

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  await useBackend("native");
  const addon = nativeAddon() as unknown as MatmulAddon;
  const baseline = cli.baseline ? (createRequire(__filename)(cli.baseline) as MatmulAddon) : null;
  seed(0);
  const run = new LmFitRun(lmFitConfig(cli.model === "moe" ? MOE_LM : DENSE_LM, { steps: 1 }));
  const issued = await issuedProducts(addon, run);
  const threads = nativeAddon()!.info().threads;
  const best: GemmShape = { batch: 1, m: 1024, n: 1024, k: 1024, transposeA: false, transposeB: false };
  const shapes = [best, ...issued.map((i) => i.shape)];
  const torch = cli.torch ? new TorchProcess({ ...DEFAULT_TORCH_CONFIG, threads }) : null;
  if (torch) {
    const hello = await torch.hello();
    if (!hello.ready) throw new Error(`bench-lm-gemm: PyTorch not available: ${hello.error}`);
  }
  // Per shape and round: this build and the baseline build call by call (alternating), torch before or after them.
  const ms = shapes.map(() => ({
    native: [] as number[],
    baseline: [] as number[],
    torch: [] as number[],
    nativeCpu: [] as number[],
    baselineCpu: [] as number[],
  }));
  const calls = shapes.map((s) => addonCall(addon, s));
  const baseCalls = baseline ? shapes.map((s) => addonCall(baseline, s)) : null;
  for (let r = 0; r < cli.rounds; r++) {
    for (let i = 0; i < shapes.length; i++) {
      const reps = Math.max(3, Math.min(20, Math.round(2e9 / gemmFlops(shapes[i]))));
      const fns = baseCalls ? [calls[i], baseCalls[i]] : [calls[i]];
      const torchFirst = torch && r % 2 === 1;
      const torchMs = async () => {
        const c = { workload: { kind: "gemm", shape: shapes[i] } } as BenchCase;
        const reply = await torch!.measure(c, { warmup: 1, warmupMs: 0, repeats: reps });
        ms[i].torch.push(summarize(reply.samples_ms!).median);
      };
      if (torchFirst) await torchMs();
      const [n, b] = timeCalls(fns, reps);
      ms[i].native.push(n.wall);
      ms[i].nativeCpu.push(n.cpu);
      if (b) ms[i].baseline.push(b.wall);
      if (b) ms[i].baselineCpu.push(b.cpu);
      if (torch && !torchFirst) await torchMs();
    }
  }
  await torch?.close();
  const gf = (s: GemmShape, t: number) => gemmFlops(s) / (t * 1e6);
  const nativeBest = gf(best, summarize(ms[0].native).median);
  const lines = [
    `## BatchMatMul products of one ${cli.model} fit step (${run.config.model.dim}-d LM, B=${run.config.batchSize}, T=${run.config.seqLen}), ${threads} threads, ${cli.rounds} interleaved rounds`,
    "",
    "ratios: median over rounds of the per-round ratio [min–max]; torch/native > 1 = native faster.",
    "",
    `| product (batch× m×k×n) | calls | native ms | native GFLOP/s | % of native 1024³ | torch ms | torch/native |${baseline ? " baseline ms | baseline/native | CPU time baseline/native |" : ""}`,
    `| :-- | --: | --: | --: | --: | --: | --: |${baseline ? " --: | --: | --: |" : ""}`,
  ];
  const ratio = (x: number[], y: number[]) => {
    const r = summarize(x.map((v, j) => v / y[j]));
    return `${fmt(r.median)} [${fmt(r.min)}–${fmt(r.max)}]`;
  };
  let stepNative = 0;
  let stepTorch = 0;
  let stepBase = 0;
  shapes.forEach((s, i) => {
    const calls = i === 0 ? 0 : issued[i - 1].calls;
    const n = summarize(ms[i].native).median;
    const t = torch ? summarize(ms[i].torch).median : NaN;
    const b = baseline ? summarize(ms[i].baseline).median : NaN;
    stepNative += calls * n;
    stepTorch += calls * t;
    stepBase += calls * b;
    lines.push(
      `| ${i === 0 ? "best case " : ""}${label(s)} | ${calls} | ${fmt(n)} | ${fmt(gf(s, n), 1)} | ${fmt((100 * gf(s, n)) / nativeBest, 0)}% | ${fmt(t)} | ${torch ? ratio(ms[i].torch, ms[i].native) : "n/a"} |` +
        (baseline
          ? ` ${fmt(b)} | ${ratio(ms[i].baseline, ms[i].native)} | ${ratio(ms[i].baselineCpu, ms[i].nativeCpu)} |`
          : ""),
    );
  });
  lines.push(
    "",
    `Step total (calls × median): native ${fmt(stepNative, 1)} ms, torch ${fmt(stepTorch, 1)} ms${baseline ? `, baseline ${fmt(stepBase, 1)} ms` : ""}.`,
  );
  if (baseline) lines.push("", await stepAB(addon, baseline, run, cli.rounds));
  run.dispose();
  console.log(lines.join("\n"));
  tf.disposeVariables();
}

main().catch((e) => {
  console.error(`bench-lm-gemm: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
