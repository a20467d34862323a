// Causal scaled dot-product attention as one fused, differentiable op: softmax(q·kᵀ·scale + visibility)·v with the
// visibility rule computed inside the kernel (no [T, S] mask tensor built per call). The native backend runs
// native/src/attention.cc (forward saves each row's log-sum-exp; the backward recomputes the probabilities from it,
// FlashAttention's recipe without tiling); other backends run the composite: with a window, lib/model/sparse.ts's
// blocked windowedAttention (O(T·(window + global)) scores) when that scores fewer than T·S, else lib/model/attend.ts's
// attend() with the same rule as an additive [T, S] mask. Query t sits at position kOffset + t, key j at position j; the query at p sees key j
// iff j ≤ p and, with a window w, p − j < w or j < globalTokens (lib/model/sparse.ts's rule). Query heads H read kv
// head ⌊h·Hkv/H⌋ (GQA/MQA). References: Vaswani et al. 2017; Dao et al., "FlashAttention" (2022), backward pass.
import * as tf from "@tensorflow/tfjs";
import { ATTENTION_KERNELS, type CausalAttentionAttrs } from "../kernel-names";
import { attend, MASKED } from "../model/attend";
import { bandedScores, windowedAttention } from "../model/sparse";
import { hasFusedKernel } from "./fused";
import { ensureGradient } from "./registry";

/** How causalAttention masks and scales. */
export interface CausalAttentionOptions {
  /** Softmax scale (usually 1/√dk). */
  scale: number;
  /** Position of query 0 (keys already cached before this call's queries); default S − T. */
  kOffset?: number;
  /** Sliding local window: the query at p sees keys p − window < j ≤ p; null/0 = full causal. Default null. */
  window?: number | null;
  /** The first globalTokens keys stay visible to every later query (with a window). Default 0. */
  globalTokens?: number;
}

/** [T, S] additive mask of the rule (the composite's; the fused kernel evaluates the rule in place). */
export function visibilityMask(T: number, S: number, a: CausalAttentionAttrs): tf.Tensor2D {
  const mask = new Float32Array(T * S);
  for (let t = 0; t < T; t++) {
    const p = a.kOffset + t;
    for (let j = 0; j < S; j++) {
      const seen = j <= p && (a.window === 0 || p - j < a.window || j < a.globalTokens);
      if (!seen) mask[t * S + j] = MASKED;
    }
  }
  return tf.tensor2d(mask, [T, S]);
}

const attentionGrad: tf.GradConfig = {
  kernelName: ATTENTION_KERNELS.forward,
  inputsToSave: ["q", "k", "v"],
  outputsToSave: [true, true],
  gradFunc: (dy, saved, attrs) => {
    const [q, k, v, out, lse] = saved;
    const dOut = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor;
    // One backward kernel call gives all three, run here: tfjs calls each input's function in its own tidy, which
    // would free the other two results of a call made inside the first.
    const [dq, dk, dv] = tf
      .engine()
      .runKernel(ATTENTION_KERNELS.backward, { q, k, v, out, lse, dy: dOut }, attrs) as tf.Tensor[];
    return { q: () => dq, k: () => dk, v: () => dv };
  },
};

/** Throws a named error unless q, k and v are float32 tensors of rank 4 (the attention ops' shared precondition). */
export function checkAttentionTensors(fn: string, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): void {
  for (const [name, t] of [
    ["q", q],
    ["k", k],
    ["v", v],
  ] as const) {
    if (!(t instanceof tf.Tensor) || t.rank !== 4 || t.dtype !== "float32")
      throw new Error(`${fn}(${name}): expected a float32 tensor of rank 4, got ${t?.dtype} [${t?.shape}]`);
  }
}

/**
 * Causal attention: q [B, H, T, dk], k [B, Hkv, S, dk], v [B, Hkv, S, dv] (float32, Hkv dividing H) → [B, H, T, dv].
 * Differentiable in q, k and v.
 */
export function causalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: CausalAttentionOptions,
): tf.Tensor4D {
  const fn = "causalAttention";
  checkAttentionTensors(fn, q, k, v);
  const [B, H, T, dk] = q.shape;
  const [, Hkv, S] = k.shape;
  if (k.shape[0] !== B || k.shape[3] !== dk || H % Hkv !== 0)
    throw new Error(`${fn}(k): expected [${B}, Hkv dividing ${H}, S, ${dk}], got [${k.shape}]`);
  if (v.shape[0] !== B || v.shape[1] !== Hkv || v.shape[2] !== S)
    throw new Error(`${fn}(v): expected [${B}, ${Hkv}, ${S}, dv], got [${v.shape}]`);
  const { scale } = options;
  if (!(Number.isFinite(scale) && scale > 0))
    throw new Error(`${fn}(options.scale): expected a finite number > 0, got ${scale}`);
  const kOffset = options.kOffset ?? S - T;
  if (!Number.isSafeInteger(kOffset) || kOffset < 0 || kOffset + T > S)
    throw new Error(`${fn}(options.kOffset): expected an integer in [0, S − T = ${S - T}], got ${kOffset}`);
  const window = options.window ?? 0;
  if (!Number.isSafeInteger(window) || window < 0)
    throw new Error(`${fn}(options.window): expected a positive integer or null, got ${options.window}`);
  const globalTokens = options.globalTokens ?? 0;
  if (!Number.isSafeInteger(globalTokens) || globalTokens < 0)
    throw new Error(`${fn}(options.globalTokens): expected an integer ≥ 0, got ${globalTokens}`);
  const attrs: CausalAttentionAttrs = { scale, kOffset, window, globalTokens };
  ensureGradient(attentionGrad);
  if (!hasFusedKernel(ATTENTION_KERNELS.forward))
    return tf.tidy(() =>
      window > 0 && bandedScores(T, window, globalTokens, S) < T * S
        ? windowedAttention(q, k, v, { window, global: globalTokens }, scale, kOffset)
        : attend(q, k, v, visibilityMask(T, S, attrs), scale),
    ); // [B, H, T, dv]
  return tf.tidy(
    () => (tf.engine().runKernel(ATTENTION_KERNELS.forward, { q, k, v }, attrs) as tf.Tensor[])[0] as tf.Tensor4D,
  ); // [B, H, T, dv] (lse freed)
}
