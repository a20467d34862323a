// Model shapes the planner reads: a small interface (layers, widths, heads, attention kind, MoE fields) with parameter
// counts derived in one place, a converter from lab.model's LMConfig, and published shapes with their source (DeepSeek's
// converted from lab.model's published configs, the others as data).
// References: DeepSeek-V3 inference/configs (lab.model.DEEPSEEK_PRESETS), GPT-3 Table 2.1, Llama 2 Table 1.
import { kvHeads, mlaSettings } from "../model/attention-kind";
import { countParams, moeSettings } from "../model/config";
import { deepSeekPreset } from "../model/deepseek-presets";
import { renormalizes } from "../moe/config";
import type { LMConfig } from "../model/config";
import { SOURCES } from "./figure";

/** Multi-head attention (kvHeads < heads: grouped-query); head width hidden/heads. */
export interface MhaShape {
  kind: "mha";
  kvHeads: number;
}

/** DeepSeek's multi-head latent attention (V2/V3): low-rank q and kv, a decoupled shared RoPE key. */
export interface MlaShape {
  kind: "mla";
  /** 0 = q projected directly. */
  qLoraRank: number;
  kvLoraRank: number;
  qkNopeDim: number;
  qkRopeDim: number;
  vDim: number;
}

/** DeepSeekMoE FFN fields (layers from nDenseLayers on). */
export interface MoEShape {
  nRouted: number;
  nShared: number;
  topK: number;
  expertHidden: number;
  nDenseLayers: number;
  /** Expert groups (V3: 8, one per node in its deployment). */
  nGroups: number;
  /** Groups a token may use (V3: M = 4). */
  topkGroups: number;
  /** Affinity function (V2: softmax over all experts; V3: sigmoid). */
  scoreFunc: "softmax" | "sigmoid";
  /** The top-k weights are renormalised to sum to 1 (V3: yes; V2: no). */
  renormalize: boolean;
  /** Multiplier of the routed output (V3: 2.5; V2: 16; V2-Lite: 1). */
  routeScale: number;
  /** A selection-only bias per expert (V3's aux-loss-free balancing). */
  expertBias: boolean;
}

/** What the planner needs to know about a model. */
export interface ModelShape {
  name: string;
  /** Where the dimensions come from. */
  source: string;
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  /** Training sequence length s. */
  seqLen: number;
  /** Dense FFN width. */
  ffnHidden: number;
  /** "gelu": two matrices (GPT); "swiglu": three (LLaMA, DeepSeek). */
  ffnKind: "gelu" | "swiglu";
  attention: MhaShape | MlaShape;
  moe: MoEShape | null;
  norm: "layernorm" | "rmsnorm";
  /** Linear layers carry biases (GPT-3). */
  bias: boolean;
  tiedEmbeddings: boolean;
  /** Learned absolute position embeddings of seqLen rows (GPT-3). */
  positionEmbeddings: boolean;
  /** Dropout in training (adds Korthikanti's mask terms). */
  dropout: boolean;
}

/** Parameter counts of a shape. */
export interface ShapeParams {
  total: number;
  /** Used by one token (routed experts: topK of nRouted). */
  active: number;
  /** Embedding (+ position table) and an untied head. */
  embedding: number;
  /** One layer's attention (projections, biases, attention norms). */
  attentionPerLayer: number;
  /** All routed experts of all MoE layers (sharded by expert parallelism). */
  routedExperts: number;
  /** Everything but the routed experts and the embeddings (sharded by tensor parallelism). */
  denseLayers: number;
  /** One dense FFN with its norm. */
  denseFfnPerLayer: number;
  /** One MoE layer's non-routed part: shared experts, gate, FFN norm. */
  moeSharedPerLayer: number;
  /** One MoE layer's routed experts. */
  routedPerLayer: number;
  /** The norm before the head. */
  finalNorm: number;
}

