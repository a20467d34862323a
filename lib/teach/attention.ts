// Attention exercise: one decoding step with a KV cache: append the new keys and values, then causal attention
// where query t (at absolute position L + t) sees keys 0 … L + t. Checked against lab.model's KVCache and causalMask.
// Reference: lib/model/attention.ts (CausalSelfAttention.apply with a cache slot); nanoGPT / DeepSeek-V3 generation.
import * as tf from "@tensorflow/tfjs";
import { causalMask } from "../model/attention";
import { KVCache } from "../model/kv-cache";
import { Rng } from "../random";
import { field, plain, type Exercise } from "./exercise";

/** A layer's cache for one sequence: keys and values [H, L, dh], null before the first token. */
export interface ExerciseCache {
  k: tf.Tensor3D | null;
  v: tf.Tensor3D | null;
}

type StepArgs = [cache: ExerciseCache, q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D];
type StepResult = { out: tf.Tensor3D; k: tf.Tensor3D; v: tf.Tensor3D };

function stepCase(name: string, H: number, L: number, T: number, dh: number, seed: number, hidden = false) {
  return {
    name,
    hidden,
    args: (): StepArgs => {
      const rng = new Rng(seed);
      const t = (n: number) =>
        tf.tensor3d(
          Array.from({ length: H * n * dh }, () => rng.normal()),
          [H, n, dh],
        ); // [H, n, dh]
      const cache = L === 0 ? { k: null, v: null } : { k: t(L), v: t(L) };
      return [cache, t(T), t(T), t(T)];
    },
  };
}

/** The step with one deliberate change, for the known mistakes (maskShift: query t sees keys ≤ L + t + shift). */
function variant(
  cache: ExerciseCache,
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  change: { ignoreCache?: boolean; maskShift?: number; prepend?: boolean; noScale?: boolean },
): StepResult {
  const [, T, dh] = q.shape;
  const join = (old: tf.Tensor3D | null, add: tf.Tensor3D) =>
    old ? (tf.concat(change.prepend ? [add, old] : [old, add], 1) as tf.Tensor3D) : add; // [H, L + T, dh]
  const K = join(cache.k, k);
  const V = join(cache.v, v);
  const L = K.shape[1] - T;
  const offset = change.ignoreCache ? 0 : L;
  const shift = change.maskShift ?? 0;
  const mask = tf.tensor2d(
    Array.from({ length: T * (L + T) }, (_, i) => (i % (L + T) <= Math.floor(i / (L + T)) + offset + shift ? 0 : -1e9)),
    [T, L + T],
  ); // [T, L + T]
  const scores = tf.add(tf.mul(tf.matMul(q, K, false, true), change.noScale ? 1 : 1 / Math.sqrt(dh)), mask); // [H, T, L + T]
  return { out: tf.matMul(tf.softmax(scores), V) as tf.Tensor3D, k: K, v: V };
}

/** One attention step with a KV cache (single sequence, H heads). */
export const kvCacheStep: Exercise<StepArgs> = {
  id: "attention.kvCacheStep",
  signature:
    "(cache: { k: tf.Tensor3D | null; v: tf.Tensor3D | null }, q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D) => { out; k; v }",
  cases: [
    stepCase("empty cache, prefill 3 tokens, 2 heads", 2, 0, 3, 4, 31),
    stepCase("cache of 4, decode 1 token", 2, 4, 1, 4, 32),
    stepCase("cache of 3, 2 new tokens (chunked prefill)", 2, 3, 2, 4, 33),
    stepCase("hidden: cache of 5, 3 new tokens, 4 heads, dh 8", 4, 5, 3, 8, 34, true),
  ],
  reference: (cache, q, k, v) => {
    const [H, T, dh] = q.shape;
    const L = cache.k ? cache.k.shape[1] : 0;
    const kv = new KVCache(1);
    try {
      if (cache.k && cache.v) {
        kv.append(0, { k: cache.k.expandDims(0) as tf.Tensor4D, v: cache.v.expandDims(0) as tf.Tensor4D }); // [1, H, L, dh]
        kv.advance(L);
      }
      const all = kv.append(0, { k: k.expandDims(0) as tf.Tensor4D, v: v.expandDims(0) as tf.Tensor4D }); // [1, H, L + T, dh]
      const K = all.k.reshape([H, L + T, dh]) as tf.Tensor3D; // [H, L + T, dh]
      const V = all.v.reshape([H, L + T, dh]) as tf.Tensor3D; // [H, L + T, dh]
      const scores = tf.add(tf.mul(tf.matMul(q, K, false, true), 1 / Math.sqrt(dh)), causalMask(T, L)); // [H, T, L + T]
      return { out: tf.matMul(tf.softmax(scores), V), k: K, v: V };
    } finally {
      kv.dispose();
    }
  },
  toPlain: (output) => {
    const fn = "your attention step";
    return {
      k: plain(field(output, "k", fn), `${fn}: k`),
      v: plain(field(output, "v", fn), `${fn}: v`),
      out: plain(field(output, "out", fn), `${fn}: out`),
    };
  },
  tolerance: 1e-4,
  mistakes: [
    {
      name: "mask ignores the cache",
      hint: "new token t sits at position L + t (L = cached length): it must see keys 0 … L + t, so the causal mask is offset by L",
      impl: (c, q, k, v) => variant(c, q, k, v, { ignoreCache: true }),
    },
    {
      name: "mask off by one (misses itself)",
      hint: "the causal mask is off by one: query t must also see its own key (position L + t), only later positions are masked",
      impl: (c, q, k, v) => variant(c, q, k, v, { maskShift: -1 }),
    },
    {
      name: "mask off by one (sees the next token)",
      hint: "the causal mask is off by one: query t sees key L + t + 1, a future token",
      impl: (c, q, k, v) => variant(c, q, k, v, { maskShift: 1 }),
    },
    {
      name: "prepended",
      hint: "append the new keys and values after the cached ones (concatenate [cache, new] along the sequence axis 1)",
      impl: (c, q, k, v) => variant(c, q, k, v, { prepend: true }),
    },
    {
      name: "no 1/√dh",
      hint: "scale the scores q·kᵀ by 1/√dh before the softmax",
      impl: (c, q, k, v) => variant(c, q, k, v, { noScale: true }),
    },
  ],
};
