// Loading and saving real DeepSeek-V2/V3 checkpoints: Hugging Face layout (config.json + model.safetensors, or shards
// listed in model.safetensors.index.json's weight_map) and DeepSeek's inference layout (config.json with ModelArgs
// names + model{rank}-mp{N}.safetensors, split over N model-parallel ranks as convert.py splits them). Weights F32, F16, BF16, or F8_E4M3 with one F32 dequant multiplier per
// 128×128 block (`…weight_scale_inv` HF, `…scale` inference; W = code·scale, codes decoded by lab.quant's E4M3).
// References: DeepSeek-V3 inference/convert.py (names; model-parallel split dims), inference/kernel.py
// `weight_dequant`, inference/fp8_cast_bf16.py; Hugging Face safetensors sharding (model.safetensors.index.json).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadSafetensors, saveSafetensors, type SafetensorsDtype } from "../train/safetensors";
import { moeSettings } from "./config";
import { deepSeekConfigJson, readDeepSeekConfig, type DeepSeekFormat } from "./deepseek-config";
import {
  checkpointNames,
  FP8_BLOCK,
  hfName,
  inferenceName,
  isFp8Linear,
  isStackedExperts,
  mpLayout,
  mtpSharedCopies,
} from "./deepseek-names";
import { TransformerLM } from "./transformer";
import type { MLAPath } from "./mla";

/** Options of loadDeepSeek. */
export interface LoadDeepSeekOptions {
  /** MLA computation path of the loaded model. Default "naive". */
  mla: MLAPath;
  /** The config as an object, for an inference checkpoint whose directory has no config.json (DeepSeek passes
   * configs/config_671B.json separately). Default null: read `dir`/config.json. */
  config: unknown;
  /** Load the HF checkpoint's multi-token-prediction layers (num_nextn_predict_layers of them, layers n_layers …) as
   * the model's MTP modules (config.mtpDepth); false skips them, as DeepSeek's convert.py does. Default true. */
  mtp: boolean;
}

export const DEFAULT_LOAD_DEEPSEEK: Readonly<LoadDeepSeekOptions> = Object.freeze({
  mla: "naive" as MLAPath,
  config: null,
  mtp: true,
});

/** Storage dtypes saveDeepSeek writes. */
export type SaveDtype = "float32" | "bfloat16" | "float16" | "fp8";
const SAVE_DTYPES: readonly SaveDtype[] = ["float32", "bfloat16", "float16", "fp8"];
/** Bytes per element of each stored dtype. */
const BYTES: Readonly<Partial<Record<SafetensorsDtype, number>>> = { F32: 4, BF16: 2, F16: 2, F8_E4M3: 1 };

/** Options of saveDeepSeek. */
export interface SaveDeepSeekOptions {
  /** "hf" (model.safetensors or shards + index) or "inference" (model0-mp1.safetensors, ModelArgs config.json). */
  format: DeepSeekFormat;
  /** Stored dtype of the weights (the gate bias stays float32, as in DeepSeek's release). "fp8": DeepSeek's FP8
   * release layout — attention and FFN/expert projections as F8_E4M3 with one F32 scale amax/448 per 128×128 block
   * (a block of zeros gets scale 1), the embedding, norms, gate and head in BF16. Default "float32". */
  dtype: SaveDtype;
  /** HF only: number of shard files (1 = one model.safetensors, no index). Default 1. */
  shards: number;
  /** Inference only: model-parallel ranks, files model{r}-mp{mp}.safetensors split as convert.py does. Default 1. */
  mp: number;
}

export const DEFAULT_SAVE_DEEPSEEK: Readonly<SaveDeepSeekOptions> = Object.freeze({
  format: "hf" as DeepSeekFormat,
  dtype: "float32" as const,
  shards: 1,
  mp: 1,
});

