// The native backend's output-buffer pool: it recycles the buffers of disposed outputs that nobody read, and never
// one that was read out (dataSync, data, arraySync, bufferSync), stored twice (a slice's view), or came from user data.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import type { NativeBackend } from "../../lib/native/native-backend";
import { BufferPool, DEFAULT_BUFFER_POOL_CONFIG } from "../../lib/native/buffers";

describe("BufferPool", () => {
  const KB = 1024;

  it("reuses a released buffer of the same size only", () => {
    const pool = new BufferPool({ minBytes: 0 });
    const id = {};
    const a = pool.float32(1000);
    pool.track(id, a);
    pool.release(id);
    expect(pool.stats()).toMatchObject({ idleBytes: 4000, idleBuffers: 1, recycled: 1 });
    expect(pool.float32(1001).buffer).not.toBe(a.buffer); // exact sizes: no oversized views
    const b = pool.int32(1000);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(1000);
    expect(pool.stats()).toMatchObject({ idleBytes: 0, reused: 1, allocated: 2 });
  });

  it("never recycles a buffer that was exposed, stored twice, stored as a view, or not its own", () => {
    const pool = new BufferPool({ minBytes: 0 });
    const read = pool.float32(64),
      readId = {};
    pool.track(readId, read);
    pool.expose(readId);
    pool.release(readId);
    const twice = pool.float32(64),
      first = {},
      second = {};
    pool.track(first, twice);
    pool.track(second, twice);
    pool.release(first);
    pool.release(second);
    const viewed = pool.float32(64),
      owner = {},
      view = {};
    pool.track(owner, viewed);
    pool.track(view, viewed.subarray(8, 16));
    pool.release(owner);
    const user = new Float32Array(64),
      userId = {};
    pool.track(userId, user);
    pool.release(userId);
    const partial = pool.float32(64),
      partialId = {};
    pool.track(partialId, partial.subarray(1)); // a kernel storing part of a fresh buffer
    pool.release(partialId);
    expect(pool.stats()).toMatchObject({ idleBuffers: 0, recycled: 0, exposed: 4 });
    const next = pool.float32(64);
    for (const seen of [read, twice, viewed, user, partial]) expect(next.buffer).not.toBe(seen.buffer);
  });

  it("keeps at most maxBytes idle, dropping the longest idle first, and pools nothing under minBytes", () => {
    const pool = new BufferPool({ maxBytes: 10 * KB, minBytes: KB });
    const ids = [{}, {}, {}];
    const bufs = [pool.float32(1024), pool.float32(768), pool.float32(1024)]; // 4, 3, 4 KiB
    bufs.forEach((b, i) => pool.track(ids[i], b));
    ids.forEach((id) => pool.release(id));
    expect(pool.stats()).toMatchObject({ idleBytes: 7 * KB, idleBuffers: 2, evicted: 1 });
    expect(pool.float32(1024).buffer).toBe(bufs[2].buffer); // the first 4 KiB one was evicted
    expect(pool.float32(1024).buffer).not.toBe(bufs[0].buffer);
    const small = pool.float32(100),
      smallId = {};
    pool.track(smallId, small);
    pool.release(smallId);
    expect(pool.stats().recycled).toBe(3);
    pool.configure({ maxBytes: 0 }); // off: idle buffers dropped, nothing pooled
    expect(pool.stats()).toMatchObject({ idleBytes: 0, idleBuffers: 0 });
    pool.clear();
    expect(pool.stats()).toEqual({
      idleBytes: 0,
      idleBuffers: 0,
      reused: 0,
      allocated: 0,
      recycled: 0,
      exposed: 0,
      evicted: 0,
    });
  });

  it("validates its configuration", () => {
    expect(new BufferPool().config).toEqual(DEFAULT_BUFFER_POOL_CONFIG);
    expect(() => new BufferPool({ maxBytes: -1 })).toThrow(
      /config\.maxBytes: expected a non-negative number of bytes, got -1/,
    );
    expect(() => new BufferPool().configure({ minBytes: NaN })).toThrow(/config\.minBytes/);
  });
});

