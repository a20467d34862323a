// Reruns the fused causal attention, RoPE, residual + RMSNorm and slot-attention suites in child processes with
// MOELAB_ISA=avx2 and =scalar, so the AVX2 and portable builds of native/src/attention_kernels.h, rotary_kernels.h,
// slot_attention_kernels.h and fused_kernels.h add_rms_norm_rows are tested on an AVX-512 machine.
import { describe, it } from "vitest";
import { LOWER_ISAS, runSuitesWithIsa } from "../helpers/isa-rerun";

describe.each(LOWER_ISAS)("fused attention ops with MOELAB_ISA=%s", (isa) => {
  it("pass the causalAttention, rotary, addRmsNorm and slotAttention suites", () => {
    runSuitesWithIsa(isa, [
      "test/ops/causal-attention.test.ts",
      "test/ops/rotary.test.ts",
      "test/ops/add-rms-norm.test.ts",
      "test/ops/slot-attention.test.ts",
    ]);
  });
});
