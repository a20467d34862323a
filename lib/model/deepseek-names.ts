// Tensor names of DeepSeek checkpoints: the inference names (`layers.N.attn.wkv_a.weight`, `…ffn.experts.E.w1.weight`),
// the Hugging Face names (`model.layers.N.self_attn.kv_a_proj_with_mqa.weight`, `…mlp.gate.e_score_correction_bias`)
// and the lab's state-dict names (stacked routed experts `layers.N.ffn.experts.w1` [E, h, d], shared experts as one
// SwiGLU `layers.N.ffn.shared`; MTP module k `mtp.k.…` is the HF checkpoint's layer n_layers + k). Reference:
// DeepSeek-V3 inference/convert.py (`mapping`, the renames of self_attn, mlp, weight_scale_inv and
// e_score_correction_bias; it drops the MTP layer); the V3 HF checkpoint's layer 61 (enorm, hnorm, eh_proj,
// shared_head.norm, shared_head.head, embed_tokens, a decoder block) as vLLM's deepseek_mtp.py reads it.

/** The lab's module names (= inference names) → HF names (convert.py's table, inverted). */
const HF_OF: Readonly<Record<string, string>> = Object.freeze({
  embed: "embed_tokens",
  attn_norm: "input_layernorm",
  ffn_norm: "post_attention_layernorm",
  wq: "q_proj",
  wq_a: "q_a_proj",
  q_norm: "q_a_layernorm",
  wq_b: "q_b_proj",
  wkv_a: "kv_a_proj_with_mqa",
  kv_norm: "kv_a_layernorm",
  wkv_b: "kv_b_proj",
  wo: "o_proj",
  gate: "gate",
  w1: "gate_proj",
  w2: "down_proj",
  w3: "up_proj",
  norm: "norm",
  enorm: "enorm",
  hnorm: "hnorm",
  eh_proj: "eh_proj",
  head: "head",
});
const INFERENCE_OF: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(HF_OF).map(([k, v]) => [v, k])),
);

/** HF name of an inference-format tensor name ("head.weight" → "lm_head.weight", "layers.0.attn.wq_a.scale" →
 * "model.layers.0.self_attn.q_a_proj.weight_scale_inv", "layers.3.ffn.gate.bias" → "…mlp.gate.e_score_correction_bias"). */
export function hfName(name: string): string {
  const parts = name.split(".");
  if (parts[0] === "head") return `lm_head.${parts.slice(1).join(".")}`.replace(/\.scale$/, ".weight_scale_inv");
  const out = parts.map((p) => (p === "attn" ? "self_attn" : p === "ffn" ? "mlp" : p));
  const module = out[out.length - 2];
  const hf = HF_OF[module];
  if (hf === undefined) throw new Error(`hfName(name): "${name}" has no Hugging Face counterpart (module "${module}")`);
  out[out.length - 2] = hf;
  const leaf = out[out.length - 1];
  if (leaf === "scale") out[out.length - 1] = "weight_scale_inv";
  if (leaf === "bias" && module === "gate") out[out.length - 1] = "e_score_correction_bias";
  return `model.${out.join(".")}`;
}

/** Inference name of an HF tensor name (convert.py's renames); null for a name outside the mapping. */
export function inferenceName(name: string): string | null {
  if (name.startsWith("lm_head."))
    return `head.${name.slice("lm_head.".length)}`.replace(/\.weight_scale_inv$/, ".scale");
  if (!name.startsWith("model.")) return null;
  const parts = name
    .slice("model.".length)
    .replace(/weight_scale_inv$/, "scale")
    .replace(/e_score_correction_bias$/, "bias")
    .split(".");
  const mapped = parts.map((p) => (p === "self_attn" ? "attn" : p === "mlp" ? "ffn" : p));
  const module = mapped[mapped.length - 2];
  const inf = INFERENCE_OF[module];
  if (inf === undefined) return null;
  mapped[mapped.length - 2] = inf;
  return mapped.join(".");
}

