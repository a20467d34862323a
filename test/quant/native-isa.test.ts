// Reruns the quant kernel parity suite (native.test.ts) in separate processes with MOELAB_ISA=avx2 (AVX-VNNI int8
// GEMM, AVX2 loops) and =scalar, so every dispatch path is tested on an AVX-512 machine (the ISA is fixed at load).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");
const vitest = path.join(path.dirname(require.resolve("vitest/package.json")), "vitest.mjs");
/** Whether this CPU has AVX-VNNI (the VEX-encoded int8 dot product): an AVX-512 CPU may have only AVX512-VNNI (AMD Zen 4). */
const avxVnni = /\bavx_vnni\b/.test(fs.readFileSync("/proc/cpuinfo", "utf8"));

describe.each(["avx2", "scalar"])("native quant kernels with MOELAB_ISA=%s", (isa) => {
  it("pass the parity suite", () => {
    const run = spawnSync(process.execPath, [vitest, "run", "--reporter=verbose", "test/quant/native.test.ts"], {
      cwd: root,
      env: { ...process.env, MOELAB_ISA: isa, FORCE_COLOR: "0" },
      encoding: "utf8",
      timeout: 110_000,
    });
    const output = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
    expect(run.status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    // Under MOELAB_ISA=avx2 the int8 GEMM uses AVX-VNNI where the CPU has it, else its scalar loop.
    expect(output).toContain(isa === "avx2" && avxVnni ? "int8 GEMM: avx-vnni" : "int8 GEMM: scalar");
  });
});
