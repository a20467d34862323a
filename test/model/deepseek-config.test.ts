// DeepSeek configs → LMConfig: the real inference configs (DeepSeek-V3 inference/configs) and HF config.json files give
// the published sizes (counted independently below) and MLA's cache per token; a tiny config counted by hand; MTP;
// HF and ModelArgs round trips; unknown or unsupported fields are named errors.
import { describe, expect, it } from "vitest";
import {
  countParams,
  DEEPSEEK_PRESETS,
  deepSeekConfig,
  deepSeekPreset,
  deepSeekConfigJson,
  kvCacheBytesPerToken,
  lmConfig,
  mtpParams,
  readDeepSeekConfig,
  TransformerLM,
  type DeepSeekPresetName,
} from "../../lib/model";

/** The published ModelArgs files (inference/configs/config_16B.json, config_236B.json, config_671B.json), as the lab ships them. */
type ModelArgs = Record<string, number> & { q_lora_rank: number };
const args = (name: DeepSeekPresetName) => DEEPSEEK_PRESETS[name].modelArgs as unknown as ModelArgs;
const CONFIG_16B = args("DeepSeek-V2-Lite");
const CONFIG_236B = args("DeepSeek-V2");
const CONFIG_671B = args("DeepSeek-V3");
/** deepseek-ai/DeepSeek-V3 config.json on the Hugging Face hub (auto_map omitted). */
const HF_V3 = {
  architectures: ["DeepseekV3ForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  aux_loss_alpha: 0.001,
  bos_token_id: 0,
  eos_token_id: 1,
  ep_size: 1,
  first_k_dense_replace: 3,
  hidden_act: "silu",
  hidden_size: 7168,
  initializer_range: 0.02,
  intermediate_size: 18432,
  kv_lora_rank: 512,
  max_position_embeddings: 163840,
  model_type: "deepseek_v3",
  moe_intermediate_size: 2048,
  moe_layer_freq: 1,
  n_group: 8,
  n_routed_experts: 256,
  n_shared_experts: 1,
  norm_topk_prob: true,
  num_attention_heads: 128,
  num_experts_per_tok: 8,
  num_hidden_layers: 61,
  num_key_value_heads: 128,
  num_nextn_predict_layers: 1,
  q_lora_rank: 1536,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  quantization_config: {
    activation_scheme: "dynamic",
    fmt: "e4m3",
    quant_method: "fp8",
    weight_block_size: [128, 128],
  },
  rms_norm_eps: 1e-6,
  rope_scaling: {
    beta_fast: 32,
    beta_slow: 1,
    factor: 40,
    mscale: 1.0,
    mscale_all_dim: 1.0,
    original_max_position_embeddings: 4096,
    type: "yarn",
  },
  rope_theta: 10000,
  routed_scaling_factor: 2.5,
  scoring_func: "sigmoid",
  seq_aux: true,
  tie_word_embeddings: false,
  topk_group: 4,
  topk_method: "noaux_tc",
  torch_dtype: "bfloat16",
  transformers_version: "4.33.1",
  use_cache: true,
  v_head_dim: 128,
  vocab_size: 129280,
};
/** deepseek-ai/DeepSeek-V2-Lite config.json (auto_map omitted). */
const HF_V2_LITE = {
  architectures: ["DeepseekV2ForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  aux_loss_alpha: 0.001,
  bos_token_id: 100000,
  eos_token_id: 100001,
  first_k_dense_replace: 1,
  hidden_act: "silu",
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 10944,
  kv_lora_rank: 512,
  max_position_embeddings: 163840,
  model_type: "deepseek_v2",
  moe_intermediate_size: 1408,
  moe_layer_freq: 1,
  n_group: 1,
  n_routed_experts: 64,
  n_shared_experts: 2,
  norm_topk_prob: false,
  num_attention_heads: 16,
  num_experts_per_tok: 6,
  num_hidden_layers: 27,
  num_key_value_heads: 16,
  pretraining_tp: 1,
  q_lora_rank: null,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  rms_norm_eps: 1e-6,
  rope_scaling: {
    beta_fast: 32,
    beta_slow: 1,
    factor: 40,
    mscale: 0.707,
    mscale_all_dim: 0.707,
    original_max_position_embeddings: 4096,
    type: "yarn",
  },
  rope_theta: 10000,
  routed_scaling_factor: 1.0,
  scoring_func: "softmax",
  seq_aux: true,
  tie_word_embeddings: false,
  topk_group: 1,
  topk_method: "greedy",
  torch_dtype: "bfloat16",
  transformers_version: "4.33.1",
  use_cache: true,
  v_head_dim: 128,
  vocab_size: 102400,
};

/**
 * An independent count (a different decomposition from countParams: per-model sums written out from ModelArgs),
 * returning [total, active incl. embedding]. MLA: wq_a + q_norm + wq_b (or wq), wkv_a + kv_norm + wkv_b, wo.
 */
function independentCount(a: ModelArgs): [number, number] {
  const qk = a.qk_nope_head_dim + a.qk_rope_head_dim;
  const q = a.q_lora_rank
    ? a.dim * a.q_lora_rank + a.q_lora_rank + a.q_lora_rank * a.n_heads * qk
    : a.dim * a.n_heads * qk;
  const mla =
    q +
    a.dim * (a.kv_lora_rank + a.qk_rope_head_dim) +
    a.kv_lora_rank +
    a.kv_lora_rank * a.n_heads * (a.qk_nope_head_dim + a.v_head_dim) +
    a.n_heads * a.v_head_dim * a.dim;
  const expert = 3 * a.dim * a.moe_inter_dim;
  const moeLayers = a.n_layers - a.n_dense_layers;
  const base =
    2 * a.vocab_size * a.dim + a.n_layers * (mla + 2 * a.dim) + a.dim + a.n_dense_layers * 3 * a.dim * a.inter_dim;
  const gateShared = a.n_routed_experts * a.dim + a.n_shared_experts * expert;
  return [
    base + moeLayers * (gateShared + a.n_routed_experts * expert),
    base + moeLayers * (gateShared + a.n_activated_experts * expert),
  ];
}

describe("deepSeekConfig", () => {
  it("maps config_671B.json (V3): MLA with q-LoRA, YaRN, grouped sigmoid MoE; 671B total, 37B active (non-embedding)", () => {
    const c = deepSeekConfig(CONFIG_671B, { gateBias: true });
    expect(c).toMatchObject({
      attention: "mla",
      ropeLayout: "interleaved",
      ffn: "moe",
      nDenseLayers: 3,
      tiedHead: false,
      contextLen: 16384,
      norm: "rmsnorm",
    });
    expect(c.mla).toMatchObject({
      qLoraRank: 1536,
      kvLoraRank: 512,
      qkNopeHeadDim: 128,
      qkRopeHeadDim: 64,
      vHeadDim: 128,
    });
    expect(c.moe).toMatchObject({
      nRouted: 256,
      nShared: 1,
      topK: 8,
      expertHidden: 2048,
      scoreFunc: "sigmoid",
      nGroups: 8,
      topkGroups: 4,
      routeScale: 2.5,
      balance: "auxfree",
    });
    expect(c.ropeScaling).toMatchObject({
      factor: 40,
      originalMaxPositionEmbeddings: 4096,
      betaFast: 32,
      betaSlow: 1,
      mscale: 1,
      mscaleAllDim: 1,
    });
    const p = countParams(c);
    const [total, active] = independentCount(CONFIG_671B);
    expect([p.total, p.active]).toEqual([total, active]);
    expect(p.total).toBe(671_026_404_352);
    expect(p.activeNonEmbedding).toBe(36_625_603_584);
    expect(Math.round(p.total / 1e9)).toBe(671);
    expect(Math.round(p.activeNonEmbedding / 1e9)).toBe(37);
    expect(p.gateBias).toBe(256 * 58);
  });

  it("deepSeekPreset: the published files through deepSeekConfig, V3 with its gate bias; unknown names are named", () => {
    expect(deepSeekPreset("DeepSeek-V3")).toEqual(deepSeekConfig(CONFIG_671B, { gateBias: true }));
    expect(deepSeekPreset("DeepSeek-V2", { mla: "absorbed" })).toEqual(
      deepSeekConfig(CONFIG_236B, { mla: "absorbed" }),
    );
    expect(deepSeekPreset("DeepSeek-V2-Lite").moe.balance).toBe("none");
    expect(deepSeekPreset("DeepSeek-V3").moe.balance).toBe("auxfree");
    expect(() => deepSeekPreset("DeepSeek-V4" as DeepSeekPresetName)).toThrow(
      "deepSeekPreset(name): expected one of DeepSeek-V3, DeepSeek-V2, DeepSeek-V2-Lite, got DeepSeek-V4",
    );
  });

  it("gives V2 236B / 21B and V2-Lite 15.7B / 2.4B (active counted without the input embedding table)", () => {
    const v2 = countParams(deepSeekConfig(CONFIG_236B));
    expect([v2.total, v2.active]).toEqual(independentCount(CONFIG_236B));
    expect(Math.round(v2.total / 1e9)).toBe(236);
    expect(Math.round(v2.activeNonEmbedding / 1e9)).toBe(21);
    const lite = countParams(deepSeekConfig(CONFIG_16B));
    expect([lite.total, lite.active]).toEqual(
      independentCount({ ...CONFIG_16B, n_expert_groups: 1, n_limited_groups: 1 } as never),
    );
    expect(Math.round(lite.total / 1e8) / 10).toBe(15.7);
    // 2,451,435,008: the V2 paper's "2.4B" is this truncated (rounding gives 2.5); with the embedding it is 2.66B.
    expect(lite.activeNonEmbedding).toBe(2_451_435_008);
    expect(Math.floor(lite.activeNonEmbedding / 1e8) / 10).toBe(2.4);
  });

  it("MLA's cache per token: V3 (512 + 64) × 61 elements absorbed, 128·(192 + 128) × 61 naive", () => {
    const absorbed = deepSeekConfig(CONFIG_671B, { mla: "absorbed" });
    expect(kvCacheBytesPerToken(absorbed, 1)).toBe((512 + 64) * 61);
    expect(kvCacheBytesPerToken(deepSeekConfig(CONFIG_671B, { mla: "naive" }), 1)).toBe(128 * (192 + 128) * 61);
    expect(kvCacheBytesPerToken(deepSeekConfig(CONFIG_236B, { mla: "absorbed" }), 2)).toBe((512 + 64) * 60 * 2);
  });

  it("reads HF DeepseekV3Config / DeepseekV2Config names to the same model as ModelArgs", () => {
    const hf = readDeepSeekConfig(HF_V3);
    expect(hf).toMatchObject({ format: "hf", mtpDepth: 1, gateBias: true });
    expect(hf.ignored).toEqual([
      "architectures",
      "bos_token_id",
      "eos_token_id",
      "ep_size",
      "initializer_range",
      "model_type",
      "num_key_value_heads",
      "torch_dtype",
      "transformers_version",
      "use_cache",
    ]);
    const inf = deepSeekConfig(CONFIG_671B, { gateBias: true });
    // Same model: HF states the renormalisation (norm_topk_prob) that ModelArgs leaves to the sigmoid rule; HF's
    // context is max_position_embeddings 163840, ModelArgs' the runtime max_seq_len default 16384; HF carries its
    // sequence-wise α, which auxfree balancing does not use.
    const strip = (c: ReturnType<typeof deepSeekConfig>) => ({
      ...c,
      contextLen: 0,
      moe: { ...c.moe, renormalize: null, balanceCoef: 0 },
    });
    expect(strip(hf.config)).toEqual(strip(inf));
    expect(countParams(hf.config).total).toBe(671_026_404_352);
    const lite = deepSeekConfig(HF_V2_LITE);
    expect(countParams(lite).total).toBe(countParams(deepSeekConfig(CONFIG_16B)).total);
    expect(lite.moe).toMatchObject({
      scoreFunc: "softmax",
      renormalize: false,
      nGroups: 1,
      balance: "sequence",
      balanceCoef: 0.001,
    });
    expect(lite.mla.qLoraRank).toBe(0);
    expect(lite.ropeScaling).toMatchObject({ mscale: 0.707, mscaleAllDim: 0.707 });
  });

  it("counts a tiny MLA + MoE config by hand, equal to the built model's parameters", () => {
    const c = lmConfig({
      vocabSize: 10,
      dim: 8,
      nLayers: 2,
      nHeads: 2,
      contextLen: 16,
      ffnHidden: 12,
      ffn: "moe",
      nDenseLayers: 1,
      tiedHead: false,
      attention: "mla",
      ropeLayout: "interleaved",
      mla: { qLoraRank: 4, kvLoraRank: 6, qkNopeHeadDim: 2, qkRopeHeadDim: 2, vHeadDim: 3 },
      moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 5, balance: "auxfree" },
    });
    // MLA: wq_a 8·4 = 32, q_norm 4, wq_b [2·(2+2), 4] = 32, wkv_a [6+2, 8] = 64, kv_norm 6, wkv_b [2·(2+3), 6] = 60, wo [8, 6] = 48 → 246.
    // Dense FFN 3·8·12 = 288. MoE: gate 4·8 = 32, expert 3·8·5 = 120, 4 routed 480, shared 120 → 632; active 32 + 2·120 + 120 = 392.
    // Embedding 80, head 80, norms 2·2·8 + 8 = 40.
    const p = countParams(c);
    expect(p.attentionPerLayer).toBe(246);
    expect(p.total).toBe(80 + 80 + 2 * 246 + 288 + 632 + 40); // 1612
    expect(p.active).toBe(80 + 80 + 2 * 246 + 288 + 392 + 40); // 1372
    expect(p.activeNonEmbedding).toBe(1372 - 80);
    expect(p.gateBias).toBe(4);
    const model = new TransformerLM(c);
    expect(model.numParams()).toBe(1612);
    expect([...model.namedBuffers().values()].reduce((n, v) => n + v.size, 0)).toBe(4);
    model.dispose();
    // One MTP module: norms 3·8, projection 8·16 = 128, a block (MLA 246 + norms 16 + the MoE FFN 632 / 392 active).
    expect(mtpParams(c, 1)).toEqual({
      total: 24 + 128 + 246 + 16 + 632,
      active: 24 + 128 + 246 + 16 + 392,
      perModule: 1046,
    });
    expect(mtpParams(c, 2).total).toBe(2 * 1046);
    expect(() => mtpParams(c, -1)).toThrow("mtpParams(c, depth): depth must be an integer ≥ 0, got -1");
  });

  it("counts V3's MTP module (the HF checkpoint stores 2·V·d more: copies of the shared embedding and head)", () => {
    const c = deepSeekConfig(HF_V3);
    const m = mtpParams(c, readDeepSeekConfig(HF_V3).mtpDepth);
    const p = countParams(c);
    expect(m.total).toBe(3 * 7168 + 2 * 7168 * 7168 + p.attentionPerLayer + 2 * 7168 + p.moeFfnPerLayer);
    // The hub's model card says 671B main + 14B MTP = 685B; counted: 671.03B + 11.61B MTP + 1.85B embedding/head copies
    // = 684.49B (13.46B for the MTP layer as stored).
    expect(Math.round((m.total + 2 * p.embedding) / 1e7) / 100).toBe(13.46);
    expect(Math.round((p.total + m.total + 2 * p.embedding) / 1e7) / 100).toBe(684.49);
  });

  it("writes configs that read back to the same LMConfig (HF and ModelArgs)", () => {
    for (const src of [
      deepSeekConfig(CONFIG_671B, { gateBias: true }),
      deepSeekConfig(CONFIG_236B),
      deepSeekConfig(HF_V2_LITE),
    ]) {
      const gateBias = src.moe.balance === "auxfree";
      const hf = readDeepSeekConfig(deepSeekConfigJson(src, "hf", { gateBias, dtype: "bfloat16" }));
      expect(hf.config).toEqual(
        src.moe.renormalize === null
          ? { ...src, moe: { ...src.moe, renormalize: src.moe.scoreFunc === "sigmoid" } }
          : src,
      );
    }
    const v3 = deepSeekConfig(CONFIG_671B, { gateBias: true });
    expect(
      deepSeekConfig(deepSeekConfigJson(v3, "inference", { gateBias: true, dtype: "float32" }), { gateBias: true }),
    ).toEqual(v3);
  });

  it("names unknown and unsupported fields", () => {
    expect(() => deepSeekConfig({ ...CONFIG_671B, n_experts: 3 })).toThrow(
      'deepSeekConfig(json): unknown ModelArgs field(s) "n_experts"',
    );
    expect(() => deepSeekConfig({ ...HF_V3, sliding_window: 4 })).toThrow(
      'unknown Hugging Face DeepseekV2/V3Config field(s) "sliding_window"',
    );
    expect(() => deepSeekConfig({ ...HF_V3, hidden_act: "gelu" })).toThrow('field "hidden_act" must be "silu"');
    expect(() => deepSeekConfig({ ...HF_V3, rope_scaling: { type: "linear", factor: 2 } })).toThrow(
      'field "rope_scaling" type must be "yarn"',
    );
    expect(() => deepSeekConfig({ ...CONFIG_671B, score_func: "relu" })).toThrow(
      'field "score_func" must be "softmax" or "sigmoid"',
    );
    expect(() => deepSeekConfig({ ...CONFIG_671B, dim: "7168" })).toThrow(
      'field "dim" must be a finite number, got "7168"',
    );
    expect(() => deepSeekConfig([1])).toThrow("deepSeekConfig(json): expected a config object");
    expect(() =>
      deepSeekConfig({ ...HF_V3, quantization_config: { quant_method: "fp8", weight_block_size: [64, 64] } }),
    ).toThrow('field "quantization_config" must describe fp8 e4m3');
    const gqa = lmConfig({ ffn: "moe", tiedHead: false });
    expect(() => deepSeekConfigJson(gqa, "hf", { gateBias: false, dtype: "float32" })).toThrow(
      'deepSeekConfigJson(config, format): a DeepSeek hf config needs attention "mla", got "mha"',
    );
  });
});
