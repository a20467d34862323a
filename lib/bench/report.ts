// The benchmark's results: one JSON record of everything (bench.json), a markdown report (bench.md), a grouped bar
// chart (bench.png), and the table printed on the terminal.
import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { groupedBar } from "../viz/bar";
import type { Figure } from "../viz/figure";
import { renderPng } from "../viz/renderer";
import { ENGINES, ENGINE_TITLES, EngineName } from "./engine";
import type { CpuFacts, Peak } from "./machine";
import type { KernelProfile } from "./profile";
import type { StepSplit } from "./tfjs";
import type { BenchOptions, Measurement } from "./run";
import { TargetResult, peakFraction, speedup, targetLines } from "./targets";
import type { BenchCase, SuiteName } from "./workloads";

/** One engine in the environment record. */
export interface EngineRecord {
  /** null when it ran, else why not. */
  unavailable: string | null;
  /** Versions and settings (threads, ISA, library build). */
  info: Record<string, string | number>;
}

/** Where and with what the benchmark ran. */
export interface BenchEnvironment {
  cpu: Omit<CpuFacts, "flags"> & { simd: string[] };
  node: string;
  os: string;
  /** Git commit of the checkout (null when unknown). */
  commit: string | null;
  engines: Record<EngineName, EngineRecord>;
}

/** Everything one run measured (bench.json). */
export interface BenchReport {
  schema: "moelab-bench/1";
  startedAt: string;
  finishedAt: string;
  mode: "full" | "quick";
  suites: SuiteName[];
  options: BenchOptions;
  environment: BenchEnvironment;
  peak: Peak;
  cases: BenchCase[];
  /** Every cell, with every sample. */
  measurements: Measurement[];
  targets: TargetResult[];
  /** Kernel times of one profiled call (the transformer step on native), or null when not profiled. */
  profile: (KernelProfile & { caseId: string; split: StepSplit | null }) | null;
}

/** The ratio columns: native's speedup over each of these. */
export const RATIO_BASELINES: readonly EngineName[] = Object.freeze(["torch", "openblas", "cpu", "wasm"]);

