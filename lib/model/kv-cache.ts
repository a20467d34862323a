// Key/value cache for incremental decoding: each attention layer keeps the rotated keys and the values of every
// position seen so far, so a new token attends to them without recomputing the prefix. Reference: the cache of
// DeepSeek-V3 inference/model.py `MLA` (naive path) and nanoGPT-style generation, here for standard MHA.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../check";

/** One layer's cached keys and values, [B, H, length, dh] each (null before the first token). */
interface LayerEntry {
  k: tf.Tensor4D | null;
  v: tf.Tensor4D | null;
}

export class KVCache {
  private readonly entries: LayerEntry[];
  private cached = 0;

  constructor(readonly nLayers: number) {
    checkPositiveInt("KVCache", "nLayers", nLayers);
    this.entries = Array.from({ length: nLayers }, () => ({ k: null, v: null }));
  }

  /** Positions cached so far (the absolute position of the next token). */
  get length(): number {
    return this.cached;
  }

  /**
   * Appends layer `layer`'s new keys and values [B, H, T, dh] and returns the whole sequence [B, H, length + T, dh].
   * The cache owns the returned tensors (kept out of any tf.tidy); call advance(T) once every layer has appended.
   */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const entry = this.entries[layer];
    if (!entry) throw new Error(`KVCache.append(layer): expected a layer in [0, ${this.nLayers}), got ${layer}`);
    const grow = (old: tf.Tensor4D | null, add: tf.Tensor4D): tf.Tensor4D => {
      if (old && (old.shape[0] !== add.shape[0] || old.shape[1] !== add.shape[1] || old.shape[3] !== add.shape[3])) {
        throw new Error(`KVCache.append: new entries [${add.shape}] do not extend cached [${old.shape}] along the sequence axis`);
      }
      const all = tf.keep(old ? (tf.concat([old, add], 2) as tf.Tensor4D) : add.clone()); // [B, H, length + T, dh]
      old?.dispose();
      return all;
    };
    entry.k = grow(entry.k, k);
    entry.v = grow(entry.v, v);
    return { k: entry.k, v: entry.v };
  }

  /** Moves the position on by `tokens` after a forward pass appended them to every layer. */
  advance(tokens: number): void {
    checkPositiveInt("KVCache.advance", "tokens", tokens);
    this.cached += tokens;
  }

  /** Cached elements (keys + values, all layers): the memory the cache holds, in float32 values. */
  elements(): number {
    return this.entries.reduce((n, e) => n + (e.k?.size ?? 0) + (e.v?.size ?? 0), 0);
  }

  /** Frees every cached tensor and empties the cache. */
  dispose(): void {
    for (const e of this.entries) {
      e.k?.dispose();
      e.v?.dispose();
      e.k = e.v = null;
    }
    this.cached = 0;
  }
}
