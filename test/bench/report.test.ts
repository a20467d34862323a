// Report writers: the markdown table (cells, ratios, % of peak, numbered notes), the full markdown report, the chart,
// and bench.json/bench.md/bench.png on disk.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineName } from "../../lib/bench/engine";
import type { Peak } from "../../lib/bench/machine";
import {
  BenchReport,
  benchFigure,
  lmTable,
  markdownReport,
  markdownTable,
  profileTable,
  writeReport,
} from "../../lib/bench/report";
import { DENSE_LM, lmFitConfig } from "../../lib/bench/models/lm-fit";
import { DEFAULT_BENCH_OPTIONS, Measurement } from "../../lib/bench/run";
import { evaluateTargets } from "../../lib/bench/targets";
import { summarize } from "../../lib/bench/timing";
import { benchCases } from "../../lib/bench/workloads";
import { closeRenderer, findChromium } from "../../lib/viz/renderer";

function ok(caseId: string, engine: EngineName, ms: number, flops: number, note?: string): Measurement {
  return {
    caseId,
    engine,
    status: "ok",
    timing: summarize([ms * 1.2, ms, ms * 0.9]),
    gflops: flops / (ms * 1e6),
    ...(note ? { note } : {}),
  };
}

function sampleReport(): BenchReport {
  const cases = benchCases({ only: ["gemm", "mlp"], gemmSizes: [1024] });
  const f = cases[0].flops;
  const runs: Peak["runs"] = [
    { kind: "avx512-fma", gflops: 332.8, threads: 2 },
    { kind: "avx512-bf16", gflops: 640, threads: 2 },
  ];
  const peak: Peak = {
    gflops: 332.8,
    bf16Gflops: 640,
    runs,
    derivation: "measured (test): avx512-fma 332.8, avx512-bf16 640.0 GFLOP/s on 2 threads",
  };
  const measurements: Measurement[] = [
    ok("gemm-1024", "native", 8, f),
    ok("gemm-1024", "torch", 10, f),
    ok("gemm-1024", "openblas", 7.5, f),
    ok("gemm-1024", "wasm", 80, f),
    { caseId: "gemm-1024", engine: "cpu", status: "skipped", note: "skipped: ~21 s a call" },
    ok("mlp-step", "native", 10, cases[1].flops),
    { caseId: "mlp-step", engine: "torch", status: "unavailable", note: "not installed (torch)" },
    { caseId: "mlp-step", engine: "openblas", status: "unsupported", note: "GEMM only" },
    ok("mlp-step", "wasm", 120, cases[1].flops, "1 of 5 repeats (slow)"),
    ok("mlp-step", "cpu", 900, cases[1].flops, "1 of 5 repeats (slow)"),
  ];
  return {
    schema: "moelab-bench/1",
    startedAt: "2025-01-01T00:00:00.000Z",
    finishedAt: "2025-01-01T00:01:00.000Z",
    mode: "quick",
    suites: ["gemm", "mlp"],
    options: DEFAULT_BENCH_OPTIONS,
    environment: {
      cpu: { model: "Test CPU", cores: 2, logical: 2, clockMHz: 2600, clockSource: "test", simd: ["avx512f"] },
      node: "v20",
      os: "Linux",
      commit: "0123456789abcdef",
      engines: {
        native: { unavailable: null, info: { isa: "avx512", threads: 2 } },
        torch: { unavailable: "not installed (torch)", info: {} },
        openblas: { unavailable: null, info: { openblas: "OpenBLAS 0.3.21" } },
        wasm: { unavailable: null, info: { threads: 1 } },
        cpu: { unavailable: null, info: { threads: 1 } },
      },
    },
    peak,
    cases,
    measurements,
    targets: evaluateTargets(measurements, peak.gflops),
    profile: {
      caseId: "mlp-step",
      backend: "native",
      wallMs: 10,
      kernelMs: 8,
      kernels: [
        { kernel: "BatchMatMul", calls: 9, ms: 6, share: 0.6 },
        { kernel: "Add", calls: 3, ms: 2, share: 0.2 },
      ],
      nativeKernels: ["BatchMatMul"],
      split: { stepMs: 10, gradientsMs: 8, optimizerMs: 2 },
    },
  };
}

