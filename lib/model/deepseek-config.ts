// DeepSeek-V2/V3 configuration files → LMConfig: both DeepSeek's inference `ModelArgs` JSON (inference/configs/
// config_16B.json, config_236B.json, config_671B.json) and Hugging Face's DeepseekV2Config / DeepseekV3Config
// config.json. References: DeepSeek-V3 inference/model.py `ModelArgs` (field names and defaults: a missing field takes
// the dataclass default, as `ModelArgs(**json)` does) and `Gate`; transformers configuration_deepseek_v3.py.
import { renormalizes, type MoEConfig } from "../moe";
import { lmConfig, LMConfig, moeSettings } from "./config";
import { FP8_BLOCK } from "./deepseek-names";
import { mlaConfig, type MLAConfig } from "./mla";
import { yarnScaling, type YarnScaling } from "./yarn";

/** Which naming a config file uses. */
export type DeepSeekFormat = "hf" | "inference";

/** What a DeepSeek config file says beyond the LMConfig. */
export interface DeepSeekSpec {
  /** The model (attention "mla" with interleaved RoPE, MoE FFN, untied head, RMSNorm). */
  config: LMConfig;
  /** Which naming the file used. */
  format: DeepSeekFormat;
  /** Multi-token-prediction modules the checkpoint carries (HF `num_nextn_predict_layers`; 0 for ModelArgs). */
  mtpDepth: number;
  /** Whether the gates hold the aux-loss-free correction bias (then moe.balance is "auxfree"). */
  gateBias: boolean;
  /** Fields read but with no effect on the model (runtime, tokenizer or training settings), in file order. */
  ignored: string[];
}

/** Options of deepSeekConfig. */
export interface DeepSeekConfigOptions {
  /** Whether the gates carry a correction bias. ModelArgs JSON has no field for it (the reference code tests
   * dim == 7168); HF config.json says so with topk_method "noaux_tc". null = the file's answer (ModelArgs: false).
   * Default null. */
  gateBias: boolean | null;
  /** MLA computation path. Default "naive". */
  mla: MLAConfig["path"];
  /** Give the LMConfig the file's MTP modules (mtpDepth = HF num_nextn_predict_layers); false: the main model only,
   * as DeepSeek counts its published sizes. Default false. */
  mtp: boolean;
}

export const DEFAULT_DEEPSEEK_CONFIG_OPTIONS: Readonly<DeepSeekConfigOptions> = Object.freeze({
  gateBias: null,
  mla: "naive" as MLAConfig["path"],
  mtp: false,
});

/** inference/model.py ModelArgs defaults (a field missing from the JSON takes these). */
const MODEL_ARGS = Object.freeze({
  max_batch_size: 8,
  max_seq_len: 4096 * 4,
  dtype: "bf16",
  scale_fmt: null as string | null,
  vocab_size: 102400,
  dim: 2048,
  inter_dim: 10944,
  moe_inter_dim: 1408,
  n_layers: 27,
  n_dense_layers: 1,
  n_heads: 16,
  n_routed_experts: 64,
  n_shared_experts: 2,
  n_activated_experts: 6,
  n_expert_groups: 1,
  n_limited_groups: 1,
  score_func: "softmax",
  route_scale: 1,
  q_lora_rank: 0,
  kv_lora_rank: 512,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  v_head_dim: 128,
  original_seq_len: 4096,
  rope_theta: 10000,
  rope_factor: 40,
  beta_fast: 32,
  beta_slow: 1,
  mscale: 1,
});

/** ModelArgs fields that set nothing in the model: batch capacity, storage dtype and scale format of the weights
 * (loadDeepSeek reads each tensor's own dtype; "ue8m0" scales are powers of two, dequantised the same way). */
const MODEL_ARGS_IGNORED = new Set(["max_batch_size", "dtype", "scale_fmt"]);

