// Benchmark engine for Debian's OpenBLAS: compiles native/bench/gemm_openblas.c (cblas_sgemm) into a temp folder
// and runs it per GEMM case; the helper times its own repeats and prints JSON.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Engine, EngineSamples, RepeatPlan, debianPackageVersion, firstLine } from "./engine";
import { openblasSource } from "./paths";
import { withDefaults } from "../check";
import type { BenchCase, GemmShape } from "./workloads";

const run = promisify(execFile);

/** How the helper is built and run. */
export interface OpenblasConfig {
  /** C compiler. Default "gcc". */
  compiler: string;
  /** Compiler flags before the source. Default ["-O2"]. */
  cflags: readonly string[];
  /** Link flags after the source. Default ["-lopenblas"] (libopenblas-dev). */
  libs: readonly string[];
  /** openblas_set_num_threads(threads). Default 1 (the bench passes the native pool size). */
  threads: number;
  /** Longest a helper run may take, ms. Default 600 000. */
  timeoutMs: number;
}

export const DEFAULT_OPENBLAS_CONFIG: Readonly<OpenblasConfig> = Object.freeze({
  compiler: "gcc",
  cflags: Object.freeze(["-O2"]),
  libs: Object.freeze(["-lopenblas"]),
  threads: 1,
  timeoutMs: 600_000,
});

/** What the helper's bench mode prints. */
export interface OpenblasRun {
  samples_ms: number[];
  threads: number;
  /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64". */
  config: string;
}

/** Compiles the helper into `dir`; returns the executable's path. Throws with the compiler's first error line. */
export async function compileOpenblasHelper(dir: string, config: Partial<OpenblasConfig> = {}): Promise<string> {
  const c = withDefaults("compileOpenblasHelper(dir, config)", DEFAULT_OPENBLAS_CONFIG, config);
  const exe = path.join(dir, "gemm_openblas");
  try {
    await run(c.compiler, [...c.cflags, openblasSource(), "-o", exe, ...c.libs], { timeout: c.timeoutMs });
  } catch (e) {
    const err = e as { code?: string; stderr?: string };
    if (err.code === "ENOENT") throw new Error(`${c.compiler} not found`);
    const line = (err.stderr ?? "").split("\n").find((l) => /error/i.test(l)) ?? firstLine(e);
    throw new Error(`${c.compiler} failed: ${line.trim()}`);
  }
  return exe;
}

function flag(b: boolean): string {
  return b ? "1" : "0";
}

/** Runs the helper's check mode: C (m×n, row-major) of the fixed fill documented in gemm_openblas.c, one thread. */
export async function openblasCheck(exe: string, s: Omit<GemmShape, "batch">): Promise<number[]> {
  const { stdout } = await run(exe, [
    "check",
    String(s.m),
    String(s.n),
    String(s.k),
    flag(s.transposeA),
    flag(s.transposeB),
  ]);
  return (JSON.parse(stdout) as { c: number[] }).c;
}

/** Runs the helper's bench mode on `s`. */
export async function openblasBench(
  exe: string,
  s: GemmShape,
  plan: Pick<RepeatPlan, "warmup" | "warmupMs" | "repeats">,
  config: Partial<OpenblasConfig> = {},
): Promise<OpenblasRun> {
  const c = withDefaults("openblasBench(exe, s, plan, config)", DEFAULT_OPENBLAS_CONFIG, config);
  const args = [c.threads, plan.warmup, plan.warmupMs, plan.repeats, s.batch, s.m, s.n, s.k].map(String);
  const { stdout } = await run(exe, ["bench", ...args, flag(s.transposeA), flag(s.transposeB)], {
    timeout: c.timeoutMs,
  });
  return JSON.parse(stdout) as OpenblasRun;
}

/** OpenBLAS as a benchmark engine (GEMM cases only; batched GEMMs loop cblas_sgemm over the batch). */
export function openblasEngine(config: Partial<OpenblasConfig> = {}): Engine {
  let dir: string | null = null;
  let exe: string | null = null;
  let settings: Record<string, string | number> = {};
  return {
    name: "openblas",
    async open() {
      dir = await mkdtemp(path.join(os.tmpdir(), "moelab-bench-"));
      try {
        exe = await compileOpenblasHelper(dir, config);
        const probe = await openblasBench(
          exe,
          { batch: 1, m: 8, n: 8, k: 8, transposeA: false, transposeB: false },
          { warmup: 0, warmupMs: 0, repeats: 1 },
          config,
        );
        const deb = debianPackageVersion("libopenblas0");
        settings = { openblas: probe.config + (deb ? ` (Debian libopenblas0 ${deb})` : ""), threads: probe.threads };
        return null;
      } catch (e) {
        await this.close();
        return `not installed (libopenblas-dev: ${firstLine(e)})`;
      }
    },
    info: () => ({ ...settings }),
    unsupported: (c: BenchCase) => (c.workload.kind === "gemm" ? null : "GEMM only"),
    async measure(c: BenchCase, plan: RepeatPlan): Promise<EngineSamples> {
      if (!exe) throw new Error("openblasEngine.measure: open() did not succeed");
      if (c.workload.kind !== "gemm") throw new Error(`openblasEngine.measure: case ${c.id} is not a GEMM`);
      const r = await openblasBench(exe, c.workload.shape, plan, config);
      return {
        samples: r.samples_ms,
        note: c.workload.shape.batch > 1 ? "cblas_sgemm looped over the batch" : undefined,
      };
    },
    async close() {
      if (dir) await rm(dir, { recursive: true, force: true });
      dir = null;
      exe = null;
    },
  };
}
