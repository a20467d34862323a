// Reruns the quant kernel parity suite (native.test.ts) in separate processes with MOELAB_ISA=avx2 (AVX-VNNI int8
// GEMM, AVX2 loops) and =scalar, so every dispatch path is tested on an AVX-512 machine (the ISA is fixed at load).
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import { LOWER_ISAS, runSuitesWithIsa } from "../helpers/isa-rerun";

/** Whether this CPU has AVX-VNNI (the VEX-encoded int8 dot product): an AVX-512 CPU may have only AVX512-VNNI (AMD Zen 4). */
const avxVnni = /\bavx_vnni\b/.test(fs.readFileSync("/proc/cpuinfo", "utf8"));

describe.each(LOWER_ISAS)("native quant kernels with MOELAB_ISA=%s", (isa) => {
  it("pass the parity suite", () => {
    const output = runSuitesWithIsa(isa, ["test/quant/native.test.ts"]);
    // Under MOELAB_ISA=avx2 the int8 GEMM uses AVX-VNNI where the CPU has it, else its scalar loop.
    expect(output).toContain(isa === "avx2" && avxVnni ? "int8 GEMM: avx-vnni" : "int8 GEMM: scalar");
  });
});
