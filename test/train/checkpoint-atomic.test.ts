// Atomic checkpoints: a child process saving checkpoints is killed (SIGKILL) at random moments, round after round;
// after every kill the latest committed checkpoint restores bit for bit and is never older than the last save the
// child finished. A folder mixing files of two saves, an interrupted save and a config.json without `step` are named
// errors, and nothing is assigned before everything is checked.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adam, type AdamW } from "../../lib/train/optimizer";
import {
  CHECKPOINT_FILES,
  latestCheckpoint,
  readCheckpointInfo,
  restoreCheckpoint,
  saveCheckpoint,
} from "../../lib/train/checkpoint";
import { SaverModel, fillState } from "./checkpoint-fixture";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "moelab-ckpt-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Every byte of the module's variables and the optimizer's state, for bit-for-bit comparison. */
function snapshot(model: SaverModel, optimizer: AdamW): Record<string, unknown> {
  const state = optimizer.state();
  const out: Record<string, unknown> = {
    iterations: state.iterations,
    accBeta1: state.accBeta1,
    accBeta2: state.accBeta2,
  };
  for (const [name, v] of model.namedParameters()) {
    const mv = state.moments.get(v.name)!;
    out[name] = Buffer.from(v.dataSync().buffer).toString("base64");
    out[`${name}.m`] = Buffer.from(mv.m.dataSync().buffer).toString("base64");
    out[`${name}.v`] = Buffer.from(mv.v.dataSync().buffer).toString("base64");
  }
  return out;
}

/** Restores `dir` and checks it against the state its (step, version) must hold; returns [step, version]. */
function restoreAndCheck(dir: string): [number, number] {
  const got = new SaverModel();
  const gotOpt = adam({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  const info = restoreCheckpoint(dir, got, gotOpt);
  const version = (info.config as { version: number }).version;
  const want = new SaverModel();
  const wantOpt = fillState(want, info.step, version);
  expect(snapshot(got, gotOpt), `${dir} (step ${info.step}, version ${version})`).toEqual(snapshot(want, wantOpt));
  [got, want, gotOpt, wantOpt].forEach((x) => x.dispose());
  return [info.step, version];
}

/**
 * Starts the saver at `first`, kills it `delayMs` after it is ready; resolves with the last save it reported finished
 * and whether its last line said a save had started (the kill most likely landed inside saveCheckpoint).
 */
function saveAndKill(
  dir: string,
  first: number,
  delayMs: number,
): Promise<{ last: [number, number] | null; midSave: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(__dirname, "checkpoint-saver.ts"), dir, String(first)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    let last: [number, number] | null = null;
    let midSave = false;
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      const lines = out.split("\n");
      out = lines.pop()!;
      for (const line of lines) {
        if (line === "ready") setTimeout(() => child.kill("SIGKILL"), delayMs);
        const m = /^saved (\d+) (\d+)$/.exec(line);
        if (m) last = [Number(m[1]), Number(m[2])];
        midSave = line.startsWith("saving ");
      }
    });
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve({ last, midSave }) : reject(new Error(`saver exited ${code}: ${err}`)),
    );
  });
}

