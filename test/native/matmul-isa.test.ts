// Reruns the native matmul and MoE kernel parity suites (matmul.test.ts, moe-grouped.test.ts, moe-route.test.ts) in
// separate processes with MOELAB_ISA=avx2 and =scalar, so the AVX2 and portable kernels are tested on an AVX-512 machine
// (the ISA is fixed when the addon loads).
import { describe, it } from "vitest";
import { LOWER_ISAS, runSuitesWithIsa } from "../helpers/isa-rerun";

describe.each(LOWER_ISAS)("native matmul and MoE kernels with MOELAB_ISA=%s", (isa) => {
  it("passes the parity suite", () => {
    runSuitesWithIsa(isa, [
      "test/native/matmul.test.ts",
      "test/native/moe-grouped.test.ts",
      "test/native/moe-route.test.ts",
    ]);
  });
});
