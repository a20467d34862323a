// Key/value cache for incremental decoding: each attention layer keeps what it needs of every position seen so far
// (rotated keys and values for MHA/GQA/MQA and naive MLA; the normalised latent and the shared rope key for absorbed
// MLA; only the global and window entries for sliding-window attention), so a new token attends to them without
// recomputing the prefix. Reference: the k_cache/v_cache and kv_cache/pe_cache buffers of DeepSeek-V3
// inference/model.py `MLA`, and nanoGPT-style generation. In row mode (forward with per-row positions) each row of the
// batch also records the absolute position held in each slot (PAD_POSITION for padding), rows can join and leave a
// running batch (addRows, selectRows) and compact() drops the padding slots every row shares. Each part is a
// preallocated slot buffer [B, heads, capacity, width] (capacity doubles when full, so appends cost amortised O(new
// entries)) that new entries are written into in place where the backend stores tensors as plain typed arrays (the
// native and cpu backends; elsewhere the buffer is rebuilt functionally), like DeepSeek's preallocated caches written
// at [start:end]; lib/ops/slotAttention reads the slots in use straight from the buffers.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../check";
import { PAD_POSITION } from "./row-positions";
import { joinSlots, moveSlots, writeSlots } from "./slot-buffer";
import { keptPositions, type SlidingWindow } from "./sparse";

/** One layer's cached tensors by name, each [B, heads, rows, width] with the sequence on axis 2. */
export type CacheParts = Record<string, tf.Tensor4D>;

/** One layer's slot buffers after an append: each part [B, heads, capacity, width], the first `slots` in use. */
export interface SlotBuffers<P extends CacheParts> {
  parts: P;
  slots: number;
}

/** Where a step's queries and the keys they attend over sit: absolute positions, PAD_POSITION for padding. */
export interface StepPositions {
  /** [B·T] each new token's position (row-major). */
  query: Int32Array;
  /** [B·S] the position held in each slot every layer reads this step (the cached slots, then the T new ones). */
  keys: Int32Array;
}

/** Slots a buffer holding `need` grows to: at least double the old capacity (amortised O(1) copies per entry). */
function grownCapacity(need: number, capacity: number): number {
  return Math.max(need, 2 * capacity, 16);
}

export class KVCache {
  /** Per layer: its parts' slot buffers [B, heads, capacity, width]. */
  private readonly entries: (CacheParts | null)[];
  /** Per layer: slots in use (positions cached, or fewer after a sliding window's eviction). */
  private readonly used: number[];
  /** Per layer: append()'s contiguous copies of the slots in use, owned here until the layer's next append. */
  private readonly views: (CacheParts | null)[];
  private cached = 0;
  /** Row mode: [rows·length] position held in each slot, or null (one shared sequence, positions 0 … length − 1). */
  private slotPositions: Int32Array | null = null;
  private nRows = 0;

  constructor(readonly nLayers: number) {
    checkPositiveInt("KVCache", "nLayers", nLayers);
    this.entries = Array.from({ length: nLayers }, () => null);
    this.used = Array.from({ length: nLayers }, () => 0);
    this.views = Array.from({ length: nLayers }, () => null);
  }

  /** Positions cached so far (the absolute position of the next token). */
  get length(): number {
    return this.cached;
  }

  /**
   * Appends layer `layer`'s new entries (each [B, heads, T, width]) and returns the whole cached sequence of each
   * part [B, heads, rows + T, width] as contiguous copies. The cache owns them (kept out of any tf.tidy, freed at the
   * layer's next append); call advance(T) once every layer has appended. appendSlots is the copy-free form.
   */
  append<P extends CacheParts>(layer: number, parts: P): P {
    this.dropViews(layer);
    const { parts: bufs, slots } = this.appendSlots(layer, parts);
    const view: CacheParts = {};
    for (const [name, b] of Object.entries(bufs)) {
      const [B, H, , W] = b.shape;
      view[name] = tf.keep(tf.slice(b, [0, 0, 0, 0], [B, H, slots, W])); // [B, H, rows + T, W]
    }
    this.views[layer] = view;
    return view as P;
  }

