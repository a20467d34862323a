// `npm run bench:moe`: one MoE layer forward+backward (default T=4096, d=512, 64 routed experts top-6 + 2 shared, expert
// hidden 256, softmax gate, dropless) on tfjs native, wasm and cpu and on an equivalent PyTorch CPU layer
// (scripts/bench_moe_torch.py: DeepSeek-V3 model.py's per-expert loop, and a sort-by-expert variant), in one run.
// Prints a table and writes results/bench/moe.json and moe.md. Slow engines run fewer tokens (see --tokens-*);
// compare tokens/s. GFLOP/s are also shown as a share of the machine's measured fp32 peak (lib/bench/machine.ts:
// register-only FMA loops on all pool threads, measured in the same run). Usage: npm run bench:moe -- [--quick] [--repeats N] [--out DIR]
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../lib/backend-select";
import { measuredPeak } from "../lib/bench/machine";
import { summarize, type Timing } from "../lib/bench/timing";
import { MoELayer, type MoEConfig } from "../lib/moe";
import { moeStep } from "../lib/experiments";
import { moeStepFlops } from "../lib/flops";
import { nativeAddon } from "../lib/native/addon";
import { randomNormal, seed } from "../lib/random";
import { asciiTable } from "../lib/viz/format";

/** The benchmarked layer and how long to measure. */
interface BenchMoeConfig {
  dim: number;
  layer: Partial<MoEConfig>;
  /** Tokens per step for each engine (slow engines run fewer; throughput is compared). */
  tokens: Record<Engine, number>;
  warmup: number;
  repeats: number;
  /** Threads for PyTorch (the native pool's size). */
  threads: number;
}

type Engine = "native" | "torch" | "wasm" | "cpu";

const LAYER: Partial<MoEConfig> = {
  nRouted: 64,
  nShared: 2,
  topK: 6,
  expertHidden: 256,
  scoreFunc: "softmax",
  balance: "switch",
};

function parseArgs(argv: string[]): { quick: boolean; repeats: number | null; out: string } {
  const cli = { quick: false, repeats: null as number | null, out: path.join("results", "bench") };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--quick") cli.quick = true;
    else if (argv[i] === "--repeats") cli.repeats = Number(argv[++i]);
    else if (argv[i] === "--out") cli.out = argv[++i];
    else
      throw new Error(
        `bench-moe: unknown argument "${argv[i]}"; usage: npm run bench:moe -- [--quick] [--repeats N] [--out DIR]`,
      );
  }
  if (cli.repeats !== null && !(Number.isInteger(cli.repeats) && cli.repeats > 0))
    throw new Error("bench-moe: --repeats expects a positive integer");
  return cli;
}

function benchConfig(quick: boolean, repeats: number | null): BenchMoeConfig {
  const threads = (nativeAddon()?.info().threads as number | undefined) ?? 1;
  const T = quick ? 1024 : 4096;
  return {
    dim: 512,
    layer: LAYER,
    tokens: { native: T, torch: T, wasm: quick ? 256 : 1024, cpu: quick ? 64 : 256 },
    warmup: 1,
    repeats: repeats ?? (quick ? 3 : 5),
    threads,
  };
}

interface Row {
  engine: string;
  tokens: number;
  timing: Timing;
  /** Tokens per second at the median. */
  tokensPerS: number;
  /** Matmul GFLOP/s at the median (the forward and the parameter gradients: lib/flops.ts moeStepFlops). */
  gflops: number;
}

function tfjsRow(engine: Engine, cfg: BenchMoeConfig, repeats: number): Row {
  seed(0);
  const T = cfg.tokens[engine];
  const layer = new MoELayer(cfg.dim, cfg.layer);
  const x = randomNormal([T, cfg.dim]) as tf.Tensor2D;
  let slots = 0;
  for (let i = 0; i < cfg.warmup; i++) slots = moeStep(layer, x).slots;
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    moeStep(layer, x);
    samples.push(performance.now() - t0);
  }
  const flops = moeStepFlops(layer, T, slots); // the products that run (the input x is not trained)
  tf.dispose(x);
  layer.dispose();
  return row(`tfjs ${engine}`, T, summarize(samples), flops);
}