/** The weight files of a checkpoint directory and which layout they follow. */
function weightFiles(fn: string, dir: string): { format: DeepSeekFormat; files: string[] } {
  const index = path.join(dir, "model.safetensors.index.json");
  if (existsSync(index)) {
    const map = (JSON.parse(readFileSync(index, "utf8")) as { weight_map?: Record<string, string> }).weight_map;
    if (!map || typeof map !== "object") throw new Error(`${fn}: ${index} has no "weight_map" object`);
    return { format: "hf", files: [...new Set(Object.values(map))].map((f) => path.join(dir, f)) };
  }
  if (existsSync(path.join(dir, "model.safetensors")))
    return { format: "hf", files: [path.join(dir, "model.safetensors")] };
  const ranked = readdirSync(dir)
    .map((f) => /^model(\d+)-mp(\d+)\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null);
  if (!ranked.length)
    throw new Error(
      `${fn}: ${dir} holds no model.safetensors.index.json, model.safetensors or model{rank}-mp{N}.safetensors`,
    );
  const ranks = Number(ranked[0][2]);
  const files = Array.from({ length: ranks }, (_, r) => path.join(dir, `model${r}-mp${ranks}.safetensors`));
  const absent = files.filter((f) => !existsSync(f));
  if (absent.length || ranked.some((m) => Number(m[2]) !== ranks)) {
    throw new Error(
      `${fn}: ${dir} must hold model0-mp${ranks} … model${ranks - 1}-mp${ranks}.safetensors and no other ranks (missing ${absent.map((f) => path.basename(f)).join(", ") || "none"})`,
    );
  }
  return { format: "inference", files };
}

/** Reads every tensor of the files under its inference name (dtypes as stored); `skip` names are dropped. */
function readTensors(fn: string, files: string[], format: DeepSeekFormat, skip: (name: string) => boolean) {
  const tensors = new Map<string, tf.Tensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  try {
    for (const file of files) {
      const st = loadSafetensors(file);
      let error: Error | null = null;
      for (const [name, t] of st.tensors) {
        const key = format === "hf" ? inferenceName(name) : name;
        if (error || skip(name) || key === null || tensors.has(key)) {
          t.dispose();
          if (!error && !skip(name)) {
            error = new Error(
              key === null
                ? `${fn}: ${path.basename(file)} holds "${name}", which is not a DeepSeek checkpoint name`
                : `${fn}: tensor "${name}" appears twice (again in ${path.basename(file)})`,
            );
          }
          continue;
        }
        tensors.set(key, t);
        dtypes.set(key, st.dtypes.get(name)!);
      }
      if (error) throw error;
    }
  } catch (e) {
    tf.dispose([...tensors.values()]);
    throw e;
  }
  return { tensors, dtypes };
}

/** Each model-parallel rank file's tensors (all freed if one fails). */
function readRanks(fn: string, files: string[], skip: (name: string) => boolean) {
  const ranks: ReturnType<typeof readTensors>[] = [];
  try {
    for (const f of files) ranks.push(readTensors(fn, [f], "inference", skip));
  } catch (e) {
    for (const r of ranks) tf.dispose([...r.tensors.values()]);
    throw e;
  }
  return ranks;
}

/**
 * The whole-model tensors of an inference checkpoint split over model-parallel ranks (convert.py): split tensors are
 * concatenated in rank order along their axis, routed experts taken from the one rank that holds each, replicated
 * tensors taken from rank 0 (every rank must hold one of the same shape).
 */