/** HF config.json fields the mapping reads. */
const HF_READ = new Set([
  "vocab_size",
  "hidden_size",
  "intermediate_size",
  "moe_intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
  "n_shared_experts",
  "n_routed_experts",
  "routed_scaling_factor",
  "kv_lora_rank",
  "q_lora_rank",
  "qk_rope_head_dim",
  "v_head_dim",
  "qk_nope_head_dim",
  "n_group",
  "topk_group",
  "num_experts_per_tok",
  "first_k_dense_replace",
  "norm_topk_prob",
  "scoring_func",
  "topk_method",
  "aux_loss_alpha",
  "seq_aux",
  "max_position_embeddings",
  "rms_norm_eps",
  "rope_theta",
  "rope_scaling",
  "rope_parameters",
  "rope_interleave",
  "num_nextn_predict_layers",
  "hidden_act",
  "attention_bias",
  "attention_dropout",
  "moe_layer_freq",
  "tie_word_embeddings",
  "quantization_config",
]);

/**
 * HF fields with no effect on the lab's model: identity and tooling, token ids, init and runtime settings, storage
 * dtype (loadDeepSeek reads each tensor's own), expert-parallel size, num_key_value_heads (MLA has no KV heads; HF sets it = num_attention_heads), derived head_dim / qk_head_dim.
 */
const HF_IGNORED = new Set([
  "architectures",
  "auto_map",
  "model_type",
  "transformers_version",
  "_name_or_path",
  "torch_dtype",
  "dtype",
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
  "initializer_range",
  "use_cache",
  "pretraining_tp",
  "ep_size",
  "num_key_value_heads",
  "head_dim",
  "qk_head_dim",
]);

const FN = "deepSeekConfig(json)";

function num(json: Record<string, unknown>, key: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new Error(`${FN}: field "${key}" must be a finite number, got ${JSON.stringify(json[key])}`);
  return v;
}

function isHf(json: Record<string, unknown>): boolean {
  return "hidden_size" in json || "model_type" in json || "num_hidden_layers" in json;
}

/** The MoE part shared by both namings. */
function moePart(
  fields: Omit<Partial<MoEConfig>, "balance">,
  gateBias: boolean,
  balance: Partial<MoEConfig>,
): Partial<MoEConfig> {
  return { ...fields, ...(gateBias ? { balance: "auxfree" as const } : balance) };
}

function fromModelArgs(json: Record<string, unknown>, opts: DeepSeekConfigOptions): DeepSeekSpec {
  const unknown = Object.keys(json).filter((k) => !(k in MODEL_ARGS));
  if (unknown.length)
    throw new Error(
      `${FN}: unknown ModelArgs field(s) ${unknown.map((k) => `"${k}"`).join(", ")} (known: ${Object.keys(MODEL_ARGS).join(", ")})`,
    );
  const a = { ...MODEL_ARGS, ...json } as typeof MODEL_ARGS;
  const n = (k: keyof typeof MODEL_ARGS) => num(a as unknown as Record<string, unknown>, k);
  if (a.score_func !== "softmax" && a.score_func !== "sigmoid")
    throw new Error(`${FN}: field "score_func" must be "softmax" or "sigmoid", got ${JSON.stringify(a.score_func)}`);
  if (a.dtype !== "bf16" && a.dtype !== "fp8")
    throw new Error(`${FN}: field "dtype" must be "bf16" or "fp8", got ${JSON.stringify(a.dtype)}`);
  const gateBias = opts.gateBias ?? false;
  const ropeScaling: Partial<YarnScaling> = {
    type: "yarn",
    factor: n("rope_factor"),
    originalMaxPositionEmbeddings: n("original_seq_len"),
    betaFast: n("beta_fast"),
    betaSlow: n("beta_slow"),
    mscale: n("mscale"),
    mscaleAllDim: n("mscale"),
  };
  const config = lmConfig({
    vocabSize: n("vocab_size"),
    dim: n("dim"),
    nLayers: n("n_layers"),
    nHeads: n("n_heads"),
    contextLen: n("max_seq_len"),
    ffnHidden: n("inter_dim"),
    ffn: "moe",
    nDenseLayers: n("n_dense_layers"),
    moe: moePart(
      {
        nRouted: n("n_routed_experts"),
        nShared: n("n_shared_experts"),
        topK: n("n_activated_experts"),
        expertHidden: n("moe_inter_dim"),
        scoreFunc: a.score_func as MoEConfig["scoreFunc"],
        nGroups: n("n_expert_groups"),
        topkGroups: n("n_limited_groups"),
        routeScale: n("route_scale"),
        renormalize: null,
        capacityFactor: null,
      },
      gateBias,
      { balance: "none" },
    ),
    norm: "rmsnorm",
    normEps: 1e-6,
    ropeTheta: n("rope_theta"),
    tiedHead: false,
    attention: "mla",
    ropeLayout: "interleaved",
    ropeScaling,
    mla: {
      qLoraRank: n("q_lora_rank"),
      kvLoraRank: n("kv_lora_rank"),
      qkNopeHeadDim: n("qk_nope_head_dim"),
      qkRopeHeadDim: n("qk_rope_head_dim"),
      vHeadDim: n("v_head_dim"),
      path: opts.mla,
    },
  });
  const ignored = Object.keys(json).filter((k) => MODEL_ARGS_IGNORED.has(k));
  return { config, format: "inference", mtpDepth: 0, gateBias, ignored };
}

