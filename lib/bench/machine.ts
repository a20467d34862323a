// The machine a benchmark ran on: CPU model, cores, clock, and its MEASURED peak: register-only FMA (and bf16 dot /
// AMX) throughput loops on every pool thread (native/src/peak.cc). A peak derived from the clock and an assumed FMA
// count was exceeded by our own GEMM on an AMD EPYC (486 of "332" GFLOP/s), so the lab measures it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as os from "node:os";
import { nativeAddon, nativeUnavailableReason } from "../native/addon";

/** What /proc/cpuinfo (or lscpu) tells about the CPU. */
export interface CpuFacts {
  /** "model name" of the first processor. */
  model: string;
  /** Physical cores (lscpu "Core(s) per socket" × "Socket(s)"; else logical processors). */
  cores: number;
  /** Logical processors. */
  logical: number;
  /** Clock in MHz the OS reports (information only: the peak is measured). */
  clockMHz: number;
  /** Where the clock came from, e.g. `lscpu "CPU max MHz"` or `/proc/cpuinfo "cpu MHz"`. */
  clockSource: string;
  /** CPU flags (avx512f, fma, …). */
  flags: string[];
}

/** Parses /proc/cpuinfo text: model, logical processors, highest "cpu MHz", flags. */
export function parseCpuinfo(text: string): { model: string; logical: number; mhz: number | null; flags: string[] } {
  const field = (name: string) =>
    text
      .split("\n")
      .filter((l) => l.split(":")[0].trim() === name)
      .map((l) => l.slice(l.indexOf(":") + 1).trim());
  const mhz = field("cpu MHz")
    .map(Number)
    .filter((v) => v > 0);
  return {
    model: field("model name")[0] ?? "unknown",
    logical: field("processor").length,
    mhz: mhz.length ? Math.max(...mhz) : null,
    flags: (field("flags")[0] ?? "").split(/\s+/).filter(Boolean),
  };
}

/** Parses `lscpu` text: "CPU max MHz" and physical cores (null where absent). */
export function parseLscpu(text: string): { maxMHz: number | null; cores: number | null } {
  const get = (name: string) => {
    const line = text.split("\n").find((l) => l.split(":")[0].trim() === name);
    const v = line ? Number(line.slice(line.indexOf(":") + 1).trim()) : NaN;
    return Number.isFinite(v) && v > 0 ? v : null;
  };
  const perSocket = get("Core(s) per socket");
  const sockets = get("Socket(s)");
  return { maxMHz: get("CPU max MHz"), cores: perSocket && sockets ? perSocket * sockets : null };
}

/** Reads the CPU facts of this machine (Linux /proc/cpuinfo and lscpu when present; os.cpus() otherwise). */
export function cpuFacts(): CpuFacts {
  let info: ReturnType<typeof parseCpuinfo> = {
    model: os.cpus()[0]?.model ?? "unknown",
    logical: os.cpus().length,
    mhz: null,
    flags: [],
  };
  try {
    info = parseCpuinfo(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    // not Linux: os.cpus() above
  }
  let ls: ReturnType<typeof parseLscpu> = { maxMHz: null, cores: null };
  try {
    ls = parseLscpu(execFileSync("lscpu", { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } }));
  } catch {
    // no lscpu
  }
  const [clockMHz, clockSource] =
    ls.maxMHz !== null
      ? [ls.maxMHz, 'lscpu "CPU max MHz"']
      : info.mhz !== null
        ? [info.mhz, '/proc/cpuinfo "cpu MHz"']
        : [os.cpus()[0]?.speed ?? 0, "os.cpus() speed"];
  return {
    model: info.model,
    cores: ls.cores ?? info.logical,
    logical: info.logical,
    clockMHz,
    clockSource,
    flags: info.flags,
  };
}

/** An instruction kind the peak loops measure (native/src/peak.cc). */
export type PeakKind = "avx512-fma" | "avx2-fma" | "avx512-bf16" | "amx-bf16";

