// Jupyter conformance of the MoE Lab kernel: runs test_moelab_kernel.py (jupyter_kernel_test's KernelTests plus
// protocol checks) with Debian's Python against the built kernel, and fails unless every test passes.
// Needs dist/ (npm test builds it first; by hand: npx tsc -p tsconfig.json) and python3-jupyter-kernel-test.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");
const PYTHON = "/usr/bin/python3";
const SUITE = "test_moelab_kernel";
const LIMIT_MS = 240_000;

/** Upstream tests that do not apply: no pager payloads (no `?` help) and no clear_output API in the lab. */
const NOT_APPLICABLE = ["test_pager"]; // the kernel has no pager (inspect answers inline)

interface UnittestRun {
  status: number | null;
  output: string;
  /** test name ("Class.test_x") -> "ok", "skipped ...", "FAIL", "ERROR", ... */
  results: Map<string, string>;
  ran: number;
}

/** Reads `python -m unittest -v` output: one "name (module.Class.name) ... outcome" line per test. */
function parseUnittest(status: number | null, output: string): UnittestRun {
  const results = new Map<string, string>();
  for (const m of output.matchAll(/^(test\w*) \([\w.]*?(\w+)\.\1\)(?:\n[^\n]*?)?\s\.\.\. (.+)$/gm)) results.set(`${m[2]}.${m[1]}`, m[3].trim());
  const ran = Number(/^Ran (\d+) tests? in /m.exec(output)?.[1] ?? NaN);
  return { status, output, results, ran };
}

function runSuite(): Promise<UnittestRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, JUPYTER_PATH: ROOT, PYDEVD_DISABLE_FILE_VALIDATION: "1", PYTHONDONTWRITEBYTECODE: "1" };
  delete env.MOELAB_DISPLAY;
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-m", "unittest", "-v", SUITE], { cwd: __dirname, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    // On timeout the kernels the suite started notice their parent is gone and exit by themselves.
    const timer = setTimeout(() => child.kill("SIGTERM"), LIMIT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${PYTHON} (install Debian's python3-jupyter-kernel-test: npm run setup): ${e.message}`));
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve(parseUnittest(status, output));
    });
  });
}

describe("MoE Lab Jupyter kernel", () => {
  it("passes every applicable jupyter_kernel_test test and the protocol checks", async () => {
    const kernel = path.join(ROOT, "dist", "lib", "jupyter", "main.js");
    expect(fs.existsSync(kernel), `${kernel} is missing: build first (npx tsc -p tsconfig.json)`).toBe(true);
    const run = await runSuite();
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
    console.log(`jupyter_kernel_test: ${conformance.length - skipped.length} of ${conformance.length} ran and passed (${skipped.join(", ")} not applicable); protocol checks: ${outcomes.length - conformance.length} passed`);
  }, LIMIT_MS + 30_000);
});
