// Key/value cache for incremental decoding: each attention layer keeps what it needs of every position seen so far
// (rotated keys and values for MHA/GQA/MQA and naive MLA; the normalised latent and the shared rope key for absorbed
// MLA; only the global and window entries for sliding-window attention), so a new token attends to them without
// recomputing the prefix. Reference: the k_cache/v_cache and kv_cache/pe_cache buffers of DeepSeek-V3
// inference/model.py `MLA`, and nanoGPT-style generation.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../check";

/** One layer's cached tensors by name, each [B, heads, rows, width] with the sequence on axis 2. */
export type CacheParts = Record<string, tf.Tensor4D>;

export class KVCache {
  private readonly entries: (CacheParts | null)[];
  private cached = 0;

  constructor(readonly nLayers: number) {
    checkPositiveInt("KVCache", "nLayers", nLayers);
    this.entries = Array.from({ length: nLayers }, () => null);
  }

  /** Positions cached so far (the absolute position of the next token). */
  get length(): number {
    return this.cached;
  }

  /**
   * Appends layer `layer`'s new entries (each [B, heads, T, width]) and returns the whole cached sequence of each
   * part [B, heads, rows + T, width]. The cache owns the returned tensors (kept out of any tf.tidy); call advance(T)
   * once every layer has appended.
   */
  append<P extends CacheParts>(layer: number, parts: P): P {
    const old = this.layerEntry("append", layer);
    if (old && Object.keys(old).join() !== Object.keys(parts).join()) {
      throw new Error(`KVCache.append: layer ${layer} caches parts [${Object.keys(old)}], got [${Object.keys(parts)}]`);
    }
    const all: CacheParts = {};
    for (const [name, add] of Object.entries(parts)) {
      const prev = old?.[name];
      if (prev && (prev.shape[0] !== add.shape[0] || prev.shape[1] !== add.shape[1] || prev.shape[3] !== add.shape[3])) {
        throw new Error(`KVCache.append: new ${name} entries [${add.shape}] do not extend cached [${prev.shape}] along the sequence axis`);
      }
      all[name] = tf.keep(prev ? (tf.concat([prev, add], 2) as tf.Tensor4D) : add.clone()); // [B, heads, rows + T, width]
      prev?.dispose();
    }
    this.entries[layer] = all;
    return all as P;
  }

  /** Keeps only the first `head` and the last `tail` rows of every part of layer `layer` (sliding-window eviction). */
  keepEnds(layer: number, head: number, tail: number): void {
    const entry = this.layerEntry("keepEnds", layer);
    if (!entry) throw new Error(`KVCache.keepEnds: layer ${layer} holds nothing yet`);
    for (const [name, t] of Object.entries(entry)) {
      const rows = t.shape[2];
      if (!(Number.isSafeInteger(head) && Number.isSafeInteger(tail) && head >= 0 && tail >= 0 && head + tail <= rows)) {
        throw new Error(`KVCache.keepEnds(layer, head, tail): need integers ≥ 0 with head + tail ≤ ${rows} rows, got ${head} and ${tail}`);
      }
      if (head + tail === rows) continue;
      const [B, H, , W] = t.shape;
      const kept = tf.tidy(() => tf.concat([tf.slice(t, [0, 0, 0, 0], [B, H, head, W]), tf.slice(t, [0, 0, rows - tail, 0], [B, H, tail, W])], 2)); // [B, H, head + tail, W]
      entry[name] = tf.keep(kept as tf.Tensor4D);
      t.dispose();
    }
  }

  /** Moves the position on by `tokens` after a forward pass appended them to every layer. */
  advance(tokens: number): void {
    checkPositiveInt("KVCache.advance", "tokens", tokens);
    this.cached += tokens;
  }

  /**
   * Rolls the cache back to its first `length` positions (speculative decoding drops the entries of rejected draft
   * tokens). Every layer must hold one row per position: a sliding-window cache that evicted rows cannot roll back.
   */
  truncate(length: number): void {
    if (!(Number.isSafeInteger(length) && length >= 0 && length <= this.cached)) {
      throw new Error(`KVCache.truncate(length): expected an integer in [0, ${this.cached}], got ${length}`);
    }
    if (length === this.cached) return;
    this.entries.forEach((entry, layer) => {
      for (const [name, t] of Object.entries(entry ?? {})) {
        if (t.shape[2] !== this.cached) throw new Error(`KVCache.truncate: layer ${layer} holds ${t.shape[2]} rows of ${name} for ${this.cached} positions (an evicting sliding-window cache cannot roll back)`);
      }
    });
    for (const entry of this.entries) {
      for (const [name, t] of Object.entries(entry ?? {})) {
        const [B, H, , W] = t.shape;
        entry![name] = tf.keep(tf.slice(t, [0, 0, 0, 0], [B, H, length, W])); // [B, H, length, W]
        t.dispose();
      }
    }
    this.cached = length;
  }

  /** Cached elements (every part, all layers): the memory the cache holds, in values. */
  elements(): number {
    return this.entries.reduce((n, e) => n + (e ? Object.values(e).reduce((m, t) => m + t.size, 0) : 0), 0);
  }

  /** Frees every cached tensor and empties the cache. */
  dispose(): void {
    this.entries.forEach((e, i) => {
      if (e) tf.dispose(Object.values(e));
      this.entries[i] = null;
    });
    this.cached = 0;
  }

  private layerEntry(fn: string, layer: number): CacheParts | null {
    if (!(Number.isSafeInteger(layer) && layer >= 0 && layer < this.nLayers)) {
      throw new Error(`KVCache.${fn}(layer): expected a layer in [0, ${this.nLayers}), got ${layer}`);
    }
    return this.entries[layer];
  }
}