describe("native backend output buffers", () => {
  const N = 1 << 16; // 256 KiB: above the default minBytes
  let backend: NativeBackend;
  const valuesOf = (t: tf.Tensor) => backend.data.get(t.dataId).values as Float32Array;

  beforeAll(async () => {
    await useBackend("native"); // fails here, with the reason, when the addon is not built
    backend = tf.backend() as NativeBackend;
  });

  it("recycles the buffer of a disposed output nobody read", () => {
    const x = tf.fill([N], 2);
    const first = tf.add(x, 1);
    const buffer = valuesOf(first).buffer;
    first.dispose();
    const second = tf.mul(x, 3);
    expect(valuesOf(second).buffer).toBe(buffer);
    expect(Array.from(second.dataSync().subarray(0, 3))).toEqual([6, 6, 6]);
    tf.dispose([x, second]);
  });

  it("never hands out a buffer that was read with dataSync, data, arraySync or bufferSync", async () => {
    const x = tf.fill([N], 2);
    const reads: [string, (t: tf.Tensor) => Promise<ArrayLike<number>>][] = [
      ["dataSync", async (t) => t.dataSync()],
      ["data", (t) => t.data() as Promise<Float32Array>],
      [
        "arraySync",
        async (t) => {
          t.arraySync();
          return valuesOf(t);
        },
      ],
      ["bufferSync", async (t) => t.bufferSync().values as Float32Array],
    ];
    const seen: [string, Float32Array][] = [];
    for (const [i, [how, read]] of reads.entries()) {
      const t = tf.add(x, i);
      const stored = valuesOf(t);
      expect(await read(t)).toBe(stored); // the cpu backend hands out its own array: the reason for this rule
      t.dispose();
      seen.push([how, stored]);
    }
    const later = Array.from({ length: 8 }, (_, i) => tf.mul(x, 10 + i));
    for (const t of later) for (const [how, stored] of seen) expect(valuesOf(t).buffer, how).not.toBe(stored.buffer);
    seen.forEach(([how, stored], i) => expect(stored[0], `${how} values kept`).toBe(2 + i));
    tf.dispose([x, ...later]);
  });

  it("frees a buffer shared by reshape and clone only with its last tensor", () => {
    const x = tf.fill([N], 2);
    const base = tf.add(x, 1);
    const buffer = valuesOf(base).buffer;
    const reshaped = base.reshape([256, N / 256]); // same data id
    const cloned = base.clone();
    base.dispose();
    reshaped.dispose();
    const later = tf.mul(x, 5);
    expect(valuesOf(later).buffer).not.toBe(buffer);
    expect(cloned.dataSync()[7]).toBe(3);
    const fresh = tf.add(x, 7);
    const freshBuffer = valuesOf(fresh).buffer;
    tf.dispose([fresh.reshape([N]), fresh]);
    const again = tf.mul(x, 6);
    expect(valuesOf(again).buffer).toBe(freshBuffer);
    tf.dispose([x, cloned, later, again]);
  });

  it("never recycles a buffer viewed by a slice, nor user data", () => {
    const x = tf.fill([N], 2);
    const base = tf.add(x, 1);
    const sliced = tf.slice(base, [0], [N / 2]); // cpu's contiguous Slice stores a subarray of base's buffer
    const user = new Float32Array(N).fill(5);
    const fromUser = tf.tensor(user); // tfjs stores the caller's array as is
    const userSum = tf.add(fromUser, 0);
    tf.dispose([base, fromUser]);
    const later = Array.from({ length: 6 }, (_, i) => tf.mul(x, 10 + i));
    for (const t of later) {
      expect(valuesOf(t).buffer).not.toBe(user.buffer);
      expect(valuesOf(t).buffer).not.toBe(valuesOf(sliced).buffer);
    }
    const fromView = tf.tidy(() => tf.add(tf.slice(later[0], [N / 4], [N / 2]), 1)); // a native kernel reading a view
    expect(Array.from(fromView.dataSync().subarray(0, 2))).toEqual([21, 21]);
    expect(sliced.dataSync()[7]).toBe(3);
    expect(user[0]).toBe(5);
    tf.dispose([x, sliced, userSum, fromView, ...later]);
  });

  it("keeps tf.memory().numTensors flat and reuses buffers over a training-like loop", () => {
    backend.buffers.clear();
    const before = tf.memory().numTensors;
    const init = tf.fill([N], 0.5);
    const w = tf.variable(init);
    init.dispose();
    const target = tf.fill([N], 2);
    for (let step = 0; step < 20; step++) {
      tf.tidy(() => {
        const grad = tf.mul(tf.sub(tf.mul(w, 3), target), 0.1);
        w.assign(tf.sub(w, grad));
      });
      expect(tf.memory().numTensors).toBe(before + 2);
    }
    const stats = backend.buffers.stats(); // 4 outputs a step, all but the first few from the pool
    expect(stats.reused).toBeGreaterThan(4 * 20 - 10);
    expect(stats.allocated).toBeLessThan(10);
    // w -> w - 0.1 (3w - 2) converges to 2/3; every element equal, so no stale buffer content leaked in
    const values = w.dataSync();
    expect(Math.abs(values[0] - 2 / 3)).toBeLessThan(1e-3);
    expect(values.every((v) => v === values[0])).toBe(true);
    tf.dispose([w, target]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("stays under maxBytes and can be turned off", () => {
    const saved = backend.buffers.config;
    try {
      backend.buffers.configure({ maxBytes: 3 * 4 * N });
      const x = tf.fill([N], 1);
      tf.dispose(Array.from({ length: 10 }, (_, i) => tf.add(x, i)));
      expect(backend.buffers.stats().idleBytes).toBeLessThanOrEqual(3 * 4 * N);
      backend.buffers.configure({ maxBytes: 0 });
      const t = tf.add(x, 1);
      const buffer = valuesOf(t).buffer;
      t.dispose();
      const u = tf.add(x, 2);
      expect(valuesOf(u).buffer).not.toBe(buffer);
      tf.dispose([x, u]);
    } finally {
      backend.buffers.configure(saved);
    }
  });
});