function attentionParams(s: ModelShape): number {
  const { hidden: d, heads: H } = s;
  const a = s.attention;
  if (a.kind === "mha") {
    const dh = d / H;
    return d * d + 2 * d * a.kvHeads * dh + d * d + (s.bias ? d + 2 * a.kvHeads * dh + d : 0);
  }
  const qk = a.qkNopeDim + a.qkRopeDim;
  const q = a.qLoraRank > 0 ? d * a.qLoraRank + a.qLoraRank + a.qLoraRank * H * qk : d * H * qk; // wq_a, q_norm, wq_b
  return (
    q + d * (a.kvLoraRank + a.qkRopeDim) + a.kvLoraRank + a.kvLoraRank * H * (a.qkNopeDim + a.vDim) + H * a.vDim * d
  );
}

/** One FFN of hidden width `width` (SwiGLU: 3 matrices; GELU: 2, plus biases when the shape has them). */
export function ffnParams(s: ModelShape, width: number): number {
  const d = s.hidden;
  return s.ffnKind === "swiglu" ? 3 * d * width : 2 * d * width + (s.bias ? width + d : 0);
}

/** Counts the parameters of `s` (the one place they are derived; equals lab.model.countParams for lab configs). */
export function shapeParams(s: ModelShape): ShapeParams {
  const d = s.hidden;
  const normP = s.norm === "layernorm" ? 2 * d : d;
  const attentionPerLayer = attentionParams(s) + normP;
  const embedding = s.vocab * d * (s.tiedEmbeddings ? 1 : 2) + (s.positionEmbeddings ? s.seqLen * d : 0);
  const moeLayers = s.moe ? s.layers - s.moe.nDenseLayers : 0;
  const denseFfnPerLayer = ffnParams(s, s.ffnHidden) + normP;
  const m = s.moe;
  const expert = m ? ffnParams(s, m.expertHidden) : 0;
  const routedPerLayer = m ? m.nRouted * expert : 0;
  const moeSharedPerLayer = m ? m.nShared * expert + m.nRouted * d + normP : 0; // shared experts, gate, FFN norm
  const routedExperts = moeLayers * routedPerLayer;
  const activeExperts = m ? moeLayers * m.topK * expert : 0;
  const denseLayers =
    s.layers * attentionPerLayer + (s.layers - moeLayers) * denseFfnPerLayer + moeLayers * moeSharedPerLayer + normP; // + final norm
  return {
    total: embedding + denseLayers + routedExperts,
    active: embedding + denseLayers + activeExperts,
    embedding,
    attentionPerLayer,
    routedExperts,
    denseLayers,
    denseFfnPerLayer,
    moeSharedPerLayer,
    routedPerLayer,
    finalNorm: normP,
  };
}

/** The attention part of a lab model's shape (MHA/GQA/MQA or MLA). */
function attentionShape(c: LMConfig): MhaShape | MlaShape {
  if (c.attention !== "mla") return { kind: "mha", kvHeads: kvHeads(c) };
  const m = mlaSettings(c);
  return {
    kind: "mla",
    qLoraRank: m.qLoraRank,
    kvLoraRank: m.kvLoraRank,
    qkNopeDim: m.qkNopeHeadDim,
    qkRopeDim: m.qkRopeHeadDim,
    vDim: m.vHeadDim,
  };
}

