// Reruns the dequant-matmul suite (dequant-matmul.test.ts) in separate processes with MOELAB_ISA=avx2 and =scalar, so
// the fused kernel's AVX2 and scalar paths are checked against the composite oracle on an AVX-512 machine (the ISA
// is fixed when the addon loads). No VNNI is involved: the kernel decodes to fp32 and uses FMA.
import { describe, expect, it } from "vitest";
import { LOWER_ISAS, runSuitesWithIsa } from "../helpers/isa-rerun";

describe.each(LOWER_ISAS)("dequant GEMM with MOELAB_ISA=%s", (isa) => {
  it("passes the dequant-matmul suite on that path", () => {
    const output = runSuitesWithIsa(isa, ["test/quant/dequant-matmul.test.ts"], 170_000);
    expect(output).toContain(`dequant GEMM: ${isa}`);
  }, 180_000);
});