  /**
   * Writes layer `layer`'s new entries (each [B, heads, T, width]) into its slot buffers (in place where the backend
   * allows) and returns the buffers [B, heads, capacity, width] with the number of slots now in use. The buffers
   * belong to the cache and stay valid until its next change; read them within the current step (lib/ops/slotAttention).
   */
  appendSlots<P extends CacheParts>(layer: number, parts: P): SlotBuffers<P> {
    const old = this.layerEntry("append", layer);
    if (old && Object.keys(old).join() !== Object.keys(parts).join()) {
      throw new Error(`KVCache.append: layer ${layer} caches parts [${Object.keys(old)}], got [${Object.keys(parts)}]`);
    }
    const at = this.used[layer];
    const all: CacheParts = {};
    for (const [name, add] of Object.entries(parts)) {
      const [B, H, T, W] = add.shape;
      let buf = old?.[name];
      if (buf && (buf.shape[0] !== B || buf.shape[1] !== H || buf.shape[3] !== W)) {
        throw new Error(
          `KVCache.append: new ${name} entries [${add.shape}] do not extend cached [${[B, H, at, W]}] along the sequence axis`,
        );
      }
      if (!buf || at + T > buf.shape[2]) {
        const capacity = grownCapacity(at + T, buf ? buf.shape[2] : 0);
        const grown = tf.tidy(() => {
          const room = tf.zeros([B, H, capacity - (buf ? buf.shape[2] : 0), W]); // [B, H, capacity − old, W]
          return (buf ? tf.concat([buf, room], 2) : room) as tf.Tensor4D; // [B, H, capacity, W]
        });
        buf?.dispose();
        buf = tf.keep(grown);
      }
      all[name] = writeSlots(buf, add, at); // [B, H, capacity, W]
    }
    this.entries[layer] = all;
    this.used[layer] = at + parts[Object.keys(parts)[0]].shape[2];
    return { parts: all as P, slots: this.used[layer] };
  }

  /** Keeps only the first `head` and the last `tail` rows of every part of layer `layer` (sliding-window eviction). */
  keepEnds(layer: number, head: number, tail: number): void {
    const entry = this.layerEntry("keepEnds", layer);
    if (!entry) throw new Error(`KVCache.keepEnds: layer ${layer} holds nothing yet`);
    const rows = this.used[layer];
    if (!(Number.isSafeInteger(head) && Number.isSafeInteger(tail) && head >= 0 && tail >= 0 && head + tail <= rows)) {
      throw new Error(
        `KVCache.keepEnds(layer, head, tail): need integers ≥ 0 with head + tail ≤ ${rows} rows, got ${head} and ${tail}`,
      );
    }
    if (head + tail === rows) return;
    this.dropViews(layer);
    for (const [name, t] of Object.entries(entry)) entry[name] = moveSlots(t, rows - tail, head, tail); // [B, H, capacity, W]
    this.used[layer] = head + tail;
  }

  /** Moves the position on by `tokens` after a forward pass appended them to every layer; in row mode `keys` (from
   * keySlots) becomes the slots' positions. */
  advance(tokens: number, keys?: Int32Array): void {
    checkPositiveInt("KVCache.advance", "tokens", tokens);
    if (keys) {
      const rows = keys.length / (this.cached + tokens);
      if (!Number.isSafeInteger(rows))
        throw new Error(
          `KVCache.advance(tokens, keys): keys must hold rows·${this.cached + tokens} positions, got ${keys.length}`,
        );
      this.slotPositions = keys;
      this.nRows = rows;
    } else if (this.slotPositions) {
      throw new Error("KVCache.advance(tokens): this cache holds per-row positions; pass the keys from keySlots");
    }
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
    if (this.slotPositions) throw new Error("KVCache.truncate: a row-mode cache (per-row positions) cannot roll back");
    this.used.forEach((rows, layer) => {
      if (this.entries[layer] && rows !== this.cached)
        throw new Error(
          `KVCache.truncate: layer ${layer} holds ${rows} rows for ${this.cached} positions (an evicting sliding-window cache cannot roll back)`,
        );
    });
    this.views.forEach((_, layer) => this.dropViews(layer));
    this.used.fill(length); // the slots beyond are overwritten by the next appends
    this.cached = length;
  }

  /** Row mode: whether the cache tracks per-row positions. */
  get rowMode(): boolean {
    return this.slotPositions !== null || (this.cached === 0 && this.nRows > 0);
  }

