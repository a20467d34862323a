// Jupyter conformance of the MoE Lab kernel: runs test_moelab_kernel.py (jupyter_kernel_test's KernelTests plus
// protocol checks) with Debian's Python against the built kernel, and fails unless every test passes.
// Needs dist/ (npm test builds it first; by hand: npx tsc -p tsconfig.json) and python3-jupyter-kernel-test.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runSuite } from "./unittest";

const SUITE = "test_moelab_kernel";
const LIMIT_MS = 240_000;

/** Upstream tests that do not apply: no pager payloads (no `?` help) and no clear_output API in the lab. */
const NOT_APPLICABLE = ["test_pager"]; // the kernel has no pager (inspect answers inline)

describe("MoE Lab Jupyter kernel", () => {
  it(
    "passes every applicable jupyter_kernel_test test and the protocol checks",
    async () => {
      const kernel = path.join(ROOT, "dist", "lib", "jupyter", "main.js");
      expect(fs.existsSync(kernel), `${kernel} is missing: build first (npx tsc -p tsconfig.json)`).toBe(true);
      const run = await runSuite(SUITE, LIMIT_MS);
      const report = `\n${run.output}`;
      const outcomes = [...run.results.entries()];
      const skipped = outcomes.filter(([, r]) => r.startsWith("skipped")).map(([name]) => name.split(".")[1]);
      const failed = outcomes.filter(([, r]) => r !== "ok" && !r.startsWith("skipped"));
      expect(run.ran, `every test should be listed ${report}`).toBe(outcomes.length);
      expect(failed, report).toEqual([]);
      expect(skipped.sort(), report).toEqual(NOT_APPLICABLE);
      expect(run.status, report).toBe(0);
      const conformance = outcomes.filter(([name]) => name.startsWith("MoeLabKernelTests."));
      expect(conformance.length - skipped.length, report).toBeGreaterThanOrEqual(11);
      console.log(
        `jupyter_kernel_test: ${conformance.length - skipped.length} of ${conformance.length} ran and passed (${skipped.join(", ")} not applicable); protocol checks: ${outcomes.length - conformance.length} passed`,
      );
    },
    LIMIT_MS + 30_000,
  );
});