function num(x: number): string {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

/** Numbered notes: the same text gets the same number. */
class Notes {
  readonly list: string[] = [];
  mark(text: string): string {
    let i = this.list.indexOf(text);
    if (i < 0) i = this.list.push(text) - 1;
    return `[${i + 1}]`;
  }
}

function cell(m: Measurement | undefined, notes: Notes): string {
  if (!m) return "—";
  if (m.status === "unsupported") return "n/a";
  const mark = m.note ? ` ${notes.mark(m.note)}` : "";
  switch (m.status) {
    case "ok":
      return `${num(m.timing!.median)} (${num(m.gflops!)})${mark}`;
    case "unavailable":
      return `${/^not installed/.test(m.note ?? "") ? "not installed" : "not available"}${mark}`;
    default:
      return `${m.status}${mark}`;
  }
}

function engineList(report: BenchReport): EngineName[] {
  return ENGINES.filter((e) => report.measurements.some((m) => m.engine === e));
}

/** The main table (markdown): median ms (GFLOP/s) per engine, native's speedups, native's share of the peak. Notes below. */
export function markdownTable(report: BenchReport): string {
  const engines = engineList(report);
  const ratios = RATIO_BASELINES.filter((b) => engines.includes(b) && engines.includes("native"));
  const notes = new Notes();
  const head = [
    "workload",
    "GFLOP",
    ...engines.map((e) => ENGINE_TITLES[e]),
    ...ratios.map((b) => `native/${ENGINE_TITLES[b]}`),
  ];
  if (engines.includes("native")) head.push("native % peak");
  const rows = report.cases.map((c) => {
    const get = (e: EngineName) => report.measurements.find((m) => m.caseId === c.id && m.engine === e);
    const row = [c.label, num(c.flops / 1e9), ...engines.map((e) => cell(get(e), notes))];
    for (const b of ratios) {
      const r = speedup(report.measurements, c.id, "native", b);
      row.push(r === null ? "—" : `${num(r)}×`);
    }
    if (engines.includes("native")) {
      const f = peakFraction(report.measurements, c.id, "native", report.peak.gflops);
      row.push(f === null ? "—" : `${(f * 100).toFixed(1)}%`);
    }
    return row;
  });
  const align = head.map((_, i) => (i === 0 ? ":--" : "--:"));
  const lines = [head, align, ...rows].map((r) => `| ${r.join(" | ")} |`);
  lines.push(
    "",
    "Cells: median ms (GFLOP/s). Ratios: native's speedup, time(other) / time(native); above 1 = native faster.",
  );
  notes.list.forEach((n, i) => lines.push(`[${i + 1}] ${n}`));
  return lines.join("\n");
}

/**
 * The LM-through-fit cases (those with a token count): tokens/s per engine at the median (spread min–max of the
 * calls), native's ratio over PyTorch, and cores used per wall second on each side. Empty when there are none.
 */
export function lmTable(report: BenchReport): string {
  const cases = report.cases.filter((c) => c.tokens);
  if (cases.length === 0) return "";
  const engines = (["native", "torch"] as const).filter((e) => engineList(report).includes(e));
  const head = [
    "model (lab.train.fit)",
    ...engines.flatMap((e) => [`${ENGINE_TITLES[e]} tokens/s (min–max)`, `${ENGINE_TITLES[e]} cores`]),
    "native/PyTorch",
  ];
  const rows = cases.map((c) => {
    const get = (e: EngineName) =>
      report.measurements.find((m) => m.caseId === c.id && m.engine === e && m.status === "ok");
    const row = [c.label];
    for (const e of engines) {
      const m = get(e);
      const perS = (ms: number) => (c.tokens! / (ms / 1e3)).toFixed(0);
      row.push(
        m ? `${perS(m.timing!.median)} (${perS(m.timing!.max)}–${perS(m.timing!.min)})` : "—",
        m?.cores !== undefined ? m.cores.toFixed(2) : "—",
      );
    }
    const r = speedup(report.measurements, c.id, "native", "torch");
    row.push(r === null ? "—" : `${num(r)}×`);
    return row;
  });
  const align = head.map((_, i) => (i === 0 ? ":--" : "--:"));
  return [head, align, ...rows]
    .map((r) => `| ${r.join(" | ")} |`)
    .concat([
      "",
      "Cores: process CPU time / wall time over the case's calls (warmup included); the machine's pool size is the most.",
    ])
    .join("\n");
}

function detailTable(report: BenchReport): string {
  const lines = [
    "| workload | engine | median ms | min ms | max ms | samples | GFLOP/s |",
    "| :-- | :-- | --: | --: | --: | --: | --: |",
  ];
  for (const c of report.cases) {
    for (const m of report.measurements.filter((x) => x.caseId === c.id && x.status === "ok")) {
      const t = m.timing!;
      lines.push(
        `| ${c.label} | ${ENGINE_TITLES[m.engine]} | ${num(t.median)} | ${num(t.min)} | ${num(t.max)} | ${t.samples.length} | ${num(m.gflops!)} |`,
      );
    }
  }
  return lines.join("\n");
}

/** The profile as a markdown table (top `top` kernels), with the train step's split when known. */
export function profileTable(p: KernelProfile & { split?: StepSplit | null }, top = 15): string {
  const lines = [
    `One call on \`${p.backend}\`: ${num(p.wallMs)} ms wall, ${num(p.kernelMs)} ms in kernels, ` +
      `${num(Math.max(0, p.wallMs - p.kernelMs))} ms outside kernels (tfjs tape and bookkeeping, JS).`,
    ...(p.split
      ? [
          `Unprofiled, median of 3: step ${num(p.split.stepMs)} ms, loss and gradients alone ${num(p.split.gradientsMs)} ms: ` +
            (p.split.optimizerMs > 0
              ? `Adam update ≈ ${num(p.split.optimizerMs)} ms (${((p.split.optimizerMs / p.split.stepMs) * 100).toFixed(0)}%).`
              : "the Adam update is within the noise."),
        ]
      : []),
    "",
    `| kernel | calls | ms | % of wall |${p.nativeKernels ? " runs |" : ""}`,
    `| :-- | --: | --: | --: |${p.nativeKernels ? " :-- |" : ""}`,
  ];
  const runs = (k: string) => (p.nativeKernels ? ` ${p.nativeKernels.includes(k) ? "C++" : "tfjs cpu code"} |` : "");
  for (const k of p.kernels.slice(0, top))
    lines.push(`| ${k.kernel} | ${k.calls} | ${num(k.ms)} | ${(k.share * 100).toFixed(1)}% |${runs(k.kernel)}`);
  const rest = p.kernels.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, k) => s + k.ms, 0);
    const names = rest.map((k) => k.kernel).join(", ");
    lines.push(
      `| ${rest.length} others | ${rest.reduce((s, k) => s + k.calls, 0)} | ${num(ms)} | ${((ms / p.wallMs) * 100).toFixed(1)}% |${p.nativeKernels ? " |" : ""}`,
    );
    lines.push("", `Others: ${names}.`);
  }
  return lines.join("\n");
}

