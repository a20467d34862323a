// `npm run bench`: tfjs native vs cpu, wasm, OpenBLAS and PyTorch on GEMMs and train steps, measured in one run;
// prints the table and the issue's targets, writes bench.json, bench.md and bench.png. Run with --help for options.
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { ENGINE_TITLES, Engine } from "../lib/bench/engine";
import { cpuFacts, measuredPeak } from "../lib/bench/machine";
import { openblasEngine } from "../lib/bench/openblas";
import { BenchReport, lmTable, markdownTable, profileTable, writeReport } from "../lib/bench/report";
import { DEFAULT_BENCH_OPTIONS, Measurement, QUICK_BENCH_OPTIONS, openEngines, runBench } from "../lib/bench/run";
import { evaluateTargets, targetLines } from "../lib/bench/targets";
import { profileTfjsCase, tfjsEngine } from "../lib/bench/tfjs";
import { torchEngine } from "../lib/bench/torch";
import { BenchCase, DEFAULT_CASE_OPTIONS, SUITES, SuiteName, benchCases } from "../lib/bench/workloads";
import { nativeAddon } from "../lib/native/addon";
import { closeRenderer } from "../lib/viz/renderer";

/** Command-line settings. */
interface Cli {
  quick: boolean;
  only: SuiteName[];
  repeats: number | null;
  maxCallS: number | null;
  out: string;
}

const USAGE = `usage: npm run bench -- [--quick] [--only SUITE[,SUITE]] [--repeats N] [--max-call S] [--out DIR]
  --quick        GEMMs up to 1024³, 3 repeats, slow engines limited to ~5 s a cell
  --only SUITES  any of ${SUITES.join(", ")} (comma-separated or repeated)
  --repeats N    timed calls per cell (default ${DEFAULT_BENCH_OPTIONS.repeats}, --quick ${QUICK_BENCH_OPTIONS.repeats})
  --max-call S   skip a cell whose call is estimated above S seconds (default ${DEFAULT_BENCH_OPTIONS.maxCallMs / 1000}, --quick ${QUICK_BENCH_OPTIONS.maxCallMs / 1000})
  --out DIR      results folder (default results/bench)`;

function parseArgs(argv: string[]): Cli {
  const cli: Cli = { quick: false, only: [], repeats: null, maxCallS: null, out: path.join("results", "bench") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a}: expected a value\n${USAGE}`);
      return v;
    };
    if (a === "--quick") cli.quick = true;
    else if (a === "--only") {
      for (const s of value().split(",")) {
        if (!(SUITES as readonly string[]).includes(s))
          throw new Error(`--only: unknown suite "${s}"; expected one of ${SUITES.join(", ")}`);
        cli.only.push(s as SuiteName);
      }
    } else if (a === "--repeats") {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`--repeats: expected an integer ≥ 1, got ${argv[i]}`);
      cli.repeats = n;
    } else if (a === "--max-call") {
      const s = Number(value());
      if (!(s > 0)) throw new Error(`--max-call: expected seconds > 0, got ${argv[i]}`);
      cli.maxCallS = s;
    } else if (a === "--out") cli.out = value();
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument "${a}"\n${USAGE}`);
  }
  return cli;
}

function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

function progressLine(m: Measurement, c: BenchCase): string {
  const extra = [
    m.tokensPerS !== undefined ? `${m.tokensPerS.toFixed(0)} tokens/s` : "",
    m.cores !== undefined ? `${m.cores.toFixed(2)} cores` : "",
  ]
    .filter(Boolean)
    .join("  ");
  const what =
    m.status === "ok"
      ? `${m.timing!.median.toFixed(2)} ms  ${m.gflops!.toFixed(1)} GFLOP/s${extra ? `  ${extra}` : ""}`
      : m.status;
  return `  ${c.id.padEnd(18)} ${ENGINE_TITLES[m.engine].padEnd(12)} ${what}${m.note ? `  (${m.note})` : ""}`;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const options = {
    ...(cli.quick ? QUICK_BENCH_OPTIONS : DEFAULT_BENCH_OPTIONS),
    ...(cli.repeats ? { repeats: cli.repeats } : {}),
    ...(cli.maxCallS ? { maxCallMs: cli.maxCallS * 1000 } : {}),
  };
  const startedAt = new Date().toISOString();
  const cpu = cpuFacts();
  const peak = measuredPeak(cli.quick ? { repeats: 2 } : {});
  // The C references get as many threads as the native backend's pool.
  const threads = nativeAddon()?.info().threads ?? cpu.cores;
  const engines: Engine[] = [
    tfjsEngine("native"),
    torchEngine({ threads }),
    openblasEngine({ threads }),
    tfjsEngine("wasm"),
    tfjsEngine("cpu"),
  ];
  const cases = benchCases({
    only: cli.only,
    gemmSizes: cli.quick ? [256, 512, 1024] : DEFAULT_CASE_OPTIONS.gemmSizes,
  });
  console.log(`bench: ${cpu.model}, ${cpu.cores} cores; peak ${peak.derivation}`);
  const opened = await openEngines(engines);
  try {
    for (const { engine, unavailable } of opened) {
      const info = Object.entries(engine.info())
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
      console.log(`  ${ENGINE_TITLES[engine.name].padEnd(12)} ${unavailable ?? info}`);
    }
    console.log(
      `bench: ${cases.length} cases × ${engines.length} engines, warmup ≥ ${options.warmup} call and ≥ ${options.warmupMs} ms, ${options.repeats} repeats`,
    );
    const measurements = await runBench(cases, opened, options, (m, c) => console.log(progressLine(m, c)));

    const step = cases.find((c) => c.id === "transformer-step");
    const nativeOk = opened.find((o) => o.engine.name === "native")?.unavailable === null;
    const profile = step && nativeOk ? { caseId: step.id, ...(await profileTfjsCase("native", step)) } : null;

    const engineRecords = Object.fromEntries(
      opened.map(({ engine, unavailable }) => [engine.name, { unavailable, info: engine.info() }]),
    );
    const simd = cpu.flags.filter((f) =>
      /^(avx2|fma|avx512f|avx512bw|avx512vl|avx512dq|avx512_bf16|amx_bf16|amx_tile|avx_vnni)$/.test(f),
    );
    const { flags: _flags, ...cpuRecord } = cpu;
    const report: BenchReport = {
      schema: "moelab-bench/1",
      startedAt,
      finishedAt: new Date().toISOString(),
      mode: cli.quick ? "quick" : "full",
      suites: cli.only.length ? cli.only : [...SUITES],
      options,
      environment: {
        cpu: { ...cpuRecord, simd },
        node: process.version,
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        commit: gitCommit(),
        engines: engineRecords as BenchReport["environment"]["engines"],
      },
      peak,
      cases,
      measurements,
      targets: evaluateTargets(measurements, peak.gflops),
      profile,
    };
    console.log(`\n${markdownTable(report)}\n`);
    if (lmTable(report)) console.log(`${lmTable(report)}\n`);
    if (profile) console.log(`Profile of the transformer step on native:\n${profileTable(profile, 12)}\n`);
    console.log(`Targets (${peak.derivation}):`);
    for (const line of targetLines(report.targets)) console.log(`  ${line}`);
    const written = await writeReport(cli.out, report);
    console.log(`\nbench: wrote ${written.join(", ")}`);
  } finally {
    await Promise.all(opened.map((o) => o.engine.close()));
    await closeRenderer();
  }
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