function mergeRanks(fn: string, ranks: { tensors: Map<string, tf.Tensor>; dtypes: Map<string, SafetensorsDtype> }[]) {
  const tensors = new Map<string, tf.Tensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  const names = [...new Set(ranks.flatMap((r) => [...r.tensors.keys()]))];
  try {
    for (const name of names) {
      const parts = ranks.map((r) => r.tensors.get(name)).filter((t): t is tf.Tensor => t !== undefined);
      const layout = mpLayout(name);
      const holders = ranks.findIndex((r) => r.tensors.has(name));
      if (layout && "expert" in layout) {
        if (parts.length !== 1)
          throw new Error(`${fn}: routed expert tensor "${name}" is on ${parts.length} ranks; expected exactly one`);
        tensors.set(name, parts[0].clone());
      } else if (parts.length !== ranks.length) {
        throw new Error(
          `${fn}: tensor "${name}" is on ${parts.length} of ${ranks.length} model-parallel ranks; expected all`,
        );
      } else if (layout) {
        tensors.set(name, tf.concat(parts, layout.dim));
      } else {
        if (!parts.every((t) => tf.util.arraysEqual(t.shape, parts[0].shape)))
          throw new Error(`${fn}: replicated tensor "${name}" differs in shape across ranks`);
        tensors.set(name, parts[0].clone());
      }
      dtypes.set(name, ranks[holders].dtypes.get(name)!);
    }
  } catch (e) {
    tf.dispose([...tensors.values()]);
    throw e;
  } finally {
    for (const r of ranks) tf.dispose([...r.tensors.values()]);
  }
  return { tensors, dtypes };
}

/** Each element's block scale: scale [⌈out/128⌉, ⌈in/128⌉] → [out, in]. */
function expandBlocks(scale: tf.Tensor, out: number, inF: number): tf.Tensor2D {
  const [so, si] = scale.shape;
  return tf.tidy(() => {
    const full = tf.reshape(tf.tile(tf.reshape(scale, [so, 1, si, 1]), [1, FP8_BLOCK, 1, FP8_BLOCK]), [
      so * FP8_BLOCK,
      si * FP8_BLOCK,
    ]); // [so·128, si·128]
    return tf.slice(full, [0, 0], [out, inF]) as tf.Tensor2D; // [out, in]
  });
}

/** W = code · scale per 128×128 block: codes [out, in] (decoded E4M3 values), scale [⌈out/128⌉, ⌈in/128⌉]. */
function dequantBlocks(fn: string, name: string, codes: tf.Tensor, scale: tf.Tensor): tf.Tensor2D {
  if (codes.rank !== 2) throw new Error(`${fn}: F8_E4M3 tensor "${name}" must be a matrix, got [${codes.shape}]`);
  const [out, inF] = codes.shape;
  const [so, si] = [Math.ceil(out / FP8_BLOCK), Math.ceil(inF / FP8_BLOCK)];
  if (!tf.util.arraysEqual(scale.shape, [so, si]))
    throw new Error(
      `${fn}: the block scale of "${name}" [${codes.shape}] must be [${so}, ${si}], got [${scale.shape}]`,
    );
  return tf.tidy(() => tf.mul(codes, expandBlocks(scale, out, inF)) as tf.Tensor2D); // [out, in]
}

/**
 * DeepSeek's FP8 weight quantisation of w [out, in]: scale = amax/448 per 128×128 block (the dequant multiplier;
 * 1 for an all-zero block) and the scaled values w/scale, which the safetensors writer rounds to E4M3 (lab.quant).
 */
function quantizeBlocks(w: tf.Tensor): { values: tf.Tensor2D; scale: tf.Tensor2D } {
  const [out, inF] = w.shape;
  const [so, si] = [Math.ceil(out / FP8_BLOCK), Math.ceil(inF / FP8_BLOCK)];
  return tf.tidy(() => {
    const padded = tf.pad(tf.abs(w), [
      [0, so * FP8_BLOCK - out],
      [0, si * FP8_BLOCK - inF],
    ]); // [so·128, si·128]
    const amax = tf.max(tf.reshape(padded, [so, FP8_BLOCK, si, FP8_BLOCK]), [1, 3]); // [so, si]
    const scale = tf.where(tf.equal(amax, 0), tf.onesLike(amax), tf.div(amax, 448)) as tf.Tensor2D; // [so, si]
    return { values: tf.div(w, expandBlocks(scale, out, inF)) as tf.Tensor2D, scale }; // [out, in], [so, si]
  });
}

