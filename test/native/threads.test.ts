// MOELAB_THREADS out of range: the addon clamps it to kMaxThreads instead of aborting the process (uncaught
// std::system_error from std::thread when the system refuses 100,000 threads), and the lab names the variable and the
// valid range and falls back to the next backend.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ADDON_PATH, MAX_THREADS, nativeUnavailableReason, threadsEnvProblem } from "../../lib/native/addon";

const root = path.resolve(__dirname, "..", "..");
const hasAddon = nativeUnavailableReason() === null;

function child(args: string[], threads: string) {
  const run = spawnSync(process.execPath, args, {
    cwd: root,
    env: { ...process.env, MOELAB_THREADS: threads, MOELAB_BACKEND: "" },
    encoding: "utf8",
    timeout: 110_000,
  });
  return { status: run.status, signal: run.signal, out: `${run.stdout}\n${run.stderr}` };
}

describe("MOELAB_THREADS bounds", () => {
  it("threadsEnvProblem accepts 1..MAX_THREADS and names anything else", () => {
    expect(threadsEnvProblem({})).toBeNull();
    expect(threadsEnvProblem({ MOELAB_THREADS: "4" })).toBeNull();
    expect(threadsEnvProblem({ MOELAB_THREADS: String(MAX_THREADS) })).toBeNull();
    for (const bad of ["100000", "0", "-2", "1.5", "lots"]) {
      expect(threadsEnvProblem({ MOELAB_THREADS: bad })).toBe(
        `$MOELAB_THREADS=${bad} must be an integer in [1, ${MAX_THREADS}] (unset it to use every core)`,
      );
    }
  });

  it.skipIf(!hasAddon)("the addon itself clamps 100000 to its maximum and keeps running (it used to abort)", () => {
    const script = `const a = require(${JSON.stringify(path.join(root, ADDON_PATH))}); const i = a.info(); console.log("threads", i.threads, i.threadsRequested, i.maxThreads);`;
    const r = child(["-e", script], "100000");
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
    const [, threads, requested, max] = /threads (\d+) (\d+) (\d+)/.exec(r.out)!.map(Number);
    expect(max).toBe(MAX_THREADS);
    expect(requested).toBe(MAX_THREADS);
    expect(threads).toBeGreaterThanOrEqual(1);
    expect(threads).toBeLessThanOrEqual(MAX_THREADS);
  });

  it("the lab names the variable and runs on the next backend", () => {
    const script = `require("./lib/backend-select").selectBackend().then((b) => console.log("backend", b));`;
    const r = child(["-r", "ts-node/register/transpile-only", "-e", script], "100000");
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(
      `native backend not started: $MOELAB_THREADS=100000 must be an integer in [1, ${MAX_THREADS}]`,
    );
    expect(r.out).toMatch(/backend (wasm|cpu)/);
  });
});