function fromHf(json: Record<string, unknown>, opts: DeepSeekConfigOptions): DeepSeekSpec {
  const unknown = Object.keys(json).filter((k) => !HF_READ.has(k) && !HF_IGNORED.has(k));
  if (unknown.length)
    throw new Error(
      `${FN}: unknown Hugging Face DeepseekV2/V3Config field(s) ${unknown.map((k) => `"${k}"`).join(", ")}`,
    );
  const n = (k: string, fallback?: number) => num(json, k, fallback);
  const expect = (key: string, ok: (v: unknown) => boolean, what: string) => {
    if (key in json && !ok(json[key]))
      throw new Error(
        `${FN}: field "${key}" must be ${what} (the lab implements only that), got ${JSON.stringify(json[key])}`,
      );
  };
  expect("hidden_act", (v) => v === "silu", '"silu"');
  expect("attention_bias", (v) => v === false, "false");
  expect("attention_dropout", (v) => v === 0, "0");
  expect("moe_layer_freq", (v) => v === 1, "1");
  expect("tie_word_embeddings", (v) => v === false, "false");
  expect("scoring_func", (v) => v === "softmax" || v === "sigmoid", '"softmax" or "sigmoid"');
  expect(
    "topk_method",
    (v) => v === "greedy" || v === "group_limited_greedy" || v === "noaux_tc",
    '"greedy", "group_limited_greedy" or "noaux_tc"',
  );
  const q = json.quantization_config as Record<string, unknown> | undefined;
  if (
    q &&
    (q.quant_method !== "fp8" ||
      (q.fmt ?? "e4m3") !== "e4m3" ||
      JSON.stringify(q.weight_block_size ?? [FP8_BLOCK, FP8_BLOCK]) !== JSON.stringify([FP8_BLOCK, FP8_BLOCK]))
  ) {
    throw new Error(
      `${FN}: field "quantization_config" must describe fp8 e4m3 with weight_block_size [128, 128], got ${JSON.stringify(q)}`,
    );
  }
  const rope = (json.rope_scaling ?? json.rope_parameters ?? null) as Record<string, unknown> | null;
  const ropeType = rope ? (rope.type ?? rope.rope_type) : null;
  if (rope && ropeType !== "yarn" && ropeType !== "default")
    throw new Error(`${FN}: field "rope_scaling" type must be "yarn" (or "default"), got ${JSON.stringify(ropeType)}`);
  const ropeScaling: Partial<YarnScaling> | null =
    rope && ropeType === "yarn"
      ? {
          type: "yarn",
          factor: num(rope, "factor"),
          originalMaxPositionEmbeddings: num(rope, "original_max_position_embeddings"),
          betaFast: num(rope, "beta_fast", 32),
          betaSlow: num(rope, "beta_slow", 1),
          mscale: num(rope, "mscale", 1),
          mscaleAllDim: num(rope, "mscale_all_dim", 0),
        }
      : null;
  const ropeTheta = rope && typeof rope.rope_theta === "number" ? rope.rope_theta : n("rope_theta", 10000);
  const topkMethod = json.topk_method ?? "greedy";
  const gateBias = opts.gateBias ?? topkMethod === "noaux_tc";
  const alpha = typeof json.aux_loss_alpha === "number" ? json.aux_loss_alpha : 0;
  const balance: Partial<MoEConfig> =
    alpha > 0 ? { balance: json.seq_aux ? "sequence" : "switch", balanceCoef: alpha } : { balance: "none" };
  const config = lmConfig({
    vocabSize: n("vocab_size"),
    dim: n("hidden_size"),
    nLayers: n("num_hidden_layers"),
    nHeads: n("num_attention_heads"),
    contextLen: n("max_position_embeddings"),
    ffnHidden: n("intermediate_size"),
    ffn: "moe",
    nDenseLayers: n("first_k_dense_replace", 0),
    moe: moePart(
      {
        nRouted: n("n_routed_experts"),
        nShared: n("n_shared_experts", 0),
        topK: n("num_experts_per_tok"),
        expertHidden: n("moe_intermediate_size"),
        scoreFunc: (json.scoring_func ?? "softmax") as MoEConfig["scoreFunc"],
        nGroups: topkMethod === "greedy" ? 1 : n("n_group", 1),
        topkGroups: topkMethod === "greedy" ? 1 : n("topk_group", 1),
        routeScale: n("routed_scaling_factor", 1),
        renormalize: json.norm_topk_prob === true,
        capacityFactor: null,
      },
      gateBias,
      balance,
    ),
    norm: "rmsnorm",
    normEps: n("rms_norm_eps", 1e-6),
    ropeTheta,
    tiedHead: false,
    attention: "mla",
    ropeLayout: json.rope_interleave === false ? "half" : "interleaved",
    ropeScaling,
    mla: {
      qLoraRank: json.q_lora_rank == null ? 0 : n("q_lora_rank"),
      kvLoraRank: n("kv_lora_rank"),
      qkNopeHeadDim: n("qk_nope_head_dim"),
      qkRopeHeadDim: n("qk_rope_head_dim"),
      vHeadDim: n("v_head_dim"),
      path: opts.mla,
    },
  });
  const ignored = Object.keys(json).filter((k) => HF_IGNORED.has(k));
  const mtpDepth = n("num_nextn_predict_layers", 0);
  return {
    config: opts.mtp && mtpDepth > 0 ? lmConfig({ ...config, mtpDepth }) : config,
    format: "hf",
    mtpDepth,
    gateBias,
    ignored,
  };
}

