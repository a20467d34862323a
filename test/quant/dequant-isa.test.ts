// Reruns the dequant-matmul suite (dequant-matmul.test.ts) in separate processes with MOELAB_ISA=avx2 and =scalar, so
// the fused kernel's AVX2 and scalar paths are checked against the composite oracle on an AVX-512 machine (the ISA
// is fixed when the addon loads). No VNNI is involved: the kernel decodes to fp32 and uses FMA.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");
const vitest = path.join(path.dirname(require.resolve("vitest/package.json")), "vitest.mjs");

describe.each(["avx2", "scalar"])("dequant GEMM with MOELAB_ISA=%s", (isa) => {
  it("passes the dequant-matmul suite on that path", () => {
    const run = spawnSync(
      process.execPath,
      [vitest, "run", "--reporter=verbose", "test/quant/dequant-matmul.test.ts"],
      {
        cwd: root,
        env: { ...process.env, MOELAB_ISA: isa, FORCE_COLOR: "0" },
        encoding: "utf8",
        timeout: 170_000,
      },
    );
    const output = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
    expect(run.status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(output).toContain(`dequant GEMM: ${isa}`);
  }, 180_000);
});