/** The planner's view of a lab model (`seqLen` defaults to its contextLen; `source`: where its dimensions come from). */
export function shapeFromLM(
  c: LMConfig,
  seqLen = c.contextLen,
  name = "lab model",
  source = "lab.model LMConfig",
): ModelShape {
  if (c.mtpDepth > 0)
    throw new Error(
      `shapeFromLM(c): the planner's shapes have no multi-token-prediction modules; got mtpDepth ${c.mtpDepth} (plan the model with mtpDepth 0)`,
    );
  const m = moeSettings(c);
  const shape: ModelShape = {
    name,
    source,
    vocab: c.vocabSize,
    hidden: c.dim,
    layers: c.nLayers,
    heads: c.nHeads,
    seqLen,
    ffnHidden: c.ffnHidden,
    ffnKind: "swiglu",
    attention: attentionShape(c),
    moe:
      c.ffn === "moe"
        ? {
            nRouted: m.nRouted,
            nShared: m.nShared,
            topK: m.topK,
            expertHidden: m.expertHidden ?? c.dim,
            nDenseLayers: c.nDenseLayers,
            nGroups: m.nGroups,
            topkGroups: m.topkGroups,
            scoreFunc: m.scoreFunc,
            renormalize: renormalizes(m),
            routeScale: m.routeScale,
            expertBias: m.balance === "auxfree",
          }
        : null,
    norm: c.norm,
    bias: false,
    tiedEmbeddings: c.tiedHead,
    positionEmbeddings: false,
    dropout: false,
  };
  const lab = countParams(c).total;
  const mine = shapeParams(shape).total;
  if (lab !== mine) throw new Error(`shapeFromLM: parameter count ${mine} differs from lab.model.countParams ${lab}`);
  return shape;
}

/** Published shapes. */
export const SHAPES = Object.freeze({
  /** 671B total / 37B active (61 layers, MLA, 256 routed + 1 shared experts, top-8 of 8 groups keeping 4). */
  deepseekV3: Object.freeze(
    shapeFromLM(
      deepSeekPreset("DeepSeek-V3"),
      4096,
      "DeepSeek-V3",
      `lab.model.DEEPSEEK_PRESETS (config_671B.json); ${SOURCES.v3} §4.2 (sequence length 4K)`,
    ),
  ),
  /** 236B total / 21B active. */
  deepseekV2: Object.freeze(
    shapeFromLM(
      deepSeekPreset("DeepSeek-V2"),
      4096,
      "DeepSeek-V2",
      "lab.model.DEEPSEEK_PRESETS (config_236B.json); DeepSeek-V2 report (arXiv 2405.04434) §3.1",
    ),
  ),
  /** 15.7B total / 2.4B active (the V2-Lite release: no q compression, 64 routed + 2 shared, top-6). */
  deepseekV2Lite: Object.freeze(
    shapeFromLM(
      deepSeekPreset("DeepSeek-V2-Lite"),
      4096,
      "DeepSeek-V2-Lite",
      "lab.model.DEEPSEEK_PRESETS (config_16B.json); DeepSeek-V2 report (arXiv 2405.04434) §3.1",
    ),
  ),
  /** GPT-3 175B (the same shape is Megatron-LM's 175B benchmark, Narayanan et al. 2021 Table 1). */
  gpt3: Object.freeze<ModelShape>({
    name: "GPT-3 175B",
    source: SOURCES.gpt3,
    vocab: 50257,
    hidden: 12288,
    layers: 96,
    heads: 96,
    seqLen: 2048,
    ffnHidden: 4 * 12288,
    ffnKind: "gelu",
    attention: { kind: "mha", kvHeads: 96 },
    moe: null,
    norm: "layernorm",
    bias: true,
    tiedEmbeddings: true,
    positionEmbeddings: true,
    dropout: true,
  }),
  /** Llama 2 70B (GQA with 8 KV heads), the articles' "70B model". */
  llama2_70b: Object.freeze<ModelShape>({
    name: "Llama-2-70B",
    source: "Touvron et al. 2023, Llama 2, Table 1; HF meta-llama/Llama-2-70b-hf config.json",
    vocab: 32000,
    hidden: 8192,
    layers: 80,
    heads: 64,
    seqLen: 4096,
    ffnHidden: 28672,
    ffnKind: "swiglu",
    attention: { kind: "mha", kvHeads: 8 },
    moe: null,
    norm: "rmsnorm",
    bias: false,
    tiedEmbeddings: false,
    positionEmbeddings: false,
    dropout: false,
  }),
});
