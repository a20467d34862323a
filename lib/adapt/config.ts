// LoRA settings, PEFT's LoraConfig fields under the lab's names: rank r, lora_alpha, lora_dropout, target_modules
// (suffixes of module names, or one regular expression matched against the whole name), init_lora_weights.
// Reference: Hu et al. 2021 (arXiv:2106.09685) §4.1; HF PEFT tuners/lora/config.py.
import type { QuantConfig } from "../quant/quantized-tensor";
import { TILE_1X128 } from "../quant/granularity";

/** How A is initialised (B always starts at zero, so the adapted model starts as the base model). */
export type LoraInit = "kaiming-uniform" | "gaussian";

/** LoRA settings. */
export interface LoraConfig {
  /** Rank r of the update B·A. Default 8 (PEFT's). */
  r: number;
  /** α: the update is scaled by α / r. Default 8 (PEFT's), so the scale is 1 at r = 8. */
  alpha: number;
  /** Dropout rate on the adapter's input during training (0 = none). Default 0 (PEFT's). */
  dropout: number;
  /**
   * Which modules get an adapter: a list of name suffixes ("attn.wqkv" matches "layers.3.attn.wqkv"; routed experts'
   * stacked projections are "ffn.experts.w1" …), or one regular expression matched against the whole dotted name
   * (PEFT's rule). Every list entry must match at least one module, and a regular expression at least one (a typo is
   * an error). Default ["wqkv", "wo"]: the MHA/GQA attention projections (the paper's Wq, Wv live in the fused wqkv).
   */
  targetModules: string[] | string;
  /** A's initialisation: PEFT's Kaiming-uniform (a = √5: U(±1/√in)) or the paper's Gaussian (PEFT: N(0, 1/r)). */
  init: LoraInit;
}

export const DEFAULT_LORA: Readonly<LoraConfig> = Object.freeze({
  r: 8,
  alpha: 8,
  dropout: 0,
  targetModules: Object.freeze(["wqkv", "wo"]) as string[],
  init: "kaiming-uniform" as LoraInit,
});

/** Merges `partial` over DEFAULT_LORA and checks every field; errors name `fn` and the field. */
export function loraConfig(partial: Partial<LoraConfig> = {}, fn = "loraConfig(config)"): LoraConfig {
  const c: LoraConfig = { ...DEFAULT_LORA, ...partial };
  if (!(Number.isSafeInteger(c.r) && c.r > 0)) throw new Error(`${fn}: r must be an integer > 0, got ${c.r}`);
  if (!(Number.isFinite(c.alpha) && c.alpha > 0))
    throw new Error(`${fn}: alpha must be a finite number > 0, got ${c.alpha}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`${fn}: dropout must be in [0, 1), got ${c.dropout}`);
  if (c.init !== "kaiming-uniform" && c.init !== "gaussian")
    throw new Error(`${fn}: init must be "kaiming-uniform" or "gaussian", got ${JSON.stringify(c.init)}`);
  const t = c.targetModules;
  if (typeof t === "string") {
    try {
      new RegExp(t);
    } catch (e) {
      throw new Error(`${fn}: targetModules "${t}" is not a valid regular expression (${(e as Error).message})`);
    }
  } else if (!Array.isArray(t) || t.length === 0 || !t.every((s) => typeof s === "string" && s.length > 0)) {
    throw new Error(
      `${fn}: targetModules must be a non-empty list of module-name suffixes or one regular expression, got ${JSON.stringify(t)}`,
    );
  } else c.targetModules = [...t];
  return c;
}

/** The LoRA scale α / r. */
export function loraScale(c: Pick<LoraConfig, "r" | "alpha">): number {
  return c.alpha / c.r;
}

/** Does module name `name` match `targets` (a suffix list, or one regular expression over the whole name)? */
export function matchesTarget(name: string, targets: string[] | string): boolean {
  if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(name);
  return targets.some((t) => name === t || name.endsWith(`.${t}`));
}

/** QLoRA's frozen base: 4-bit integer codes in groups of 128 along the input dimension, fp16 scales (4.125 bits/weight). */
export const DEFAULT_QLORA_QUANT: Readonly<Partial<QuantConfig>> = Object.freeze({
  format: "int4",
  granularity: TILE_1X128,
  symmetric: true,
  scaleFormat: "fp16",
});
