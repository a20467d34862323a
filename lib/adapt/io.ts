// Saving and loading an adapter alone, in PEFT's layout: adapter_model.safetensors with tensors named
// "base_model.model.<module>.lora_A.weight" / "….lora_B.weight" and adapter_config.json with peft_type, r, lora_alpha,
// lora_dropout, target_modules, init_lora_weights. Reference: HF PEFT utils/save_and_load.py
// (get_peft_model_state_dict), config.py (PeftConfig.save_pretrained).
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module";
import { loadSafetensors, saveSafetensors } from "../train/safetensors";
import { ApplyLoraOptions, LoraAdapter, applyLora } from "./adapter";
import type { LoraConfig } from "./config";

/** File names inside an adapter folder (PEFT's). */
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";
export const ADAPTER_CONFIG_FILE = "adapter_config.json";
/** Prefix of every tensor name (PEFT's PeftModel → LoraModel → the base model). */
export const PEFT_PREFIX = "base_model.model.";

/** adapter_config.json's fields this lab writes and reads (PEFT's names). */
export interface PeftLoraConfigJson {
  peft_type: "LORA";
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[] | string;
  init_lora_weights: true | "gaussian";
  bias: "none";
}

/** The PEFT config JSON of a LoRA config. */
export function peftConfigJson(c: LoraConfig): PeftLoraConfigJson {
  return {
    peft_type: "LORA",
    r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    target_modules: c.targetModules,
    init_lora_weights: c.init === "gaussian" ? "gaussian" : true,
    bias: "none",
  };
}

/** Writes the adapter's parameters and config to folder `dir` (created if missing). */
export function saveAdapter(adapter: LoraAdapter, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const tensors = new Map([...adapter.namedParameters()].map(([name, v]) => [PEFT_PREFIX + name, v as tf.Tensor]));
  saveSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: "pt" });
  fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(peftConfigJson(adapter.config), null, 2) + "\n");
}

/** Reads adapter_config.json from `dir` as a LoraConfig. */
export function readAdapterConfig(dir: string): LoraConfig {
  const fn = "readAdapterConfig(dir)";
  const file = path.join(dir, ADAPTER_CONFIG_FILE);
  if (!fs.existsSync(file)) throw new Error(`${fn}: ${file} does not exist`);
  const j = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<PeftLoraConfigJson>;
  if (j.peft_type !== "LORA")
    throw new Error(`${fn}: ${file} has peft_type ${JSON.stringify(j.peft_type)}, expected "LORA"`);
  return {
    r: j.r!,
    alpha: j.lora_alpha!,
    dropout: j.lora_dropout ?? 0,
    targetModules: j.target_modules!,
    init: j.init_lora_weights === "gaussian" ? "gaussian" : "kaiming-uniform",
  };
}

/**
 * Attaches the adapter saved in `dir` to `model` (a fresh base of the same architecture): applyLora with the saved
 * config, then the saved values. Every tensor must match a target by name and shape; errors say which does not.
 */
export function loadAdapter(model: Module, dir: string, options: Partial<ApplyLoraOptions> = {}): LoraAdapter {
  const fn = "loadAdapter(model, dir)";
  const adapter = applyLora(model, readAdapterConfig(dir), options);
  const { tensors } = loadSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE));
  try {
    const state = new Map<string, tf.Tensor>();
    for (const [name, t] of tensors) {
      if (!name.startsWith(PEFT_PREFIX))
        throw new Error(`${fn}: tensor "${name}" does not start with "${PEFT_PREFIX}"`);
      state.set(name.slice(PEFT_PREFIX.length), t);
    }
    const mine = adapter.namedParameters();
    for (const [name, t] of state) {
      const v = mine.get(name);
      if (v && !tf.util.arraysEqual(v.shape, t.shape))
        throw new Error(
          `${fn}: the adapter does not fit this model: "${name}" has shape [${t.shape}] in ${dir}, the model's target needs [${v.shape}]`,
        );
    }
    adapter.loadStateDict(state);
    return adapter;
  } catch (e) {
    adapter.remove();
    throw e instanceof Error && !e.message.startsWith(fn)
      ? new Error(`${fn}: the adapter does not fit this model: ${e.message}`)
      : e;
  } finally {
    tf.dispose([...tensors.values()]);
  }
}
