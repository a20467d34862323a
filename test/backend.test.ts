import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { nativeUnavailableReason } from "../lib/native/addon";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { availableBackends, BACKEND_ORDER, probeBackends, selectBackend, useBackend } from "../lib/backend-select";
import { banner, init } from "../lib/lab";

describe("backend selection", () => {
  it("lists available backends in the documented order, cpu always among them", async () => {
    const available = await availableBackends();
    expect(available).toContain("cpu");
    expect(available).toContain("wasm");
    expect(available).toContain("native"); // npm install built the addon (CI too)
    const positions = available.map((b) => BACKEND_ORDER.indexOf(b));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("explains why an optional backend is missing", async () => {
    const report = await probeBackends();
    for (const name of BACKEND_ORDER) {
      if (report[name] !== null) expect(report[name]).toMatch(/\S/);
    }
    let tfjsNode = true;
    try {
      require.resolve("@tensorflow/tfjs-node");
    } catch {
      tfjsNode = false;
    }
    if (!tfjsNode) expect(report.tensorflow).toMatch(/@tensorflow\/tfjs-node/);
  });

  it("picks the best available backend by default", async () => {
    const prev = process.env.MOELAB_BACKEND;
    delete process.env.MOELAB_BACKEND;
    try {
      expect(await selectBackend()).toBe((await availableBackends())[0]);
      expect(tf.getBackend()).toBe((await availableBackends())[0]);
    } finally {
      if (prev !== undefined) process.env.MOELAB_BACKEND = prev;
    }
  });

  it("honours MOELAB_BACKEND and an explicit choice, explicit first", async () => {
    process.env.MOELAB_BACKEND = "cpu";
    try {
      expect(await selectBackend()).toBe("cpu");
      expect(tf.getBackend()).toBe("cpu");
      expect(await selectBackend("wasm")).toBe("wasm");
      expect(tf.getBackend()).toBe("wasm");
    } finally {
      delete process.env.MOELAB_BACKEND;
    }
  });

  it("rejects an unknown name with the list of what is available", async () => {
    await expect(useBackend("tpu")).rejects.toThrow(
      /unknown backend "tpu".*tensorflow, native, wasm, cpu.*available here: .*cpu/,
    );
    process.env.MOELAB_BACKEND = "gpu";
    try {
      await expect(selectBackend()).rejects.toThrow(/^\$MOELAB_BACKEND: unknown backend "gpu"/);
    } finally {
      delete process.env.MOELAB_BACKEND;
    }
  });

  it("rejects a known but unavailable backend with the reason", async () => {
    const report = await probeBackends();
    const missing = BACKEND_ORDER.find((name) => report[name] !== null);
    if (!missing) return; // every backend is installed: nothing unavailable to ask for
    await expect(useBackend(missing)).rejects.toThrow(new RegExp(`"${missing}" is not available here`));
  });

  it("computes the same numbers on every available backend", async () => {
    const results: number[][] = [];
    for (const name of await availableBackends()) {
      await useBackend(name);
      const a = tf.tensor2d([
        [1, 2],
        [3, 4],
      ]);
      const b = tf.tensor2d([
        [0.5, -1],
        [2, 0.25],
      ]);
      const c = tf.matMul(a, b);
      results.push(Array.from(await c.data()));
      tf.dispose([a, b, c]);
    }
    for (const r of results) expect(r).toEqual([4.5, -0.5, 9.5, -2]);
  });

  it("falls back from a missing native addon with one message that says why", () => {
    const script =
      "const lab=require('moelab');(async()=>{await lab.init();await lab.init();console.log(await lab.banner())})()";
    const run = spawnSync(process.execPath, ["-e", script], {
      encoding: "utf8",
      env: { ...process.env, MOELAB_NATIVE_ADDON: "/nonexistent/moelab_native.node", MOELAB_BACKEND: "" },
    });
    expect(run.status).toBe(0);
    const notices = run.stderr.split("\n").filter((l) => l.includes("native addon not loaded"));
    expect(notices).toHaveLength(1);
    // at import the library starts on cpu (wasm cannot start synchronously) and says why; init() then picks wasm
    expect(notices[0]).toMatch(
      /^moelab: using cpu \(native: native addon not loaded \(Cannot find module '\/nonexistent.*`await lab.init\(\)` picks wasm/,
    );
    expect(run.stdout).toMatch(/· backend wasm .*not installed: tensorflow, native/);
  });

  it("a plain script (no init) runs on the best synchronous backend from its first op, without tfjs's cpu hint", () => {
    const script =
      "const lab = require('./lib'); const x = lab.tf.ones([2]); console.log('first op on', lab.tf.getBackend()); x.dispose(); lab.banner().then((b) => console.log(b));";
    const run = (backend: string) =>
      spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
        cwd: path.resolve(__dirname, ".."),
        encoding: "utf8",
        env: { ...process.env, MOELAB_BACKEND: backend },
      });
    const best = nativeUnavailableReason() === null ? "native" : "cpu";
    const plain = run("");
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toContain(`first op on ${best}\n`);
    expect(plain.stdout).toMatch(new RegExp(`· backend ${best} `));
    expect(plain.stdout).not.toContain("backend undefined");
    expect(plain.stderr).not.toContain("install our node backend");
    const cpu = run("cpu");
    expect(cpu.stdout).toContain("first op on cpu\n");
    expect(cpu.stderr).not.toContain("install our node backend");
    const wasm = run("wasm");
    expect(wasm.stdout).toContain(`first op on ${best}\n`);
    expect(wasm.stderr).toContain(
      "moelab: $MOELAB_BACKEND=wasm is selected by `await lab.init()` (it starts asynchronously)",
    );
  });

  it("init returns a one-line banner naming the running backend", async () => {
    const line = await init({ backend: "cpu" });
    expect(line).not.toContain("\n");
    expect(line).toMatch(/^MoE Lab \d+\.\d+\.\d+ · backend cpu/);
    expect(line).toContain(`tfjs ${tf.version.tfjs}`);
    expect(await banner()).toBe(line);
  });
});