/**
 * Everything a DeepSeek config file says: the LMConfig, the naming, MTP depth, gate bias and weight storage.
 * Both namings map to the same LMConfig: attention "mla" (q-LoRA when q_lora_rank > 0), interleaved RoPE (HF:
 * unless rope_interleave is false), YaRN (on when max_seq_len / max_position_embeddings exceeds the original length),
 * MoE from layer n_dense_layers / first_k_dense_replace on, untied head, RMSNorm. Routing: V2's "greedy" ignores the
 * groups, "group_limited_greedy" and "noaux_tc" use them; the HF `norm_topk_prob` sets renormalisation explicitly,
 * ModelArgs uses the reference rule (sigmoid only). A gate bias makes moe.balance "auxfree"; otherwise HF's
 * aux_loss_alpha gives "sequence" (seq_aux) or "switch" with that coefficient, and ModelArgs (no training fields)
 * "none". HF's `mscale` scales the cos/sin amplitude and `mscale_all_dim` the softmax (as yarnMscale); ModelArgs'
 * single `mscale` is the softmax one (amplitude 1). Unknown fields are an error naming them; the fields with no effect
 * on the model are listed in `ignored`.
 */
export function readDeepSeekConfig(json: unknown, options: Partial<DeepSeekConfigOptions> = {}): DeepSeekSpec {
  const opts = { ...DEFAULT_DEEPSEEK_CONFIG_OPTIONS, ...options };
  if (!json || typeof json !== "object" || Array.isArray(json))
    throw new Error(
      `${FN}: expected a config object (parsed config.json), got ${json === null ? "null" : typeof json}`,
    );
  const j = json as Record<string, unknown>;
  return isHf(j) ? fromHf(j, opts) : fromModelArgs(j, opts);
}

