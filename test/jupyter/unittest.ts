// Runs a Python unittest module of this folder (a jupyter_kernel_test suite) with Debian's Python and reads its verbose
// output: one outcome per test. Used by the conformance tests of both kernels (kernel.test.ts, deno-kernel.test.ts).
import { spawn } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
const PYTHON = "/usr/bin/python3";

export interface UnittestRun {
  status: number | null;
  output: string;
  /** test name ("Class.test_x") -> "ok", "skipped ...", "FAIL", "ERROR", ... */
  results: Map<string, string>;
  ran: number;
}

/**
 * Reads `python -m unittest -v` output: one "name (module.Class.name) ... outcome" line per test (a docstring line may
 * come between). A test with subtests ends its line with "... " and lists them indented below: it failed when one did.
 */
function parseUnittest(status: number | null, output: string): UnittestRun {
  const results = new Map<string, string>();
  for (const m of output.matchAll(
    /^(test\w*) \([\w.]*?(\w+)\.\1\)(?:\n[^\n]*?)?\s\.\.\. ?(.*)\n((?: {2}\S[^\n]*\n)*)/gm,
  )) {
    const subtests = [...m[4].matchAll(/ \.\.\. (.+)$/gm)].map((s) => s[1].trim());
    const outcome = m[3].trim() || subtests.find((s) => s !== "ok" && !s.startsWith("skipped")) || "ok";
    results.set(`${m[2]}.${m[1]}`, outcome);
  }
  const ran = Number(/^Ran (\d+) tests? in /m.exec(output)?.[1] ?? NaN);
  return { status, output, results, ran };
}

/** Runs `python -m unittest -v <suite>` here, killing it after `limitMs`. */
export function runSuite(suite: string, limitMs: number): Promise<UnittestRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: ROOT,
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  delete env.MOELAB_DISPLAY;
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-m", "unittest", "-v", suite], {
      cwd: __dirname,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    // On timeout the kernels the suite started notice their parent is gone and exit by themselves.
    const timer = setTimeout(() => child.kill("SIGTERM"), limitMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(
        new Error(`cannot run ${PYTHON} (install Debian's python3-jupyter-kernel-test: npm run setup): ${e.message}`),
      );
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve(parseUnittest(status, output));
    });
  });
}
