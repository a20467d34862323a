// Checkpoints: a folder with model.safetensors (Module.stateDict() by dotted name), optimizer.safetensors (Adam
// moments as "<name>.exp_avg" / "<name>.exp_avg_sq", torch's names, with the step count and β powers as metadata),
// config.json (step, seed, the caller's config) and manifest.json (every other file's size and SHA-256), written last.
// The folder is built aside and renamed into place (./atomic.ts), so a kill during a save never damages the previous
// checkpoint; restore checks the manifest, so a folder mixing files of two saves never loads. Restoring all of it
// continues a run exactly. Reference: the safetensors format (./safetensors.ts); torch.optim.AdamW.state_dict()
// (exp_avg, exp_avg_sq).
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module";
import type { AdamW } from "./optimizer";
import { readableFolder, writeFileDurable, writeFolderAtomic } from "./atomic";
import { decodeSafetensors, encodeSafetensors } from "./safetensors";

/** File names inside a checkpoint folder. */
export const CHECKPOINT_FILES = Object.freeze({
  model: "model.safetensors",
  optimizer: "optimizer.safetensors",
  config: "config.json",
  manifest: "manifest.json",
});

/** The manifest's format tag. */
const MANIFEST_FORMAT = "moelab-checkpoint-1";

/** What manifest.json holds: the files that make up the checkpoint, each with its size and SHA-256. */
interface Manifest {
  format: typeof MANIFEST_FORMAT;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** What config.json holds. */
export interface CheckpointInfo {
  /** Optimizer steps completed when the checkpoint was written. */
  step: number;
  /** Seed of the run. */
  seed: number;
  /** Whatever the caller saved with it (model and training config): plain JSON. */
  config: unknown;
}

/** What saveCheckpoint writes. */
export interface CheckpointContents extends CheckpointInfo {
  module: Module;
  /** The optimizer whose moments and step count to save; null saves weights only. */
  optimizer: AdamW | null;
}

/** Name of the folder of the checkpoint at `step` inside a run's checkpoint folder: "step-000120". */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/** The folder of the latest committed checkpoint under `dir` (by step; one with its manifest), or null when there is none. */
export function latestCheckpoint(dir: string): string | null {
  if (!existsSync(dir)) return null;
  // "step-N", or ".step-N.replaced-…": the previous step-N when a save was killed while replacing it (./atomic.ts)
  const names = new Set(
    readdirSync(dir)
      .map((n) => /^\.?(step-\d+)(\.replaced-.*)?$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined),
  );
  const steps = [...names]
    .filter((n) => existsSync(path.join(readableFolder(path.join(dir, n)), CHECKPOINT_FILES.manifest)))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return steps.length ? path.join(dir, steps[steps.length - 1]) : null;
}

/** Dotted parameter name → tf.Variable name, for the module's parameters. */
function variableNames(module: Module): Map<string, string> {
  return new Map([...module.namedParameters()].map(([dotted, v]) => [dotted, v.name]));
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Writes a checkpoint as folder `dir`, atomically: a kill at any moment leaves the previous folder of that name (or
 * none) or the complete new one. An existing `dir` is replaced as a whole.
 */
export function saveCheckpoint(dir: string, contents: CheckpointContents): void {
  const { module, optimizer, step, seed, config } = contents;
  checkInfo("saveCheckpoint(dir, contents)", { step, seed, config });
  const files = new Map<string, Uint8Array>();
  files.set(CHECKPOINT_FILES.model, encodeSafetensors(module.stateDict(), { format: "moelab", step: String(step) }));
  if (optimizer) {
    const state = optimizer.state();
    const tensors = new Map<string, tf.Tensor>();
    for (const [dotted, varName] of variableNames(module)) {
      const m = state.moments.get(varName);
      if (!m) continue; // not updated yet (frozen, or no gradient so far)
      tensors.set(`${dotted}.exp_avg`, m.m);
      tensors.set(`${dotted}.exp_avg_sq`, m.v);
    }
    const meta = {
      iterations: String(state.iterations),
      accBeta1: String(state.accBeta1),
      accBeta2: String(state.accBeta2),
    };
    files.set(CHECKPOINT_FILES.optimizer, encodeSafetensors(tensors, meta));
  }
  const info: CheckpointInfo = { step, seed, config };
  files.set(CHECKPOINT_FILES.config, new TextEncoder().encode(JSON.stringify(info, null, 2) + "\n"));
  const manifest: Manifest = { format: MANIFEST_FORMAT, files: {} };
  for (const [name, bytes] of files) manifest.files[name] = { bytes: bytes.length, sha256: sha256(bytes) };
  writeFolderAtomic(dir, (staging) => {
    for (const [name, bytes] of files) writeFileDurable(path.join(staging, name), bytes);
    writeFileDurable(path.join(staging, CHECKPOINT_FILES.manifest), JSON.stringify(manifest, null, 2) + "\n"); // last
  });
}

/**
 * Reads the checkpoint's files after checking each against manifest.json (present, size, SHA-256); throws naming the
 * first file that does not match. Returns the bytes by file name.
 */
function readCommitted(fn: string, target: string): Map<string, Uint8Array> {
  const dir = readableFolder(target);
  const file = path.join(dir, CHECKPOINT_FILES.manifest);
  if (!existsSync(file)) {
    const what = existsSync(dir) ? `no ${CHECKPOINT_FILES.manifest} in ${dir}` : `no checkpoint folder ${dir}`;
    throw new Error(
      `${fn}: ${what}; it is not a committed checkpoint (its save was interrupted, or it was not written by saveCheckpoint)`,
    );
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch (e) {
    throw new Error(`${fn}: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (manifest?.format !== MANIFEST_FORMAT || typeof manifest.files !== "object" || manifest.files === null) {
    throw new Error(`${fn}: ${file} is not a ${MANIFEST_FORMAT} manifest`);
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, want] of Object.entries(manifest.files)) {
    const at = path.join(dir, name);
    if (!existsSync(at))
      throw new Error(`${fn}: ${name} is listed in ${CHECKPOINT_FILES.manifest} but missing from ${dir}`);
    const bytes = readFileSync(at);
    if (bytes.length !== want.bytes || sha256(bytes) !== want.sha256) {
      throw new Error(
        `${fn}: ${name} in ${dir} does not match ${CHECKPOINT_FILES.manifest} (${bytes.length} bytes, expected ${want.bytes}; or a different SHA-256): the folder mixes files of different saves`,
      );
    }
    out.set(name, bytes);
  }
  if (!out.has(CHECKPOINT_FILES.config) || !out.has(CHECKPOINT_FILES.model)) {
    throw new Error(
      `${fn}: ${CHECKPOINT_FILES.manifest} in ${dir} lists no ${CHECKPOINT_FILES.model} or ${CHECKPOINT_FILES.config}`,
    );
  }
  return out;
}

/** Checks config.json's fields; errors name the field. */
function checkInfo(fn: string, info: unknown): CheckpointInfo {
  const i = info as Partial<CheckpointInfo> | null;
  if (typeof i !== "object" || i === null)
    throw new Error(`${fn}: ${CHECKPOINT_FILES.config} must hold an object {step, seed, config}`);
  if (!(Number.isSafeInteger(i.step) && i.step! >= 0))
    throw new Error(`${fn}: ${CHECKPOINT_FILES.config}.step must be an integer ≥ 0, got ${i.step}`);
  if (!(Number.isSafeInteger(i.seed) && i.seed! >= 0))
    throw new Error(`${fn}: ${CHECKPOINT_FILES.config}.seed must be an integer ≥ 0, got ${i.seed}`);
  return { step: i.step!, seed: i.seed!, config: i.config ?? null };
}

function parseInfo(fn: string, bytes: Uint8Array): CheckpointInfo {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${fn}: ${CHECKPOINT_FILES.config} is not valid JSON (${(e as Error).message})`);
  }
  return checkInfo(fn, json);
}

/** Reads config.json of a committed checkpoint (after checking the manifest and its fields). */
export function readCheckpointInfo(dir: string): CheckpointInfo {
  const fn = "readCheckpointInfo(dir)";
  return parseInfo(fn, readCommitted(fn, dir).get(CHECKPOINT_FILES.config)!);
}

/**
 * Loads a committed checkpoint into `module` (every name, shape and dtype must match) and, when given, `optimizer`
 * (moments, step count, β powers); returns config.json. Everything is read and checked before anything is assigned:
 * on any error neither the module nor the optimizer changes. Loaded tensors are freed.
 */
export function restoreCheckpoint(dir: string, module: Module, optimizer: AdamW | null = null): CheckpointInfo {
  const fn = optimizer ? "restoreCheckpoint(dir, module, optimizer)" : "restoreCheckpoint(dir, module)";
  const files = readCommitted(fn, dir);
  const info = parseInfo(fn, files.get(CHECKPOINT_FILES.config)!);
  const optimizerBytes = files.get(CHECKPOINT_FILES.optimizer);
  if (optimizer && !optimizerBytes)
    throw new Error(`${fn}: no ${CHECKPOINT_FILES.optimizer} in ${dir} (it was saved without an optimizer)`);
  const weights = decodeSafetensors(files.get(CHECKPOINT_FILES.model)!);
  const saved = optimizer ? decodeSafetensors(optimizerBytes!) : null;
  try {
    module.checkStateDict(weights.tensors);
    const state = saved ? optimizerState(fn, module, saved) : null;
    module.loadStateDict(weights.tensors);
    if (state) optimizer!.setState(state);
  } finally {
    tf.dispose([...weights.tensors.values(), ...(saved ? saved.tensors.values() : [])]);
  }
  return info;
}

/** The optimizer state in `saved`, checked against the module's parameters (names, shapes, float32) and its metadata. */
function optimizerState(
  fn: string,
  module: Module,
  saved: { tensors: Map<string, tf.Tensor>; metadata: Record<string, string> },
) {
  const params = module.namedParameters();
  const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
  for (const key of saved.tensors.keys()) {
    const suffix = key.endsWith(".exp_avg_sq") ? ".exp_avg_sq" : key.endsWith(".exp_avg") ? ".exp_avg" : null;
    const dotted = suffix ? key.slice(0, -suffix.length) : key;
    const param = params.get(dotted);
    if (!suffix || !param) throw new Error(`${fn}: optimizer state "${key}" names no parameter of the module`);
    const m = saved.tensors.get(`${dotted}.exp_avg`);
    const v = saved.tensors.get(`${dotted}.exp_avg_sq`);
    if (!m || !v) throw new Error(`${fn}: optimizer state of "${dotted}" lacks ${m ? "exp_avg_sq" : "exp_avg"}`);
    for (const t of [m, v]) {
      if (!tf.util.arraysEqual(t.shape, param.shape) || t.dtype !== "float32") {
        throw new Error(
          `${fn}: optimizer state "${key}" is ${t.dtype} [${t.shape}], expected float32 [${param.shape}]`,
        );
      }
    }
    moments.set(param.name, { m, v });
  }
  const meta = saved.metadata;
  const iterations = Number(meta.iterations);
  const accBeta1 = Number(meta.accBeta1);
  const accBeta2 = Number(meta.accBeta2);
  if (!(Number.isSafeInteger(iterations) && iterations >= 0))
    throw new Error(`${fn}: optimizer metadata iterations must be an integer ≥ 0, got "${meta.iterations}"`);
  for (const [key, value] of [
    ["accBeta1", accBeta1],
    ["accBeta2", accBeta2],
  ] as const) {
    if (!(value >= 0 && value <= 1))
      throw new Error(`${fn}: optimizer metadata ${key} must be in [0, 1], got "${meta[key]}"`);
  }
  return { iterations, accBeta1, accBeta2, moments };
}