/** Replaces every F8_E4M3 weight and its scale by the dequantised float32 weight; a lone F8 weight or scale is an error. */
function dequantize(fn: string, tensors: Map<string, tf.Tensor>, dtypes: Map<string, SafetensorsDtype>): void {
  for (const [name, dtype] of dtypes) {
    const scaleName = name.replace(/\.weight$/, ".scale");
    if (dtype === "F8_E4M3") {
      const scale = tensors.get(scaleName);
      if (!name.endsWith(".weight") || !scale)
        throw new Error(`${fn}: F8_E4M3 tensor "${name}" has no block scale "${scaleName}" (HF: weight_scale_inv)`);
      const w = dequantBlocks(fn, name, tensors.get(name)!, scale);
      tf.dispose([tensors.get(name)!, scale]);
      tensors.set(name, w);
      tensors.delete(scaleName);
      dtypes.set(name, "F32");
      dtypes.delete(scaleName);
    }
  }
  const lone = [...tensors.keys()].filter((k) => k.endsWith(".scale"));
  if (lone.length)
    throw new Error(
      `${fn}: block scale(s) without an F8_E4M3 weight: ${lone.slice(0, 5).join(", ")}${lone.length > 5 ? ", …" : ""}`,
    );
}

/** The HF MTP layers' copies of the shared embedding and head → the main tensors they copy (inference names). */
function sharedCopies(model: TransformerLM): Map<string, string> {
  const { nLayers, mtpDepth } = model.config;
  const out = new Map<string, string>();
  for (let k = 0; k < mtpDepth; k++) {
    const c = mtpSharedCopies(nLayers + k);
    out.set(c.embed, "embed.weight");
    out.set(c.head, "head.weight");
  }
  return out;
}

/**
 * Checks `tensors` (inference names, float32) against the model's state dict, then builds the lab's state: routed
 * experts stacked [E, …], shared experts renamed. Every missing, extra or misshapen tensor is listed in one error.
 */
function labState(fn: string, model: TransformerLM, tensors: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  const E = model.config.ffn === "moe" ? moeSettings(model.config).nRouted : 0;
  const L = model.config.nLayers;
  const expected = new Map<string, number[]>();
  for (const [labName, v] of model.stateDict()) {
    const names = checkpointNames(labName, E, L);
    const shape = isStackedExperts(labName) ? v.shape.slice(1) : v.shape;
    for (const n of names) expected.set(n, shape);
  }
  const copies = sharedCopies(model);
  for (const [copy, original] of copies) expected.set(copy, expected.get(original)!);
  const missing = [...expected.keys()].filter((k) => !tensors.has(k));
  const extra = [...tensors.keys()].filter((k) => !expected.has(k));
  const misshapen = [...expected]
    .filter(([k, s]) => tensors.has(k) && !tf.util.arraysEqual(tensors.get(k)!.shape, s))
    .map(([k, s]) => `"${k}" [${tensors.get(k)!.shape}] (expected [${s}])`);
  const problems: string[] = [];
  const list = (xs: string[]) => xs.slice(0, 6).join(", ") + (xs.length > 6 ? `, … (${xs.length} in all)` : "");
  if (missing.length) problems.push(`missing ${list(missing.map((k) => `"${k}"`))}`);
  if (extra.length) problems.push(`unexpected ${list(extra.map((k) => `"${k}"`))}`);
  if (misshapen.length) problems.push(`misshapen ${list(misshapen)}`);
  if (problems.length) throw new Error(`${fn}: the checkpoint does not match its config: ${problems.join("; ")}`);
  for (const [copy, original] of copies) {
    const differs = tf.tidy(() => tf.any(tf.notEqual(tensors.get(copy)!, tensors.get(original)!)).dataSync()[0]);
    if (differs)
      throw new Error(
        `${fn}: "${copy}" differs from "${original}"; the lab's MTP modules share the main model's embedding and head (DeepSeek-V3 §2.2), so the copies must be equal`,
      );
  }
  const state = new Map<string, tf.Tensor>();
  for (const labName of model.stateDict().keys()) {
    const names = checkpointNames(labName, E, L);
    state.set(
      labName,
      isStackedExperts(labName) ? tf.stack(names.map((n) => tensors.get(n)!)) : tensors.get(names[0])!.clone(),
    );
  }
  return state;
}

