// Training FLOPs per token: 6 FLOPs per active matmul parameter (forward 2, backward 4) plus the attention score
// products, and the extra forward work activation recomputation adds. References: Kaplan et al. 2020 §2.1 (6N);
// Narayanan et al. 2021 Appendix (72Lh²(1 + s/6h + V/12Lh) per token; 96… with full recomputation).
import { figure, Figure, SOURCES } from "./figure";
import type { Recompute } from "./parallel";
import { ModelShape, shapeParams } from "./shapes";

/** Forward FLOPs of one layer's attention scores per token: 2s·H·d_qk (QKᵀ) + 2s·H·d_v (AV), without a causal discount. */
function attentionScoreFlops(shape: ModelShape): number {
  const { seqLen: s, hidden: h, heads: H } = shape;
  const at = shape.attention;
  return at.kind === "mha" ? 4 * s * h : 2 * s * H * (at.qkNopeDim + at.qkRopeDim) + 2 * s * H * at.vDim;
}

/** Parameters a token multiplies with: active parameters minus the embedding lookup tables, plus the head's V·h. */
export function matmulParams(shape: ModelShape): number {
  const P = shapeParams(shape);
  return P.active - P.embedding + shape.vocab * shape.hidden;
}

/** Model FLOPs per training token (what MFU counts): 6·N_matmul + 3·L·(attention score FLOPs). */
export function trainingFlopsPerToken(shape: ModelShape): Figure {
  const n = matmulParams(shape);
  const att = attentionScoreFlops(shape);
  const value = 6 * n + 3 * shape.layers * att;
  const gpt = shape.attention.kind === "mha" ? " [MHA: 72Lh²(1 + s/6h + V/12Lh) when N = 12Lh² + Vh]" : "";
  return figure(
    value,
    "FLOP/token",
    `6·N_active,matmul + 3·L·attn = 6·${n.toExponential(4)} + 3·${shape.layers}·${att.toExponential(4)}${gpt}`,
    `${SOURCES.kaplan}; ${SOURCES.narayanan}`,
  );
}

/** The simple 6·N_active estimate. */
export function sixN(shape: ModelShape): Figure {
  const n = shapeParams(shape).active;
  return figure(6 * n, "FLOP/token", `6·N_active = 6·${n.toExponential(4)}`, SOURCES.kaplan);
}

/** FLOPs the GPUs execute per token, with recomputation: full adds one more forward of the layers, selective the scores. */
export function hardwareFlopsPerToken(shape: ModelShape, recompute: Recompute): Figure {
  const model = trainingFlopsPerToken(shape);
  const att = shape.layers * attentionScoreFlops(shape);
  const layerForward = 2 * (matmulParams(shape) - shape.vocab * shape.hidden) + att;
  const extra = recompute === "full" ? layerForward : recompute === "selective" ? att : 0;
  return figure(
    model.value + extra,
    "FLOP/token",
    `${recompute === "full" ? "model + one more forward of the layers" : recompute === "selective" ? "model + the attention scores again" : "model FLOPs"} = ${model.value.toExponential(4)} + ${extra.toExponential(4)}`,
    SOURCES.narayanan,
  );
}