/** A lab name of MTP module k's tensor → its checkpoint layer's name (layer nLayers + k): `mtp.k.block.X` →
 * `layers.L.X`, `mtp.k.norm.weight` → `layers.L.shared_head.norm.weight`, `mtp.k.eh_proj.weight` → `layers.L.eh_proj.weight`;
 * other names unchanged. */
function mtpLayerName(labName: string, nLayers: number): string {
  const m = /^mtp\.(\d+)\.(.+)$/.exec(labName);
  if (!m) return labName;
  const layer = `layers.${nLayers + Number(m[1])}`;
  if (m[2].startsWith("block.")) return `${layer}.${m[2].slice("block.".length)}`;
  return `${layer}.${m[2] === "norm.weight" ? "shared_head.norm.weight" : m[2]}`;
}

/** A lab state-dict name → the inference names that hold it: a stacked routed-expert tensor [E, …] is E tensors; an
 * MTP module's tensors sit in layer nLayers + k. */
export function checkpointNames(labName: string, nExperts: number, nLayers: number): string[] {
  const name = mtpLayerName(labName, nLayers);
  const stacked = /^(layers\.\d+\.ffn\.experts)\.(w[123])$/.exec(name);
  if (stacked) return Array.from({ length: nExperts }, (_, e) => `${stacked[1]}.${e}.${stacked[2]}.weight`);
  return [name.replace(/^(layers\.\d+\.ffn)\.shared\./, "$1.shared_experts.")];
}

/** Whether a lab state-dict name is a stacked routed-expert tensor (held as one tensor per expert in checkpoints). */
export function isStackedExperts(labName: string): boolean {
  return /^(layers\.\d+|mtp\.\d+\.block)\.ffn\.experts\.w[123]$/.test(labName);
}

/** The copies of the shared embedding and output head that the HF checkpoint keeps in MTP layer `layer` (inference-
 * style names; HF `model.layers.L.embed_tokens.weight`, `model.layers.L.shared_head.head.weight`). */
export function mtpSharedCopies(layer: number): { embed: string; head: string } {
  return { embed: `layers.${layer}.embed.weight`, head: `layers.${layer}.shared_head.head.weight` };
}

/** DeepSeek's FP8 weight block: one scale per 128×128 block (HF quantization_config.weight_block_size). */
export const FP8_BLOCK = 128;

/** The Linear weights DeepSeek's FP8 release stores as F8_E4M3 with block scales: attention and FFN/expert
 * projections. The embedding, norms, gate and head stay BF16. */
export function isFp8Linear(inferenceWeightName: string): boolean {
  return /\.(wq|wq_a|wq_b|wkv_a|wkv_b|wo|w1|w2|w3)\.weight$/.test(inferenceWeightName);
}

/** convert.py's `mapping` dims: the axis a tensor of this module is split along across model-parallel ranks (its
 * `.scale` too); modules not listed are replicated on every rank. Routed experts are whole, dealt out by index. */
const MP_SPLIT_DIM: Readonly<Record<string, number>> = Object.freeze({
  embed: 0,
  wq: 0,
  wq_b: 0,
  wkv_b: 0,
  wo: 1,
  w1: 0,
  w2: 1,
  w3: 0,
  head: 0,
});

/** How an inference tensor is laid out over model-parallel ranks: a routed expert's index (it lives on rank
 * ⌊index / (E/mp)⌋), or the axis it is split along, or null (replicated). Reference: inference/convert.py `main`. */
export function mpLayout(name: string): { expert: number } | { dim: number } | null {
  const expert = /\.ffn\.experts\.(\d+)\./.exec(name);
  if (expert) return { expert: Number(expert[1]) };
  const parts = name.split(".");
  const dim = MP_SPLIT_DIM[parts[parts.length - 2]];
  return dim === undefined ? null : { dim };
}