function environmentLines(report: BenchReport): string[] {
  const env = report.environment;
  const lines = [
    `- CPU: ${env.cpu.model}, ${env.cpu.cores} cores (${env.cpu.logical} logical), ${env.cpu.clockMHz.toFixed(0)} MHz (${env.cpu.clockSource}), SIMD: ${env.cpu.simd.join(" ") || "none listed"}`,
    `- Node ${env.node}, ${env.os}${env.commit ? `, commit ${env.commit.slice(0, 12)}` : ""}`,
  ];
  for (const e of ENGINES) {
    const r = env.engines[e];
    if (!r) continue;
    const info = Object.entries(r.info)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    lines.push(`- ${ENGINE_TITLES[e]}: ${r.unavailable ?? info}`);
  }
  return lines;
}

/** bench.md. */
export function markdownReport(report: BenchReport): string {
  const o = report.options;
  const parts = [
    "# Benchmark: tfjs native vs cpu, wasm, OpenBLAS, PyTorch",
    "",
    `Run ${report.startedAt} → ${report.finishedAt}, mode ${report.mode}, suites ${report.suites.join(", ")}: ` +
      `warmup (≥ ${o.warmup} call, ≥ ${o.warmupMs} ms) + ${o.repeats} timed calls per cell (slow engines: fewer, about ${o.budgetMs / 1000} s a cell; ` +
      `skipped when a call is estimated above ${o.maxCallMs / 1000} s). The machine may be shared: read medians, compare within this run.`,
    "",
    markdownTable(report),
    "",
    ...(lmTable(report) ? ["## Training the lab's models (TransformerLM through fit)", "", lmTable(report), ""] : []),
    "## Targets",
    "",
    ...targetLines(report.targets).map((l) => `- ${l}`),
    "",
    "## Measured peak",
    "",
    `${report.peak.derivation}. "% peak" is of the best fp32 loop; the loops run from registers only, so no workload should exceed it.`,
    "",
    "Train-step GFLOP/s count matmul FLOPs only (forward, and twice that backward); elementwise work is extra.",
  ];
  if (report.profile)
    parts.push(
      "",
      `## Profile: ${report.cases.find((c) => c.id === report.profile!.caseId)?.label ?? report.profile.caseId}`,
      "",
      profileTable(report.profile),
    );
  parts.push("", "## All timings", "", detailTable(report), "", "## Environment", "", ...environmentLines(report), "");
  return parts.join("\n");
}

/** Grouped bars: GFLOP/s per case and engine, log axis (a missing cell is a missing bar). */
export function benchFigure(report: BenchReport): Figure {
  const engines = engineList(report).filter((e) =>
    report.measurements.some((m) => m.engine === e && m.status === "ok"),
  );
  const groups = engines.map((e) => ({
    name: ENGINE_TITLES[e],
    values: report.cases.map(
      (c) => report.measurements.find((m) => m.caseId === c.id && m.engine === e && m.status === "ok")?.gflops ?? 0,
    ),
  }));
  const fig = groupedBar(
    report.cases.map((c) => c.short),
    groups.length ? groups : [{ name: "none", values: report.cases.map(() => 0) }],
    {
      title: `GFLOP/s by engine (log scale; peak ${report.peak.gflops.toFixed(0)})`,
      yTitle: "GFLOP/s",
      width: 1100,
      height: 520,
    },
  );
  fig.layout.yaxis = { ...fig.layout.yaxis, type: "log", dtick: 1 };
  // The measured peak as a dotted line across the plot.
  fig.layout.shapes = [
    {
      type: "line",
      xref: "paper",
      x0: 0,
      x1: 1,
      y0: report.peak.gflops,
      y1: report.peak.gflops,
      line: { dash: "dot", width: 1 },
    },
  ];
  return fig;
}

/** Writes bench.json, bench.md and bench.png (when chromium can render) into `dir`; returns the paths written. */
export async function writeReport(dir: string, report: BenchReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written = [path.join(dir, "bench.json"), path.join(dir, "bench.md")];
  await writeFile(written[0], `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(written[1], markdownReport(report));
  const png = await renderPng(benchFigure(report));
  if (png) {
    written.push(path.join(dir, "bench.png"));
    await writeFile(written[2], png);
  }
  return written;
}