  /** Row mode: rows in the batch. */
  get rows(): number {
    return this.nRows;
  }

  /** Row mode: a copy of the [rows·length] slot positions (PAD_POSITION = padding). */
  positions(): Int32Array {
    return this.slotPositions ? this.slotPositions.slice() : new Int32Array(0);
  }

  /** Row mode: real (non-padding) tokens cached for `row`. */
  rowTokens(row: number): number {
    this.checkRow("rowTokens", row);
    let n = 0;
    for (let s = 0; s < this.cached; s++) if (this.slotPositions![row * this.cached + s] >= 0) n++;
    return n;
  }

  /**
   * Row mode: the positions [B·(length + T)] of every key a step of new tokens at `query` [B·T] attends over (the
   * cached slots of each row, then its T new ones). B must equal the rows already cached (or the cache is empty).
   */
  keySlots(query: Int32Array, B: number, T: number): Int32Array {
    const fn = "KVCache.keySlots(query, B, T)";
    if (this.cached > 0 && !this.slotPositions)
      throw new Error(
        `${fn}: the cache holds one shared sequence (no row positions); use a fresh cache for per-row positions`,
      );
    if (this.cached > 0 && B !== this.nRows)
      throw new Error(`${fn}: the cache holds ${this.nRows} rows, got a step of ${B}`);
    const S = this.cached + T;
    const keys = new Int32Array(B * S);
    for (let b = 0; b < B; b++) {
      if (this.slotPositions) keys.set(this.slotPositions.subarray(b * this.cached, (b + 1) * this.cached), b * S);
      keys.set(query.subarray(b * T, (b + 1) * T), b * S + this.cached);
    }
    return keys;
  }

