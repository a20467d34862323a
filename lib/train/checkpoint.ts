// Checkpoints: a folder with model.safetensors (Module.stateDict() by dotted name), optimizer.safetensors (Adam
// moments as "<name>.exp_avg" / "<name>.exp_avg_sq", torch's names, with the step count and β powers as metadata) and
// config.json (step, seed, the caller's config). Restoring all three continues a run exactly. Reference: the
// safetensors format (./safetensors.ts); torch.optim.AdamW.state_dict() (exp_avg, exp_avg_sq).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module";
import type { AdamW } from "./optimizer";
import { loadSafetensors, saveSafetensors } from "./safetensors";

/** File names inside a checkpoint folder. */
export const CHECKPOINT_FILES = Object.freeze({ model: "model.safetensors", optimizer: "optimizer.safetensors", config: "config.json" });

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

/** The folder of the latest checkpoint under `dir` (by step), or null when there is none. */
export function latestCheckpoint(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const steps = readdirSync(dir)
    .filter((n) => /^step-\d+$/.test(n) && existsSync(path.join(dir, n, CHECKPOINT_FILES.config)))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return steps.length ? path.join(dir, steps[steps.length - 1]) : null;
}

/** Dotted parameter name → tf.Variable name, for the module's parameters. */
function variableNames(module: Module): Map<string, string> {
  return new Map([...module.namedParameters()].map(([dotted, v]) => [dotted, v.name]));
}

/** Writes a checkpoint into folder `dir` (created if needed; files in it are replaced). */
export function saveCheckpoint(dir: string, contents: CheckpointContents): void {
  const { module, optimizer, step, seed, config } = contents;
  mkdirSync(dir, { recursive: true });
  saveSafetensors(path.join(dir, CHECKPOINT_FILES.model), module.stateDict(), { format: "moelab", step: String(step) });
  if (optimizer) {
    const state = optimizer.state();
    const tensors = new Map<string, tf.Tensor>();
    for (const [dotted, varName] of variableNames(module)) {
      const m = state.moments.get(varName);
      if (!m) continue; // not updated yet (frozen, or no gradient so far)
      tensors.set(`${dotted}.exp_avg`, m.m);
      tensors.set(`${dotted}.exp_avg_sq`, m.v);
    }
    const meta = { iterations: String(state.iterations), accBeta1: String(state.accBeta1), accBeta2: String(state.accBeta2) };
    saveSafetensors(path.join(dir, CHECKPOINT_FILES.optimizer), tensors, meta);
  }
  const info: CheckpointInfo = { step, seed, config };
  writeFileSync(path.join(dir, CHECKPOINT_FILES.config), JSON.stringify(info, null, 2) + "\n");
}

/** Reads config.json of a checkpoint. */
export function readCheckpointInfo(dir: string): CheckpointInfo {
  const file = path.join(dir, CHECKPOINT_FILES.config);
  if (!existsSync(file)) throw new Error(`readCheckpointInfo(dir): no ${CHECKPOINT_FILES.config} in ${dir}`);
  return JSON.parse(readFileSync(file, "utf8")) as CheckpointInfo;
}

/**
 * Loads a checkpoint into `module` (every name and shape must match) and, when given, `optimizer` (moments, step
 * count, β powers); returns config.json. Loaded tensors are freed.
 */
export function restoreCheckpoint(dir: string, module: Module, optimizer: AdamW | null = null): CheckpointInfo {
  const info = readCheckpointInfo(dir);
  const weights = loadSafetensors(path.join(dir, CHECKPOINT_FILES.model));
  try {
    module.loadStateDict(weights.tensors);
  } finally {
    tf.dispose([...weights.tensors.values()]);
  }
  if (optimizer) {
    const file = path.join(dir, CHECKPOINT_FILES.optimizer);
    if (!existsSync(file)) throw new Error(`restoreCheckpoint(dir, module, optimizer): no ${CHECKPOINT_FILES.optimizer} in ${dir}`);
    const saved = loadSafetensors(file);
    try {
      const names = variableNames(module);
      const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
      for (const key of saved.tensors.keys()) {
        if (!key.endsWith(".exp_avg")) continue;
        const dotted = key.slice(0, -".exp_avg".length);
        const varName = names.get(dotted);
        const v = saved.tensors.get(`${dotted}.exp_avg_sq`);
        if (!varName || !v) throw new Error(`restoreCheckpoint(dir, module, optimizer): optimizer state "${dotted}" has no matching parameter or exp_avg_sq`);
        moments.set(varName, { m: saved.tensors.get(key)!, v });
      }
      const meta = saved.metadata;
      optimizer.setState({ iterations: Number(meta.iterations), accBeta1: Number(meta.accBeta1), accBeta2: Number(meta.accBeta2), moments });
    } finally {
      tf.dispose([...saved.tensors.values()]);
    }
  }
  return info;
}
