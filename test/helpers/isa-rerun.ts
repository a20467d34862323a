// Reruns vitest suites in a child process with MOELAB_ISA capped (avx2, scalar): the addon picks its instruction set
// once, when it loads, so the AVX2 and portable paths of a kernel can only be tested on an AVX-512 machine this way.
import { expect } from "vitest";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");
const vitest = path.join(path.dirname(require.resolve("vitest/package.json")), "vitest.mjs");

/** The ISAs below AVX-512 that every native kernel's suite is rerun on. */
export const LOWER_ISAS = ["avx2", "scalar"] as const;

/**
 * Runs `files` (paths from the repository root) with MOELAB_ISA=`isa`, expects every test to pass, and returns the
 * child's output without colour codes (for checks of the path the kernel reported).
 */
export function runSuitesWithIsa(isa: string, files: readonly string[], timeoutMs = 110_000): string {
  const run = spawnSync(process.execPath, [vitest, "run", "--reporter=verbose", ...files], {
    cwd: root,
    env: { ...process.env, MOELAB_ISA: isa, FORCE_COLOR: "0" },
    encoding: "utf8",
    timeout: timeoutMs,
  });
  const output = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
  expect(run.status, output.slice(-4000)).toBe(0);
  expect(output).toMatch(/Tests\s+\d+ passed/);
  return output;
}
