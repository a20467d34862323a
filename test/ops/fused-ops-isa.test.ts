// Reruns the fused causal attention, RoPE and slot-attention suites (causal-attention.test.ts, rotary.test.ts, add-rms-norm.test.ts, slot-attention.test.ts) in child processes with MOELAB_ISA=avx2 and
// =scalar, so the AVX2 and portable builds of native/src/attention_kernels.h, rotary_kernels.h, slot_attention_kernels.h and fused_kernels.h add_rms_norm_rows are tested on an AVX-512 machine.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");
const vitest = path.join(path.dirname(require.resolve("vitest/package.json")), "vitest.mjs");

describe.each(["avx2", "scalar"])("causal attention with MOELAB_ISA=%s", (isa) => {
  it("passes the causalAttention and rotary suites", () => {
    const run = spawnSync(
      process.execPath,
      [
        vitest,
        "run",
        "test/ops/causal-attention.test.ts",
        "test/ops/rotary.test.ts",
        "test/ops/add-rms-norm.test.ts",
        "test/ops/slot-attention.test.ts",
      ],
      {
        cwd: root,
        env: { ...process.env, MOELAB_ISA: isa, FORCE_COLOR: "0" },
        encoding: "utf8",
        timeout: 110_000,
      },
    );
    const output = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
    expect(run.status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/Tests\s+\d+ passed/);
  });
});