/**
 * Loads a DeepSeek checkpoint directory (HF single file or sharded; inference with any number of model-parallel
 * ranks, merged; weights F32/F16/BF16/F8_E4M3+scales) into a new TransformerLM. Everything is read, dequantised and
 * checked before the model is built and filled: a missing, extra or misshapen tensor, an F8 weight without its scale
 * or an unknown config field is an error, and no model is returned. The gate bias is expected exactly when the
 * checkpoint holds one (HF `e_score_correction_bias`, inference `gate.bias`), whatever the width. HF
 * multi-token-prediction layers (model.layers.{n_layers …}, num_nextn_predict_layers) become the model's MTP modules
 * (enorm, hnorm, eh_proj, shared_head.norm and the block; their copies of the embedding and head must equal the main
 * ones, which the modules share), or are skipped with options.mtp false, as convert.py does. The whole checkpoint is held in memory as float32
 * while loading (about 8 bytes per parameter at the peak): lab-scale models, not V3 itself.
 */
export async function loadDeepSeek(dir: string, options: Partial<LoadDeepSeekOptions> = {}): Promise<TransformerLM> {
  const fn = "loadDeepSeek(dir)";
  const opts = { ...DEFAULT_LOAD_DEEPSEEK, ...options };
  const { format, files } = weightFiles(fn, dir);
  const configPath = path.join(dir, "config.json");
  if (opts.config === null && !existsSync(configPath))
    throw new Error(`${fn}: ${configPath} not found (pass options.config for an inference checkpoint)`);
  const rawConfig = opts.config ?? JSON.parse(readFileSync(configPath, "utf8"));
  const probe = readDeepSeekConfig(rawConfig, { mla: opts.mla });
  if (probe.format !== format)
    throw new Error(`${fn}: config.json uses ${probe.format} names but the weights are in the ${format} layout`);
  const nLayers = probe.config.nLayers;
  const isMtp = (name: string) => {
    const m = /^(?:model\.)?layers\.(\d+)\./.exec(name);
    return !opts.mtp && m !== null && Number(m[1]) >= nLayers && Number(m[1]) < nLayers + probe.mtpDepth;
  };
  const { tensors, dtypes } =
    format === "inference" && files.length > 1
      ? mergeRanks(fn, readRanks(fn, files, isMtp))
      : readTensors(fn, files, format, isMtp);
  let model: TransformerLM | null = null;
  try {
    dequantize(fn, tensors, dtypes);
    const gateBias = [...tensors.keys()].some((k) => /\.ffn\.gate\.bias$/.test(k));
    const spec = readDeepSeekConfig(rawConfig, { mla: opts.mla, gateBias, mtp: opts.mtp });
    model = new TransformerLM(spec.config);
    const state = labState(fn, model, tensors);
    try {
      model.loadStateDict(state);
    } finally {
      tf.dispose([...state.values()]);
    }
    return model;
  } catch (e) {
    model?.dispose();
    throw e;
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/**
 * The checkpoint tensors of `model` under inference names (routed experts unstacked, shared experts renamed) with
 * their stored dtypes; "fp8" adds a `.scale` after each quantised weight. Tensors other than the model's own
 * variables are new: the caller disposes them.
 */
function checkpointTensors(
  model: TransformerLM,
  dtype: SaveDtype,
): Map<string, { t: tf.Tensor; dtype: SafetensorsDtype }> {
  const E = model.config.ffn === "moe" ? moeSettings(model.config).nRouted : 0;
  const out = new Map<string, { t: tf.Tensor; dtype: SafetensorsDtype }>();
  const base: SafetensorsDtype = dtype === "float32" ? "F32" : dtype === "float16" ? "F16" : "BF16";
  const add = (name: string, t: tf.Tensor) => {
    if (name.endsWith(".gate.bias")) out.set(name, { t, dtype: "F32" });
    else if (dtype === "fp8" && isFp8Linear(name)) {
      const q = quantizeBlocks(t);
      if (!(t instanceof tf.Variable)) t.dispose(); // an unstacked expert slice, now quantised
      out.set(name, { t: q.values, dtype: "F8_E4M3" });
      out.set(name.replace(/\.weight$/, ".scale"), { t: q.scale, dtype: "F32" });
    } else out.set(name, { t, dtype: base });
  };
  for (const [labName, v] of model.stateDict()) {
    const names = checkpointNames(labName, E, model.config.nLayers);
    if (isStackedExperts(labName)) tf.unstack(v).forEach((t, e) => add(names[e], t));
    else add(names[0], v);
  }
  for (const [copy, original] of sharedCopies(model))
    out.set(copy, { t: out.get(original)!.t, dtype: out.get(original)!.dtype });
  return out;
}

/** The tensors of each model-parallel rank (convert.py's split); split pieces are new tensors, the rest are shared. */
function splitRanks(fn: string, named: [string, tf.Tensor][], mp: number, nExperts: number): Map<string, tf.Tensor>[] {
  const ranks = Array.from({ length: mp }, () => new Map<string, tf.Tensor>());
  if (nExperts % mp) throw new Error(`${fn}: options.mp (${mp}) must divide the number of routed experts ${nExperts}`);
  const layouts = named.map(([name]) => (mp === 1 ? null : mpLayout(name)));
  named.forEach(([name, t], i) => {
    const layout = layouts[i];
    if (layout && "dim" in layout && t.shape[layout.dim] % mp)
      throw new Error(`${fn}: tensor "${name}" [${t.shape}] cannot be split ${mp} ways along axis ${layout.dim}`);
  });
  named.forEach(([name, t], i) => {
    const layout = layouts[i];
    if (layout && "expert" in layout) ranks[Math.floor(layout.expert / (nExperts / mp))].set(name, t);
    else if (layout) tf.split(t, mp, layout.dim).forEach((piece, r) => ranks[r].set(name, piece));
    else for (const rank of ranks) rank.set(name, t);
  });
  return ranks;
}

/** Splits `entries` into `shards` contiguous groups of about equal bytes. */
function shardEntries(
  entries: [string, tf.Tensor][],
  shards: number,
  bytesPer: (name: string) => number,
): [string, tf.Tensor][][] {
  const total = entries.reduce((n, [name, t]) => n + t.size * bytesPer(name), 0);
  const groups: [string, tf.Tensor][][] = Array.from({ length: shards }, () => []);
  let acc = 0;
  for (const e of entries) {
    const g = Math.min(shards - 1, Math.floor((acc / total) * shards));
    groups[g].push(e);
    acc += e[1].size * bytesPer(e[0]);
  }
  return groups;
}

/**
 * Writes `model` as a DeepSeek checkpoint in `dir` (created if needed): config.json (HF DeepseekV3Config or inference
 * ModelArgs names) and the weights (HF: model.safetensors, or `shards` files model-0000k-of-0000n.safetensors with
 * model.safetensors.index.json; inference: model{r}-mp{mp}.safetensors, split as convert.py splits them), every weight
 * in `dtype` (the gate bias in F32; "fp8" as DeepSeek's FP8 release).
 * MTP modules (mtpDepth ≥ 1) go to HF layers n_layers + k with copies of the embedding and head, as in the V3
 * release (num_nextn_predict_layers = mtpDepth; mtpLambda, a training setting, is not stored); the inference format
 * has no MTP layer (convert.py drops it), so saving one there is an error.
 * The model must be expressible in the format (MLA, MoE, RMSNorm, untied head; see deepSeekConfigJson).
 */
export async function saveDeepSeek(
  model: TransformerLM,
  dir: string,
  options: Partial<SaveDeepSeekOptions> = {},
): Promise<void> {
  const fn = "saveDeepSeek(model, dir)";
  const opts = { ...DEFAULT_SAVE_DEEPSEEK, ...options };
  if (opts.format !== "hf" && opts.format !== "inference")
    throw new Error(`${fn}: options.format must be "hf" or "inference", got ${JSON.stringify(opts.format)}`);
  if (!SAVE_DTYPES.includes(opts.dtype))
    throw new Error(`${fn}: options.dtype must be one of ${SAVE_DTYPES.join(", ")}, got ${JSON.stringify(opts.dtype)}`);
  if (!Number.isSafeInteger(opts.shards) || opts.shards < 1 || (opts.format === "inference" && opts.shards !== 1)) {
    throw new Error(
      `${fn}: options.shards must be a positive integer (1 for the inference format), got ${opts.shards}`,
    );
  }
  if (!Number.isSafeInteger(opts.mp) || opts.mp < 1 || (opts.format === "hf" && opts.mp !== 1)) {
    throw new Error(`${fn}: options.mp must be a positive integer (1 for the hf format), got ${opts.mp}`);
  }
  const gateBias = model.moeLayers().some((l) => l.gate.bias !== null);
  const configJson = deepSeekConfigJson(model.config, opts.format, { gateBias, dtype: opts.dtype });
  const tensors = checkpointTensors(model, opts.dtype);
  try {
    mkdirSync(dir, { recursive: true });
    const rename = (k: string) => (opts.format === "hf" ? hfName(k) : k);
    const named: [string, tf.Tensor][] = [...tensors].map(([k, { t }]) => [rename(k), t]);
    const dtypes = new Map<string, SafetensorsDtype>([...tensors].map(([k, { dtype }]) => [rename(k), dtype]));
    if (opts.format === "inference") {
      const whole = new Set(named.map(([, t]) => t));
      const ranks = splitRanks(fn, named, opts.mp, model.config.ffn === "moe" ? moeSettings(model.config).nRouted : 0);
      try {
        ranks.forEach((rank, r) =>
          saveSafetensors(path.join(dir, `model${r}-mp${opts.mp}.safetensors`), rank, {}, dtypes),
        );
      } finally {
        for (const rank of ranks) tf.dispose([...rank.values()].filter((t) => !whole.has(t))); // the split pieces
      }
    } else if (opts.shards === 1) {
      saveSafetensors(path.join(dir, "model.safetensors"), new Map(named), { format: "pt" }, dtypes);
    } else {
      const weightMap: Record<string, string> = {};
      let totalSize = 0;
      shardEntries(named, opts.shards, (name) => BYTES[dtypes.get(name)!]!).forEach((group, k) => {
        const file = `model-${String(k + 1).padStart(5, "0")}-of-${String(opts.shards).padStart(5, "0")}.safetensors`;
        saveSafetensors(path.join(dir, file), new Map(group), { format: "pt" }, dtypes);
        for (const [name, t] of group) {
          weightMap[name] = file;
          totalSize += t.size * BYTES[dtypes.get(name)!]!;
        }
      });
      writeFileSync(
        path.join(dir, "model.safetensors.index.json"),
        JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2),
      );
    }
    writeFileSync(path.join(dir, "config.json"), JSON.stringify(configJson, null, 2));
  } finally {
    tf.dispose([...tensors.values()].map(({ t }) => t).filter((t) => !(t instanceof tf.Variable))); // slices, quantised values, scales
  }
}