/** One measured throughput: the kind's register-only loop on every pool thread at once. */
export interface PeakRun {
  kind: PeakKind;
  /** Best GFLOP/s of the timed runs. */
  gflops: number;
  threads: number;
}

/** The machine's measured peak: fp32 (the best FMA kind) and bf16 (the best bf16 kind, null without one). */
export interface Peak {
  /** Best fp32 GFLOP/s (AVX-512 or AVX2 FMA loop); the reference of every "% of peak". */
  gflops: number;
  /** Best bf16 GFLOP/s (AVX512-BF16 dot products or AMX tiles), null where the CPU has neither. */
  bf16Gflops: number | null;
  /** Every kind this CPU ran. */
  runs: PeakRun[];
  /** One line for the report, e.g. "measured: avx512-fma 330.1, avx2-fma 165.2 GFLOP/s on 2 threads". */
  derivation: string;
}

/** How the peak is measured. */
export interface PeakOptions {
  /** Wall time of one timed run, in seconds (the trip count is scaled to it from a calibration run). Default 0.2. */
  seconds: number;
  /** Timed runs per kind; the best counts (a peak is a maximum). Default 5. */
  repeats: number;
}

export const DEFAULT_PEAK_OPTIONS: Readonly<PeakOptions> = Object.freeze({ seconds: 0.2, repeats: 5 });

interface PeakAddon {
  peakKinds(): PeakKind[];
  peakFlops(kind: PeakKind, trips: number): { flops: number; seconds: number; threads: number };
}

/**
 * Measures the peak with the native addon's register-only multiply-add loops (native/src/peak.cc) on all pool threads:
 * per kind, a calibration run sizes the trip count to `seconds`, then the best of `repeats` runs counts. Throws when
 * the native addon is not loaded (the peak of the native backend's machine needs its kernels).
 */
export function measuredPeak(options: Partial<PeakOptions> = {}): Peak {
  const o: PeakOptions = { ...DEFAULT_PEAK_OPTIONS, ...options };
  if (!(o.seconds > 0)) throw new Error(`measuredPeak(options.seconds): expected seconds > 0, got ${o.seconds}`);
  if (!Number.isInteger(o.repeats) || o.repeats < 1)
    throw new Error(`measuredPeak(options.repeats): expected an integer ≥ 1, got ${o.repeats}`);
  const addon = nativeAddon() as unknown as PeakAddon | null;
  if (!addon) throw new Error(`measuredPeak: ${nativeUnavailableReason()}`);
  const runs: PeakRun[] = addon.peakKinds().map((kind) => {
    let trips = 1e5;
    for (let r = addon.peakFlops(kind, trips); r.seconds < o.seconds / 4; r = addon.peakFlops(kind, trips)) trips *= 4; // calibrate
    const calib = addon.peakFlops(kind, trips);
    trips = Math.max(1, Math.round((trips * o.seconds) / calib.seconds));
    let best = 0;
    let threads = calib.threads;
    for (let i = 0; i < o.repeats; i++) {
      const r = addon.peakFlops(kind, trips);
      best = Math.max(best, r.flops / r.seconds / 1e9);
      threads = r.threads;
    }
    return { kind, gflops: best, threads };
  });
  const best = (kinds: PeakKind[]) => Math.max(0, ...runs.filter((r) => kinds.includes(r.kind)).map((r) => r.gflops));
  const gflops = best(["avx512-fma", "avx2-fma"]);
  const bf16 = best(["avx512-bf16", "amx-bf16"]);
  const threads = runs[0]?.threads ?? 0;
  const derivation = `measured (register-only loops, best of ${o.repeats}): ${runs.map((r) => `${r.kind} ${r.gflops.toFixed(1)}`).join(", ")} GFLOP/s on ${threads} threads`;
  return { gflops, bf16Gflops: bf16 > 0 ? bf16 : null, runs, derivation };
}