  /**
   * The positions of a step of T new tokens in each of B rows: in row mode the rows' own `query` positions [B·T] and
   * keySlots(query, B, T); otherwise every row continues the shared sequence at this.length, over the cached rows
   * (with `window`, only the global and window rows it keeps) and the new ones.
   */
  stepPositions(B: number, T: number, window: SlidingWindow | null, query?: Int32Array): StepPositions {
    if (query) return { query, keys: this.keySlots(query, B, T) };
    if (this.slotPositions)
      throw new Error("KVCache.stepPositions: this cache holds per-row positions; pass the step's query positions");
    const offset = this.cached;
    const row = [...(window ? keptPositions(offset, window) : Array.from({ length: offset }, (_, i) => i))];
    for (let t = 0; t < T; t++) row.push(offset + t);
    const keys = new Int32Array(B * row.length);
    const q = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      keys.set(row, b * row.length);
      for (let t = 0; t < T; t++) q[b * T + t] = offset + t;
    }
    return { query: q, keys };
  }

  /**
   * Row mode, sliding window: marks as padding every slot no later query of its row can see (position ≥ global and
   * at least `window` before the row's next position), and compacts once the padding every row shares outweighs the
   * real slots, so the cache stays within about 2·(global + window) slots per row however long the rows grow.
   */
  evictOutside(window: SlidingWindow): void {
    if (!this.slotPositions) return;
    const S = this.cached;
    let widest = 0;
    for (let b = 0; b < this.nRows; b++) {
      const row = this.slotPositions.subarray(b * S, (b + 1) * S);
      const next = row.reduce((m, p) => Math.max(m, p), PAD_POSITION) + 1;
      let real = 0;
      row.forEach((p, s) => {
        if (p >= window.global && next - p >= window.window) row[s] = PAD_POSITION;
        else if (p >= 0) real++;
      });
      widest = Math.max(widest, real);
    }
    if (S - widest >= Math.max(window.window, widest)) this.compact();
  }

  /** Row mode: appends `n` empty rows (all slots padding) at the end of the batch. */
  addRows(n: number): void {
    checkPositiveInt("KVCache.addRows", "n", n);
    if (this.cached > 0 && !this.slotPositions)
      throw new Error("KVCache.addRows: the cache holds one shared sequence (no row positions)");
    for (const entry of this.entries) {
      if (!entry) continue;
      for (const [name, t] of Object.entries(entry)) {
        const [, H, cap, W] = t.shape;
        entry[name] = tf.keep(tf.tidy(() => tf.concat([t, tf.zeros([n, H, cap, W])], 0)) as tf.Tensor4D); // [B + n, H, cap, W]
        t.dispose();
      }
    }
    if (this.cached > 0) {
      const grown = new Int32Array((this.nRows + n) * this.cached).fill(PAD_POSITION);
      grown.set(this.slotPositions!);
      this.slotPositions = grown;
    }
    this.nRows += n;
  }

  /**
   * Row mode: moves the rows of `other` (a row-mode cache of the same model) after this cache's rows, both left-padded
   * to the wider slot count; `other` is left empty.
   */
  merge(other: KVCache): void {
    const fn = "KVCache.merge(other)";
    if (other.nLayers !== this.nLayers)
      throw new Error(`${fn}: other has ${other.nLayers} layers, this cache ${this.nLayers}`);
    if (!other.rowMode || (this.cached > 0 && !this.slotPositions))
      throw new Error(`${fn}: both caches must hold per-row positions (row mode)`);
    if (this.nRows === 0) {
      this.entries.forEach((e, i) => {
        if (e) tf.dispose(Object.values(e));
        this.dropViews(i);
        other.dropViews(i);
        this.entries[i] = other.entries[i];
        this.used[i] = other.used[i];
        other.entries[i] = null;
        other.used[i] = 0;
      });
      [this.cached, this.slotPositions, this.nRows] = [other.cached, other.slotPositions, other.nRows];
      [other.cached, other.slotPositions, other.nRows] = [0, null, 0];
      return;
    }
    const W = Math.max(this.cached, other.cached);
    this.entries.forEach((mine, layer) => {
      const theirs = other.entries[layer];
      if (!mine || !theirs) throw new Error(`${fn}: layer ${layer} is empty in one of the caches`);
      for (const name of Object.keys(mine)) {
        const cap = Math.max(mine[name].shape[2], theirs[name].shape[2], W + 1);
        const joined = joinSlots([mine[name], theirs[name]], [this.cached, other.cached], W, cap); // [B + B', H, cap, width]
        mine[name].dispose();
        mine[name] = joined;
      }
      this.dropViews(layer);
      this.used[layer] = W;
    });
    const rows = (p: Int32Array | null, B: number, S: number) => {
      const out = new Int32Array(B * W).fill(PAD_POSITION);
      for (let b = 0; b < B; b++) if (p) out.set(p.subarray(b * S, (b + 1) * S), b * W + W - S);
      return out;
    };
    const positions = new Int32Array((this.nRows + other.nRows) * W);
    positions.set(rows(this.slotPositions, this.nRows, this.cached));
    positions.set(rows(other.slotPositions, other.nRows, other.cached), this.nRows * W);
    [this.slotPositions, this.cached, this.nRows] = [positions, W, this.nRows + other.nRows];
    other.dispose();
  }

  /** Row mode: keeps only the rows `keep` (in that order), freeing the others' entries at once. */
  selectRows(keep: readonly number[]): void {
    keep.forEach((r) => this.checkRow("selectRows", r));
    if (keep.length === 0) {
      this.dispose();
      return;
    }
    const S = this.cached;
    const index = Int32Array.from(keep);
    this.entries.forEach((entry, layer) => {
      if (!entry) return;
      this.dropViews(layer);
      for (const [name, t] of Object.entries(entry)) {
        entry[name] = tf.keep(tf.tidy(() => tf.gather(t, tf.tensor1d(index, "int32"), 0)) as tf.Tensor4D); // [keep, H, capacity, W] (one copy; the capacity stays)
        t.dispose();
      }
    });
    const kept = new Int32Array(keep.length * S);
    keep.forEach((r, i) => kept.set(this.slotPositions!.subarray(r * S, (r + 1) * S), i * S));
    this.slotPositions = kept;
    this.nRows = keep.length;
  }

  /** Row mode: moves each row's real slots to the end (order kept) and drops the slots that are padding in every row. */
  compact(): void {
    if (!this.slotPositions) return;
    const S = this.cached;
    const real = Array.from({ length: this.nRows }, (_, r) =>
      Array.from({ length: S }, (_, s) => s).filter((s) => this.slotPositions![r * S + s] >= 0),
    );
    const width = Math.max(1, ...real.map((r) => r.length));
    if (width === S) return;
    const lead = S - width;
    if (real.every((r) => r.length === 0 || r[0] === S - r.length)) {
      // Every row's real slots already end it contiguously (left padding): shifting the last `width` slots down gives
      // the same layout as the gather below, in place where the backend allows (lib/model/slot-buffer.ts).
      this.entries.forEach((entry, layer) => {
        if (!entry) return;
        this.dropViews(layer);
        for (const [name, t] of Object.entries(entry)) entry[name] = moveSlots(t, lead, 0, width); // [B, H, capacity, W]
        this.used[layer] = width;
      });
      const shifted = new Int32Array(this.nRows * width);
      for (let r = 0; r < this.nRows; r++)
        shifted.set(this.slotPositions!.subarray(r * S + lead, (r + 1) * S), r * width);
      this.slotPositions = shifted;
      this.cached = width;
      return;
    }
    const slots: number[] = [];
    const positions = new Int32Array(this.nRows * width).fill(PAD_POSITION);
    real.forEach((r, row) => {
      const pad = width - r.length;
      for (let i = 0; i < width; i++) slots.push(i < pad ? 0 : r[i - pad]); // padding slots read slot 0 and stay masked
      r.forEach((s, i) => (positions[row * width + pad + i] = this.slotPositions![row * S + s]));
    });
    this.gatherSlots(
      Array.from({ length: this.nRows }, (_, r) => r),
      slots,
      width,
    );
    this.slotPositions = positions;
    this.cached = width;
  }

  /** Replaces every part by rows `rows`, slots `slots` [rows.length·width] (per row, indices into its S slots). */
  private gatherSlots(rows: readonly number[], slots: readonly number[], width: number): void {
    this.entries.forEach((entry, layer) => {
      if (!entry) return;
      this.dropViews(layer);
      this.used[layer] = width;
      for (const [name, t] of Object.entries(entry)) {
        const [B, H, cap, W] = t.shape;
        const flat = Int32Array.from(slots, (s, i) => rows[Math.floor(i / width)] * cap + s);
        const picked = tf.tidy(() => {
          const bySlot = tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [B * cap, H, W]); // [B·cap, H, W]
          const g = tf.gather(bySlot, tf.tensor1d(flat, "int32")); // [rows·width, H, W]
          return tf.transpose(tf.reshape(g, [rows.length, width, H, W]), [0, 2, 1, 3]) as tf.Tensor4D; // [rows, H, width, W]
        });
        entry[name] = tf.keep(picked);
        t.dispose();
      }
    });
  }

  private checkRow(fn: string, row: number): void {
    if (!this.slotPositions && !(this.cached === 0 && this.nRows > 0))
      throw new Error(`KVCache.${fn}: the cache holds no per-row positions (row mode)`);
    if (!(Number.isSafeInteger(row) && row >= 0 && row < this.nRows))
      throw new Error(`KVCache.${fn}(row): expected a row in [0, ${this.nRows}), got ${row}`);
  }

  /** Cached elements (every part, all layers, the slots in use): the memory the entries take, in values. */
  elements(): number {
    return this.entries.reduce(
      (n, e, layer) => n + (e ? Object.values(e).reduce((m, t) => m + (t.size / t.shape[2]) * this.used[layer], 0) : 0),
      0,
    );
  }

  /** Elements the slot buffers hold, their spare capacity included (at most about twice elements()). */
  reservedElements(): number {
    return this.entries.reduce((n, e) => n + (e ? Object.values(e).reduce((m, t) => m + t.size, 0) : 0), 0);
  }

  /** Frees every cached tensor and empties the cache. */
  dispose(): void {
    this.entries.forEach((e, i) => {
      if (e) tf.dispose(Object.values(e));
      this.dropViews(i);
      this.entries[i] = null;
      this.used[i] = 0;
    });
    this.cached = 0;
    this.slotPositions = null;
    this.nRows = 0;
  }

  /** Frees append()'s copies of layer `layer`. */
  private dropViews(layer: number): void {
    const view = this.views[layer];
    if (view) tf.dispose(Object.values(view));
    this.views[layer] = null;
  }

  private layerEntry(fn: string, layer: number): CacheParts | null {
    if (!(Number.isSafeInteger(layer) && layer >= 0 && layer < this.nLayers)) {
      throw new Error(`KVCache.${fn}(layer): expected a layer in [0, ${this.nLayers}), got ${layer}`);
    }
    return this.entries[layer];
  }
}