/** The LMConfig of a DeepSeek config file (inference ModelArgs or HF DeepseekV2/V3Config names); see readDeepSeekConfig. */
export function deepSeekConfig(json: unknown, options: Partial<DeepSeekConfigOptions> = {}): LMConfig {
  return readDeepSeekConfig(json, options).config;
}

/** Options of deepSeekConfigJson. */
export interface DeepSeekConfigJsonOptions {
  /** The gates hold a correction bias (HF topk_method "noaux_tc"). */
  gateBias: boolean;
  /** The weights' storage dtype: HF torch_dtype (fp8: "bfloat16" + quantization_config, as the V3 release);
   * ModelArgs dtype "fp8", else "bf16" (it names no other). */
  dtype: "float32" | "bfloat16" | "float16" | "fp8";
}

/**
 * The config.json of a DeepSeek checkpoint of `config`: Hugging Face DeepseekV3Config names (format "hf") or inference
 * ModelArgs names ("inference"); readDeepSeekConfig maps it back to `config`. The model must be one the format can
 * express: attention "mla" with interleaved RoPE, ffn "moe" with dropless token-choice routing, RMSNorm, untied head;
 * ModelArgs also needs the reference's renormalisation rule, normEps 1e-6 and equal YaRN mscales. Otherwise an error
 * names the field (the list, with the reasons: docs/checkpoints.md).
 */