describe("bench report", () => {
  it("lists the LM-through-fit cases: tokens/s with spread, cores per side, native/PyTorch", () => {
    const lm = benchCases({ only: ["lm"], lm: [lmFitConfig(DENSE_LM, { steps: 2, batchSize: 4, seqLen: 16 })] });
    const c = lm[0];
    expect(c.tokens).toBe(2 * 4 * 16);
    const at = (engine: EngineName, ms: number[], cores: number): Measurement => ({
      caseId: c.id,
      engine,
      status: "ok",
      timing: summarize(ms),
      gflops: 1,
      cores,
    });
    const base = sampleReport();
    const report: BenchReport = {
      ...base,
      cases: [...base.cases, ...lm],
      measurements: [...base.measurements, at("native", [100, 128, 80], 1.9), at("torch", [200, 160, 256], 1.98)],
    };
    const table = lmTable(report).split("\n");
    // 128 tokens: native median 100 ms → 1280/s (min 80 ms → 1600, max 128 ms → 1000); torch median 200 ms → 640/s.
    expect(table[2]).toBe(`| ${c.label} | 1280 (1000–1600) | 1.90 | 640 (500–800) | 1.98 | 2.00× |`);
    expect(lmTable(base)).toBe("");
    expect(markdownReport(report)).toContain("## Training the lab's models (TransformerLM through fit)");
  });

  const dirs: string[] = [];
  afterAll(async () => {
    await closeRenderer();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("renders the table: median ms (GFLOP/s), native's speedups, % of peak, numbered notes", () => {
    const md = markdownTable(sampleReport());
    const lines = md.split("\n");
    expect(lines[0]).toBe(
      "| workload | GFLOP | tfjs native | PyTorch | OpenBLAS | tfjs wasm | tfjs cpu | native/PyTorch | native/OpenBLAS | native/tfjs cpu | native/tfjs wasm | native % peak |",
    );
    expect(lines[2]).toBe(
      "| GEMM 1024³ | 2.15 | 8.00 (268) | 10.0 (215) | 7.50 (286) | 80.0 (26.8) | skipped [1] | 1.25× | 0.94× | — | 10.0× | 80.7% |",
    );
    expect(lines[3]).toMatch(
      /^\| MLP step 784→512→512→10 B=128 \| 0\.51 \| 10\.0 \(51\.4\) \| not installed \[2\] \| n\/a \| 120 \(4\.28\) \[3\] \| 900 \(0\.57\) \[3\] \| — \| — \| 90\.0× \| 12\.0× \| 15\.4% \|$/,
    );
    expect(md).toContain("[1] skipped: ~21 s a call");
    expect(md).toContain("[2] not installed (torch)");
    expect(md).toContain("[3] 1 of 5 repeats (slow)");
  });

  it("writes a full markdown report with targets, peak, profile, timings and environment", () => {
    const md = markdownReport(sampleReport());
    expect(md).toContain("## Targets");
    expect(md).toContain("- PASS  GEMM 1024³: native ≥ 1.0× PyTorch — 1.25×");
    expect(md).toContain("- FAIL  GEMM 1024³: native ≥ 90% of measured peak — 80.7%");
    expect(md).toContain("- PASS  MLP train step: native ≥ 50× tfjs cpu — 90.00×");
    expect(md).toContain("measured (test): avx512-fma 332.8, avx512-bf16 640.0 GFLOP/s on 2 threads");
    expect(md).toContain("step 10.0 ms, loss and gradients alone 8.00 ms: Adam update ≈ 2.00 ms (20%).");
    expect(md).toContain("| BatchMatMul | 9 | 6.00 | 60.0% | C++ |");
    expect(md).toContain("| Add | 3 | 2.00 | 20.0% | tfjs cpu code |");
    expect(md).toContain("| GEMM 1024³ | tfjs native | 8.00 | 7.20 | 9.60 | 3 | 268 |");
    expect(md).toContain("- PyTorch: not installed (torch)");
    expect(md).toContain("- tfjs native: isa avx512, threads 2");
  });

  it("summarises a profile, lumping the tail", () => {
    const p = sampleReport().profile!;
    expect(profileTable(p, 1)).toContain("| 1 others | 3 | 2.00 | 20.0% | |\n\nOthers: Add.");
    expect(profileTable({ ...p, nativeKernels: null }, 5)).not.toContain("C++");
    expect(profileTable({ ...p, split: { stepMs: 10, gradientsMs: 10.5, optimizerMs: -0.5 } })).toContain(
      "the Adam update is within the noise.",
    );
  });

  it("charts GFLOP/s on a log axis, one group per engine that measured something", () => {
    const fig = benchFigure(sampleReport());
    expect(fig.data.map((t) => t.name)).toEqual(["tfjs native", "PyTorch", "OpenBLAS", "tfjs wasm", "tfjs cpu"]);
    expect(fig.data[4].y).toEqual([0, expect.closeTo(0.57, 2)]);
    expect(fig.layout.yaxis?.type).toBe("log");
  });

  it("writes bench.json (round-trips), bench.md and bench.png", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "moelab-bench-report-"));
    dirs.push(dir);
    const report = sampleReport();
    const written = await writeReport(path.join(dir, "out"), report);
    expect(JSON.parse(await readFile(path.join(dir, "out", "bench.json"), "utf8"))).toEqual(
      JSON.parse(JSON.stringify(report)),
    );
    expect(await readFile(path.join(dir, "out", "bench.md"), "utf8")).toBe(markdownReport(report));
    if ("path" in findChromium()) {
      expect(written).toContain(path.join(dir, "out", "bench.png"));
      const png = await readFile(path.join(dir, "out", "bench.png"));
      expect([...png.subarray(1, 4)].map((b) => String.fromCharCode(b)).join("")).toBe("PNG");
    } else {
      expect(existsSync(path.join(dir, "out", "bench.png"))).toBe(false);
    }
  });
});