function row(engine: string, tokens: number, timing: Timing, flops: number): Row {
  return { engine, tokens, timing, tokensPerS: tokens / (timing.median / 1e3), gflops: flops / (timing.median * 1e6) };
}

function torchRows(cfg: BenchMoeConfig, flopsPerToken: number): Row[] {
  const c = cfg.layer;
  const args = {
    tokens: cfg.tokens.torch,
    dim: cfg.dim,
    routed: c.nRouted,
    shared: c.nShared,
    topk: c.topK,
    hidden: c.expertHidden,
    threads: cfg.threads,
    warmup: cfg.warmup,
    repeats: cfg.repeats,
    seed: 0,
  };
  const script = path.join(__dirname, "bench_moe_torch.py");
  const r = spawnSync("/usr/bin/python3", [script, JSON.stringify(args)], {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0)
    throw new Error(`bench-moe: ${script} failed (exit ${r.status}): ${r.stderr.trim().split("\n").pop()}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
    torch: string;
    variants: Record<string, { samples_ms: number[] }>;
  };
  return Object.entries(out.variants).map(([name, v]) =>
    row(`PyTorch ${out.torch} (${name})`, cfg.tokens.torch, summarize(v.samples_ms), flopsPerToken * cfg.tokens.torch),
  );
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const cfg = benchConfig(cli.quick, cli.repeats);
  const rows: Row[] = [];
  for (const engine of ["native", "wasm", "cpu"] as const) {
    await useBackend(engine);
    rows.push(tfjsRow(engine, cfg, engine === "native" ? cfg.repeats : Math.min(cfg.repeats, 3)));
    console.log(`${rows[rows.length - 1].engine}: ${rows[rows.length - 1].timing.median.toFixed(1)} ms`);
  }
  const flopsPerToken = (rows[0].gflops * 1e9 * (rows[0].timing.median / 1e3)) / rows[0].tokens;
  rows.push(...torchRows(cfg, flopsPerToken));
  const torchBest = Math.max(...rows.filter((r) => r.engine.startsWith("PyTorch")).map((r) => r.tokensPerS));
  const peak = measuredPeak(cli.quick ? { repeats: 2 } : {});
  const header = [
    "engine",
    "tokens",
    "median ms",
    "min ms",
    "max ms",
    "tokens/s",
    "GFLOP/s",
    "% peak",
    "vs best PyTorch",
  ];
  const body = rows.map((r) => [
    r.engine,
    String(r.tokens),
    r.timing.median.toFixed(1),
    r.timing.min.toFixed(1),
    r.timing.max.toFixed(1),
    r.tokensPerS.toFixed(0),
    r.gflops.toFixed(1),
    `${((100 * r.gflops) / peak.gflops).toFixed(1)}%`,
    `${(r.tokensPerS / torchBest).toFixed(2)}×`,
  ]);
  const what = `MoE layer forward+backward: d=${cfg.dim}, ${LAYER.nRouted} routed top-${LAYER.topK} + ${LAYER.nShared} shared, expert hidden ${LAYER.expertHidden}, dropless`;
  console.log(`\n${what}\n${asciiTable(header, body).join("\n")}\npeak: ${peak.derivation}`);
  mkdirSync(cli.out, { recursive: true });
  const md = [
    `# ${what}`,
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i ? " --: " : " :-- ")).join("|")}|`,
    ...body.map((b) => `| ${b.join(" | ")} |`),
    "",
    `Peak: ${peak.derivation}.`,
    "",
  ].join("\n");
  writeFileSync(path.join(cli.out, "moe.md"), md);
  writeFileSync(
    path.join(cli.out, "moe.json"),
    JSON.stringify({ config: cfg, rows, peak, date: new Date().toISOString() }, null, 2),
  );
  console.log(`wrote ${path.join(cli.out, "moe.md")} and moe.json`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
