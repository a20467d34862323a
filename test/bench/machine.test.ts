// Machine facts and the nominal peak: /proc/cpuinfo and lscpu parsing, and the peak formula.
import { describe, expect, it } from "vitest";
import { cpuFacts, nominalPeak, parseCpuinfo, parseLscpu } from "../../lib/bench/machine";

const CPUINFO = `processor\t: 0
model name\t: Intel(R) Xeon(R) Processor
cpu MHz\t\t: 2599.998
flags\t\t: fpu avx2 fma avx512f avx512bw

processor\t: 1
model name\t: Intel(R) Xeon(R) Processor
cpu MHz\t\t: 2400.000
flags\t\t: fpu avx2 fma avx512f avx512bw
`;

describe("machine", () => {
  it("parses /proc/cpuinfo: model, processors, highest clock, flags", () => {
    expect(parseCpuinfo(CPUINFO)).toEqual({ model: "Intel(R) Xeon(R) Processor", logical: 2, mhz: 2599.998, flags: ["fpu", "avx2", "fma", "avx512f", "avx512bw"] });
    expect(parseCpuinfo("")).toEqual({ model: "unknown", logical: 0, mhz: null, flags: [] });
  });

  it("parses lscpu: max clock and physical cores", () => {
    expect(parseLscpu("Core(s) per socket:  4\nSocket(s):           2\nCPU max MHz:         3800.0000\n")).toEqual({ maxMHz: 3800, cores: 8 });
    expect(parseLscpu("Core(s) per socket: 2\n")).toEqual({ maxMHz: null, cores: null });
  });

  it("derives the peak: cores × FMA units × lanes × 2 × clock", () => {
    const p = nominalPeak({ cores: 2, clockMHz: 2600, clockSource: "test", flags: ["avx512f"] });
    expect(p.gflops).toBeCloseTo(332.8, 9);
    expect(p.derivation).toBe("2 cores × 2 FMA units × 16 fp32 lanes × 2 flops × 2.600 GHz (test) = 332.8 GFLOP/s");
    expect(nominalPeak({ cores: 4, clockMHz: 3000, clockSource: "t", flags: ["avx2"] }).gflops).toBeCloseTo(4 * 2 * 8 * 2 * 3, 9);
  });

  it("reads this machine", () => {
    const cpu = cpuFacts();
    expect(cpu.cores).toBeGreaterThanOrEqual(1);
    expect(cpu.clockMHz).toBeGreaterThan(0);
    expect(cpu.clockSource).toMatch(/\S/);
  });
});
