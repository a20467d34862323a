// The KV cache's slot-buffer writes: writeSlots and moveSlots give the same values on native and cpu (changed in
// place: the same tensor comes back) and on wasm (rebuilt functionally: a new tensor, the old one freed); a buffer
// whose values another tensor shares is never changed in place; no tensor leaks; bad slots named.
import { afterAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { KVCache } from "../../lib/model";
import { joinSlots, moveSlots, writeSlots } from "../../lib/model/slot-buffer";

afterAll(async () => {
  await selectBackend();
});

/** buf [2, 1, 4, 2] with values 0 … 15: row r, slot s holds (r·4 + s)·2 and + 1. */
const start = () =>
  tf.tensor4d(
    Float32Array.from({ length: 16 }, (_, i) => i),
    [2, 1, 4, 2],
  );

describe("slot buffers", () => {
  for (const backend of ["native", "cpu", "wasm"] as const) {
    it(`${backend}: writes and moves slots (in place where the backend allows)`, async () => {
      await selectBackend(backend);
      const before = tf.memory().numTensors;
      let buf = start();
      const add = tf.tensor4d([100, 101, 200, 201], [2, 1, 1, 2]);
      const written = writeSlots(buf, add, 2);
      expect(written === buf).toBe(backend !== "wasm");
      expect(Array.from(written.dataSync())).toEqual([0, 1, 2, 3, 100, 101, 6, 7, 8, 9, 10, 11, 200, 201, 14, 15]);
      buf = moveSlots(written, 2, 1, 2); // slots 2, 3 → 1, 2
      expect(Array.from(buf.dataSync())).toEqual([0, 1, 100, 101, 6, 7, 6, 7, 8, 9, 200, 201, 14, 15, 14, 15]);
      expect(() => writeSlots(buf, add, 4)).toThrow(
        /writeSlots\(buf, add, at\): add \[2,1,1,2\] at slot 4 does not fit buf \[2,1,4,2\]/,
      );
      expect(() => moveSlots(buf, 1, 2, 1)).toThrow(/moveSlots\(buf, from, to, n\): slots 1 \+ 1 → 2 do not fit/);
      tf.dispose([buf, add]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  for (const backend of ["native", "cpu", "wasm"] as const) {
    it(`${backend}: joins buffers by rows, each left-padded to the width, with room up to the capacity`, async () => {
      await selectBackend(backend);
      const before = tf.memory().numTensors;
      const a = start(); // [2, 1, 4, 2], 3 slots in use
      const b = tf.tensor4d([50, 51, 52, 53, 54, 55], [1, 1, 3, 2]); // 1 slot in use
      const joined = joinSlots([a, b], [3, 1], 3, 5);
      expect(joined.shape).toEqual([3, 1, 5, 2]);
      expect(Array.from(joined.dataSync())).toEqual([
        ...[0, 1, 2, 3, 4, 5, 0, 0, 0, 0],
        ...[8, 9, 10, 11, 12, 13, 0, 0, 0, 0],
        ...[0, 0, 0, 0, 50, 51, 0, 0, 0, 0],
      ]);
      expect(() => joinSlots([a, b], [3, 4], 3, 5)).toThrow(
        /joinSlots\(bufs, used\): buffer 1 \[1,1,3,2\] with 4 slots/,
      );
      expect(() => joinSlots([a], [3], 3, 2)).toThrow(/joinSlots\(capacity\): expected ≥ width 3, got 2/);
      tf.dispose([a, b, joined]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("KVCache on native: appends land in the same buffer until it is full, then it doubles; append() copies out", async () => {
    await selectBackend("native");
    const before = tf.memory().numTensors;
    const cache = new KVCache(1);
    const put = (t: number, value: number) =>
      tf.tidy(() => cache.appendSlots(0, { k: tf.fill([1, 2, t, 4], value) as tf.Tensor4D })); // keeps only the cache's buffer
    const first = put(3, 1);
    expect(first.slots).toBe(3);
    expect(first.parts.k.shape).toEqual([1, 2, 16, 4]);
    for (let n = 4; n <= 16; n++) {
      const next = put(1, n);
      expect(next.parts.k).toBe(first.parts.k); // written in place
      expect(next.slots).toBe(n);
    }
    const grown = put(1, 17);
    expect(grown.parts.k === first.parts.k).toBe(false);
    expect(grown.parts.k.shape).toEqual([1, 2, 32, 4]);
    cache.advance(17);
    expect(cache.elements()).toBe(2 * 17 * 4);
    expect(cache.reservedElements()).toBe(2 * 32 * 4);
    const all = tf.tidy(() => cache.append(0, { k: tf.fill([1, 2, 1, 4], 18) as tf.Tensor4D }).k);
    expect(all.shape).toEqual([1, 2, 18, 4]);
    const perSlot = [1, 1, 1, ...Array.from({ length: 15 }, (_, i) => i + 4)]; // slot values 1, 1, 1, 4 … 18
    expect(Array.from(all.dataSync()).filter((_, i) => i % 4 === 0)).toEqual([...perSlot, ...perSlot]);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("never changes a buffer in place while another tensor shares its values", async () => {
    await selectBackend("native");
    const buf = start();
    const alias = tf.reshape(buf, [8, 2]); // shares buf's data
    const add = tf.tensor4d([7, 7, 7, 7], [2, 1, 1, 2]);
    const written = writeSlots(buf, add, 0);
    expect(written === buf).toBe(false);
    expect(Array.from(alias.dataSync().slice(0, 2))).toEqual([0, 1]);
    expect(Array.from(written.dataSync().slice(0, 2))).toEqual([7, 7]);
    tf.dispose([written, alias, add]);
  });
  for (const backend of ["native", "wasm"] as const) {
    it(`${backend}: KVCache.selectRows then compact keeps each row's real slots, in order, left-padded`, async () => {
      await selectBackend(backend);
      const before = tf.memory().numTensors;
      const P = -1; // PAD_POSITION
      const run = (query: number[], keep: number[]) => {
        const cache = new KVCache(1);
        cache.addRows(3);
        const q = Int32Array.from(query);
        const keys = cache.keySlots(q, 3, 3);
        tf.tidy(() => {
          cache.appendSlots(0, {
            k: tf.tensor4d(
              Float32Array.from({ length: 9 }, (_, i) => 10 + i),
              [3, 1, 3, 1],
            ),
          });
        });
        cache.advance(3, keys);
        cache.selectRows(keep);
        cache.compact();
        const S = cache.length;
        const view = tf.tidy(() => cache.append(0, { k: tf.fill([keep.length, 1, 1, 1], 99) as tf.Tensor4D }).k);
        const values = Array.from(view.dataSync());
        const positions = Array.from(cache.positions());
        tf.dispose(view);
        cache.dispose();
        // each row: its positions and the values of its real slots (padding slots hold whatever, masked)
        return Array.from({ length: keep.length }, (_, r) => ({
          positions: positions.slice(r * S, (r + 1) * S),
          real: values.slice(r * (S + 1), r * (S + 1) + S).filter((_, s) => positions[r * S + s] >= 0),
        }));
      };
      // left-padded rows (the shift in place): rows 2 and 0 kept
      expect(run([P, P, 0, 0, 1, 2, P, 0, 1], [2, 0])).toEqual([
        { positions: [0, 1], real: [17, 18] },
        { positions: [P, 0], real: [12] },
      ]);
      // a row with a hole (an evicted slot): the gather
      expect(run([0, P, 2, 0, 1, 2, P, P, 0], [0, 2])).toEqual([
        { positions: [0, 2], real: [10, 12] },
        { positions: [P, 0], real: [18] },
      ]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