describe("atomic checkpoints", () => {
  it("kill -9 at random moments during saves: the last good checkpoint always restores, bit for bit", async () => {
    const dir = tempDir();
    let rng = 12345; // a fixed LCG: the same kill delays every run
    const delay = () => ((rng = (rng * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2500 + 300;
    let committed: [number, number] | null = null;
    let interrupted = 0;
    let midSaves = 0;
    for (let round = 0; round < 8; round++) {
      const latest = latestCheckpoint(dir);
      const first = latest === null ? 1 : readCheckpointInfo(latest).step; // re-save the latest step: replaces it
      const { last: reported, midSave } = await saveAndKill(dir, first, delay());
      if (reported) committed = reported;
      if (midSave) midSaves++;
      const hidden = readdirSync(dir).filter((n) => n.startsWith("."));
      if (hidden.length) interrupted++;
      const now = latestCheckpoint(dir);
      if (committed === null) continue; // killed before its first save finished
      expect(now, `round ${round}`).not.toBeNull();
      const got = restoreAndCheck(now!);
      // never older than the last save the child finished (it may be newer: a save done but not yet reported)
      expect(
        got[0] * 2 + got[1],
        `round ${round}: restored ${got}, last finished save ${committed}`,
      ).toBeGreaterThanOrEqual(committed[0] * 2 + committed[1]);
      committed = got;
      for (const name of readdirSync(dir).filter((n) => /^step-\d+$/.test(n))) restoreAndCheck(path.join(dir, name));
    }
    expect(committed, "no save finished in 8 rounds").not.toBeNull();
    // the kills landed inside saves (a save had started and not finished; a half-built folder was left behind) in
    // several rounds, or the test proved little
    expect(
      midSaves,
      `${midSaves} of 8 kills landed inside a save, ${interrupted} left a half-built folder`,
    ).toBeGreaterThanOrEqual(2);
    expect(interrupted).toBeGreaterThan(0);
  }, 300_000);

  it("a folder mixing the model of one save with the optimizer of another is refused, and nothing is assigned", () => {
    const [a, b] = [tempDir(), tempDir()];
    const model = new SaverModel();
    for (const [dir, step] of [
      [a, 1],
      [b, 2],
    ] as const) {
      const opt = fillState(model, step, 0);
      saveCheckpoint(dir, { module: model, optimizer: opt, step, seed: 0, config: { version: 0 } });
      opt.dispose();
    }
    copyFileSync(path.join(b, CHECKPOINT_FILES.optimizer), path.join(a, CHECKPOINT_FILES.optimizer));
    const opt = fillState(model, 7, 1);
    const before = snapshot(model, opt);
    expect(() => restoreCheckpoint(a, model, opt)).toThrow(
      /optimizer\.safetensors .* does not match manifest\.json .*mixes files of different saves/,
    );
    expect(snapshot(model, opt)).toEqual(before);
    model.dispose();
    opt.dispose();
  });

  it("an interrupted save (no manifest) is not a checkpoint: skipped by latestCheckpoint, refused by restore", () => {
    const dir = tempDir();
    const model = new SaverModel();
    saveCheckpoint(path.join(dir, "step-000001"), { module: model, optimizer: null, step: 1, seed: 0, config: null });
    saveCheckpoint(path.join(dir, "step-000002"), { module: model, optimizer: null, step: 2, seed: 0, config: null });
    rmSync(path.join(dir, "step-000002", CHECKPOINT_FILES.manifest));
    expect(latestCheckpoint(dir)).toBe(path.join(dir, "step-000001"));
    expect(() => restoreCheckpoint(path.join(dir, "step-000002"), model)).toThrow(
      /no manifest\.json in .*step-000002; it is not a committed checkpoint/,
    );
    model.dispose();
  });

  it("config.json without an integer step is a named error (fit would resume at step undefined)", () => {
    const dir = tempDir();
    const model = new SaverModel();
    expect(() =>
      saveCheckpoint(dir, {
        module: model,
        optimizer: null,
        step: undefined as unknown as number,
        seed: 0,
        config: null,
      }),
    ).toThrow("saveCheckpoint(dir, contents): config.json.step must be an integer ≥ 0, got undefined");
    saveCheckpoint(dir, { module: model, optimizer: null, step: 3, seed: 0, config: null });
    // rewrite config.json without step, and its manifest entry to match, as a hand edit would
    const manifestFile = path.join(dir, CHECKPOINT_FILES.manifest);
    const body = Buffer.from(JSON.stringify({ seed: 0, config: null }));
    writeFileSync(path.join(dir, CHECKPOINT_FILES.config), body);
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    manifest.files[CHECKPOINT_FILES.config] = {
      bytes: body.length,
      sha256: createHash("sha256").update(body).digest("hex"),
    };
    writeFileSync(manifestFile, JSON.stringify(manifest));
    expect(() => readCheckpointInfo(dir)).toThrow(
      "readCheckpointInfo(dir): config.json.step must be an integer ≥ 0, got undefined",
    );
    model.dispose();
  });
});
