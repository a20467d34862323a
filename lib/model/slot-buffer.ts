// In-place writes into a KV cache's slot buffers [B, heads, capacity, width] (lib/model/kv-cache.ts). tfjs tensors
// are immutable to their users, but a buffer the cache alone holds may be changed under it when the backend keeps the
// tensor's values as one plain Float32Array of its own (the native backend and tfjs's cpu backend): then writing T new
// slots costs O(B·heads·T·width), not a copy of the whole cache. Anywhere else (wasm, webgl, or a buffer whose array
// is shared) the buffer is rebuilt with tfjs ops — the same values, functionally. Reference: DeepSeek-V3
// inference/model.py (k_cache[:bsz, start_pos:end_pos] = k), PyTorch's in-place slice assignment.
import * as tf from "@tensorflow/tfjs";

/** The backend surface an in-place write needs (MathBackendCPU's data store and reference counts). */
interface TypedArrayBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
  refCount(dataId: object): number;
}

/** t's values as a Float32Array that only t holds (safe to change in place), or null. */
function ownValues(t: tf.Tensor): Float32Array | null {
  const backend = tf.backend() as unknown as Partial<TypedArrayBackend>;
  if (typeof backend.refCount !== "function" || typeof backend.data?.get !== "function") return null;
  const values = backend.data.get(t.dataId)?.values;
  if (!(values instanceof Float32Array) || values.length !== t.size) return null;
  if (backend.refCount(t.dataId) !== 1 || values.byteOffset !== 0 || values.byteLength !== values.buffer.byteLength)
    return null; // shared with another tensor (a reshape, a slice view): leave it alone
  return values;
}

/** t's values to read (any float32 tensor on a typed-array backend), or null. */
function readValues(t: tf.Tensor): Float32Array | null {
  const backend = tf.backend() as unknown as Partial<TypedArrayBackend>;
  const values = backend.data?.get?.(t.dataId)?.values;
  return values instanceof Float32Array && values.length === t.size ? values : null;
}

/**
 * Writes add [B, H, T, W] into buf [B, H, capacity, W] at slots at … at + T − 1 and returns the buffer holding the
 * result: buf itself (changed in place), or a new kept tensor (buf disposed) where in-place writes are not possible.
 */
export function writeSlots(buf: tf.Tensor4D, add: tf.Tensor4D, at: number): tf.Tensor4D {
  const [B, H, cap, W] = buf.shape;
  const T = add.shape[2];
  if (add.shape[0] !== B || add.shape[1] !== H || add.shape[3] !== W || !(at >= 0 && at + T <= cap))
    throw new Error(`writeSlots(buf, add, at): add [${add.shape}] at slot ${at} does not fit buf [${buf.shape}]`);
  const target = ownValues(buf);
  const source = target && readValues(add);
  if (target && source) {
    for (let r = 0; r < B * H; r++) target.set(source.subarray(r * T * W, (r + 1) * T * W), (r * cap + at) * W);
    return buf;
  }
  const rebuilt = tf.tidy(() => {
    const parts = [
      tf.slice(buf, [0, 0, 0, 0], [B, H, at, W]),
      add,
      tf.slice(buf, [0, 0, at + T, 0], [B, H, cap - at - T, W]),
    ].filter((p) => p.shape[2] > 0);
    return tf.concat(parts, 2) as tf.Tensor4D; // [B, H, cap, W]
  });
  buf.dispose();
  return tf.keep(rebuilt);
}

/**
 * Moves slots from … from + n − 1 of buf [B, H, capacity, W] down to slots to … to + n − 1 (to ≤ from; the slots
 * before `to` stay) and returns the buffer holding the result, as writeSlots does.
 */
export function moveSlots(buf: tf.Tensor4D, from: number, to: number, n: number): tf.Tensor4D {
  const [B, H, cap, W] = buf.shape;
  if (!(to >= 0 && to <= from && from + n <= cap))
    throw new Error(`moveSlots(buf, from, to, n): slots ${from} + ${n} → ${to} do not fit buf [${buf.shape}]`);
  if (to === from || n === 0) return buf;
  const values = ownValues(buf);
  if (values) {
    for (let r = 0; r < B * H; r++)
      values.copyWithin((r * cap + to) * W, (r * cap + from) * W, (r * cap + from + n) * W);
    return buf;
  }
  const rebuilt = tf.tidy(() => {
    const parts = [
      tf.slice(buf, [0, 0, 0, 0], [B, H, to, W]),
      tf.slice(buf, [0, 0, from, 0], [B, H, n, W]),
      tf.slice(buf, [0, 0, to + n, 0], [B, H, cap - to - n, W]),
    ].filter((p) => p.shape[2] > 0);
    return tf.concat(parts, 2) as tf.Tensor4D; // [B, H, cap, W]
  });
  buf.dispose();
  return tf.keep(rebuilt);
}

/**
 * Stacks buffers bufs[i] [B_i, H, capacity_i, W] along the rows, each one's first used[i] slots left-padded to `width`
 * slots (zeros before them), in a new kept buffer [ΣB_i, H, capacity, W] (capacity ≥ width: room for later appends).
 * On a typed-array backend the slots in use are copied once into a fresh array; elsewhere with tfjs ops.
 */
export function joinSlots(
  bufs: readonly tf.Tensor4D[],
  used: readonly number[],
  width: number,
  capacity: number,
): tf.Tensor4D {
  const [, H, , W] = bufs[0].shape;
  bufs.forEach((b, i) => {
    if (b.shape[1] !== H || b.shape[3] !== W || !(used[i] >= 0 && used[i] <= Math.min(width, b.shape[2])))
      throw new Error(
        `joinSlots(bufs, used): buffer ${i} [${b.shape}] with ${used[i]} slots does not join [·, ${H}, ${width}, ${W}]`,
      );
  });
  if (capacity < width) throw new Error(`joinSlots(capacity): expected ≥ width ${width}, got ${capacity}`);
  const rows = bufs.reduce((n, b) => n + b.shape[0], 0);
  const sources = bufs.map(readValues);
  if (sources.every((v) => v !== null)) {
    const out = new Float32Array(rows * H * capacity * W);
    let row = 0; // [row, h] of the output, flattened
    bufs.forEach((b, i) => {
      const [B, , cap] = b.shape;
      const n = used[i] * W;
      for (let r = 0; r < B * H; r++, row++)
        out.set(sources[i]!.subarray(r * cap * W, r * cap * W + n), (row * capacity + width - used[i]) * W);
    });
    return tf.keep(tf.tensor4d(out, [rows, H, capacity, W]));
  }
  return tf.keep(
    tf.tidy(() => {
      const parts = bufs.map((b, i) => {
        const [B] = b.shape;
        const inUse = tf.slice(b, [0, 0, 0, 0], [B, H, used[i], W]); // [B, H, used, W]
        const pieces: tf.Tensor[] = [inUse];
        if (width > used[i]) pieces.unshift(tf.zeros([B, H, width - used[i], W])); // [B, H, width − used, W]
        if (capacity > width) pieces.push(tf.zeros([B, H, capacity - width, W])); // [B, H, capacity − width, W]
        return pieces.length > 1 ? tf.concat(pieces, 2) : inUse; // [B, H, capacity, W]
      });
      return tf.concat(parts, 0) as tf.Tensor4D; // [rows, H, capacity, W]
    }),
  );
}