export function deepSeekConfigJson(
  config: LMConfig,
  format: DeepSeekFormat,
  opts: DeepSeekConfigJsonOptions,
): Record<string, unknown> {
  const fn = "deepSeekConfigJson(config, format)";
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`${fn}: a DeepSeek ${format} config needs ${what}`);
  };
  need(config.attention === "mla", `attention "mla", got ${JSON.stringify(config.attention)}`);
  need(
    config.ropeLayout === "interleaved" || format === "hf",
    `ropeLayout "interleaved", got ${JSON.stringify(config.ropeLayout)}`,
  );
  need(config.ffn === "moe", `ffn "moe", got ${JSON.stringify(config.ffn)}`);
  need(config.norm === "rmsnorm", `norm "rmsnorm", got ${JSON.stringify(config.norm)}`);
  need(!config.tiedHead, "an untied head (tiedHead false)");
  need(
    format === "hf" || config.mtpDepth === 0,
    `mtpDepth 0, got ${config.mtpDepth}: DeepSeek's convert.py drops the MTP layer (model.layers.{n_layers}), so the inference format has none; save as "hf"`,
  );
  const m = moeSettings(config);
  need(
    m.routing === "token-choice",
    `moe.routing "token-choice", got ${JSON.stringify(m.routing)}: DeepSeek's gate lets each token pick its experts; no config field says experts pick tokens`,
  );
  need(
    m.capacityFactor === null,
    `moe.capacityFactor null (dropless), got ${m.capacityFactor}: DeepSeek-V3 drops no tokens and its config has no capacity field, so an engine would route the tokens this model drops`,
  );
  const mla = mlaConfig(config.mla);
  const yarn = config.ropeScaling ? yarnScaling(config.ropeScaling) : null;
  if (format === "inference") {
    need(
      m.renormalize === null || m.renormalize === (m.scoreFunc === "sigmoid"),
      "moe.renormalize null (ModelArgs renormalises exactly when score_func is sigmoid)",
    );
    need(config.normEps === 1e-6, `normEps 1e-6 (model.py's RMSNorm default), got ${config.normEps}`);
    need(!yarn || yarn.mscale === yarn.mscaleAllDim, "ropeScaling.mscale = mscaleAllDim (ModelArgs has one mscale)");
    return {
      max_seq_len: config.contextLen,
      vocab_size: config.vocabSize,
      dim: config.dim,
      inter_dim: config.ffnHidden,
      moe_inter_dim: m.expertHidden ?? config.dim,
      n_layers: config.nLayers,
      n_dense_layers: config.nDenseLayers,
      n_heads: config.nHeads,
      n_routed_experts: m.nRouted,
      n_shared_experts: m.nShared,
      n_activated_experts: m.topK,
      n_expert_groups: m.nGroups,
      n_limited_groups: m.topkGroups,
      score_func: m.scoreFunc,
      route_scale: m.routeScale,
      q_lora_rank: mla.qLoraRank,
      kv_lora_rank: mla.kvLoraRank,
      qk_nope_head_dim: mla.qkNopeHeadDim,
      qk_rope_head_dim: mla.qkRopeHeadDim,
      v_head_dim: mla.vHeadDim,
      // no YaRN: original_seq_len = max_seq_len keeps it off (the reference switches on max_seq_len > original_seq_len)
      original_seq_len: yarn ? yarn.originalMaxPositionEmbeddings : config.contextLen,
      rope_theta: config.ropeTheta,
      rope_factor: yarn ? yarn.factor : 1,
      beta_fast: yarn ? yarn.betaFast : 32,
      beta_slow: yarn ? yarn.betaSlow : 1,
      mscale: yarn ? yarn.mscaleAllDim : 1,
      dtype: opts.dtype === "fp8" ? "fp8" : "bf16",
    };
  }
  const aux =
    m.balance === "sequence" || m.balance === "switch"
      ? { aux_loss_alpha: m.balanceCoef, seq_aux: m.balance === "sequence" }
      : {};
  return {
    architectures: ["DeepseekV3ForCausalLM"],
    model_type: "deepseek_v3",
    vocab_size: config.vocabSize,
    hidden_size: config.dim,
    intermediate_size: config.ffnHidden,
    moe_intermediate_size: m.expertHidden ?? config.dim,
    num_hidden_layers: config.nLayers,
    num_attention_heads: config.nHeads,
    num_key_value_heads: config.nHeads,
    n_shared_experts: m.nShared,
    n_routed_experts: m.nRouted,
    routed_scaling_factor: m.routeScale,
    kv_lora_rank: mla.kvLoraRank,
    q_lora_rank: mla.qLoraRank || null,
    qk_rope_head_dim: mla.qkRopeHeadDim,
    v_head_dim: mla.vHeadDim,
    qk_nope_head_dim: mla.qkNopeHeadDim,
    n_group: m.nGroups,
    topk_group: m.topkGroups,
    num_experts_per_tok: m.topK,
    first_k_dense_replace: config.nDenseLayers,
    moe_layer_freq: 1,
    norm_topk_prob: renormalizes(m),
    scoring_func: m.scoreFunc,
    topk_method: opts.gateBias ? "noaux_tc" : m.nGroups > 1 ? "group_limited_greedy" : "greedy",
    ...aux,
    hidden_act: "silu",
    max_position_embeddings: config.contextLen,
    rms_norm_eps: config.normEps,
    rope_theta: config.ropeTheta,
    rope_scaling: yarn
      ? {
          type: "yarn",
          factor: yarn.factor,
          original_max_position_embeddings: yarn.originalMaxPositionEmbeddings,
          beta_fast: yarn.betaFast,
          beta_slow: yarn.betaSlow,
          mscale: yarn.mscale,
          mscale_all_dim: yarn.mscaleAllDim,
        }
      : null,
    rope_interleave: config.ropeLayout === "interleaved",
    tie_word_embeddings: false,
    attention_bias: false,
    num_nextn_predict_layers: config.mtpDepth,
    torch_dtype: opts.dtype === "fp8" ? "bfloat16" : opts.dtype,
    ...(opts.dtype === "fp8"
      ? {
          quantization_config: {
            quant_method: "fp8",
            fmt: "e4m3",
            activation_scheme: "dynamic",
            weight_block_size: [FP8_BLOCK, FP8_BLOCK],
          },
        }
      : {}),
  };
}
