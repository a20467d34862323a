// Reruns the native matmul and MoE kernel parity suites (matmul.test.ts, moe-grouped.test.ts, moe-route.test.ts) in
// separate processes with MOELAB_ISA=avx2 and =scalar, so the AVX2 and portable kernels are tested on an AVX-512 machine
// (the ISA is fixed when the addon loads).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");
const vitest = path.join(path.dirname(require.resolve("vitest/package.json")), "vitest.mjs");

describe.each(["avx2", "scalar"])("native matmul and MoE kernels with MOELAB_ISA=%s", (isa) => {
  it("passes the parity suite", () => {
    const run = spawnSync(
      process.execPath,
      [vitest, "run", "test/native/matmul.test.ts", "test/native/moe-grouped.test.ts", "test/native/moe-route.test.ts"],
      {
        cwd: root,
        env: { ...process.env, MOELAB_ISA: isa, FORCE_COLOR: "0" },
        encoding: "utf8",
        timeout: 110_000,
      },
    );
    const output = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, ""); // without colour codes
    expect(run.status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/Tests\s+\d+ passed/);
  });
});
