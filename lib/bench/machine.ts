// The machine a benchmark ran on: CPU model, cores, clock, and the nominal FP32 peak derived from them.
// Peak = cores × FMA units per core × fp32 lanes per vector × 2 flops per FMA × clock (Intel's usual derivation).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as os from "node:os";

/** What /proc/cpuinfo (or lscpu) tells about the CPU. */
export interface CpuFacts {
  /** "model name" of the first processor. */
  model: string;
  /** Physical cores (lscpu "Core(s) per socket" × "Socket(s)"; else logical processors). */
  cores: number;
  /** Logical processors. */
  logical: number;
  /** Clock in MHz used for the peak. */
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
  const mhz = field("cpu MHz").map(Number).filter((v) => v > 0);
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
  let info: ReturnType<typeof parseCpuinfo> = { model: os.cpus()[0]?.model ?? "unknown", logical: os.cpus().length, mhz: null, flags: [] };
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
  return { model: info.model, cores: ls.cores ?? info.logical, logical: info.logical, clockMHz, clockSource, flags: info.flags };
}

/** The nominal FP32 peak and its factors. */
export interface Peak {
  cores: number;
  /** FMA units per core (2 on Sapphire Rapids Xeons: ports 0 and 5; not readable from the OS, an assumption). */
  fmaUnits: number;
  /** fp32 lanes per vector: 16 with AVX-512, 8 with AVX2. */
  lanes: number;
  /** Clock in GHz. */
  clockGHz: number;
  clockSource: string;
  /** cores × fmaUnits × lanes × 2 × clockGHz. */
  gflops: number;
  /** The formula with the numbers, for the report. */
  derivation: string;
}

/** FMA units per core assumed for the peak (2 on server cores with AVX-512: Skylake-SP Gold/Platinum and later). */
export const FMA_UNITS = 2;

/** The nominal peak of `cpu`: AVX-512 lanes when the CPU has avx512f, else AVX2's. */
export function nominalPeak(cpu: Pick<CpuFacts, "cores" | "clockMHz" | "clockSource" | "flags">, fmaUnits = FMA_UNITS): Peak {
  const lanes = cpu.flags.includes("avx512f") ? 16 : 8;
  const clockGHz = cpu.clockMHz / 1000;
  const gflops = cpu.cores * fmaUnits * lanes * 2 * clockGHz;
  const derivation =
    `${cpu.cores} cores × ${fmaUnits} FMA units × ${lanes} fp32 lanes × 2 flops × ${clockGHz.toFixed(3)} GHz ` +
    `(${cpu.clockSource}) = ${gflops.toFixed(1)} GFLOP/s`;
  return { cores: cpu.cores, fmaUnits, lanes, clockGHz, clockSource: cpu.clockSource, gflops, derivation };
}
