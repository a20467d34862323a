// The native TopK equals tfjs's cpu kernel and a sort oracle (values and indices, ties by lower index) on random rows,
// heavy ties, every k of a short row and batched leading axes, and the oracle with ±Infinity (where tfjs's cpu kernel
// goes wrong); k above MAX_NATIVE_TOPK, unsorted requests and rows with NaN fall back to the cpu kernel (checked too).
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { MAX_NATIVE_TOPK } from "../../lib/native/kernels/topk";
import { Rng } from "../../lib/random";

/** Sort every row by value descending, ties by lower index; keep k. */
function oracle(x: Float32Array, shape: number[], k: number) {
  const n = shape[shape.length - 1];
  const values: number[] = [];
  const indices: number[] = [];
  for (let r = 0; r < x.length / n; r++) {
    const row = Array.from(x.subarray(r * n, (r + 1) * n), (v, i) => ({ v, i }));
    row.sort((a, b) => (a.v === b.v ? a.i - b.i : b.v > a.v ? 1 : -1));
    row.slice(0, k).forEach(({ v, i }) => (values.push(v), indices.push(i)));
  }
  return { values, indices, shape: [...shape.slice(0, -1), k] };
}

async function both(x: Float32Array, shape: number[], k: number, sorted = true) {
  const run = async (backend: "cpu" | "native") => {
    await useBackend(backend);
    return tf.tidy(() => {
      const { values, indices } = tf.topk(tf.tensor(x, shape), k, sorted);
      return { values: Array.from(values.dataSync()), indices: Array.from(indices.dataSync()), shape: values.shape };
    });
  };
  return { cpu: await run("cpu"), native: await run("native") };
}

describe("native TopK", () => {
  it("equals the cpu kernel: random rows, ties, ±Infinity, every k, leading axes", async () => {
    const rng = new Rng(3);
    const cases: [Float32Array, number[]][] = [
      [Float32Array.from({ length: 7 * 64 }, () => rng.normal()), [7, 64]],
      [Float32Array.from({ length: 5 * 33 }, () => rng.int(4)), [5, 33]], // heavy ties
      [Float32Array.from({ length: 2 * 3 * 16 }, () => rng.normal()), [2, 3, 16]],
    ];
    for (const [x, shape] of cases) {
      const n = shape[shape.length - 1];
      for (let k = 1; k <= Math.min(n, MAX_NATIVE_TOPK + 2); k++) {
        const { cpu, native } = await both(x, shape, k);
        expect(native, `shape [${shape}] k ${k}`).toEqual(cpu);
        expect(native, `shape [${shape}] k ${k} vs the sort oracle`).toEqual(oracle(x, shape, k));
      }
    }
  });

  it("handles ±Infinity like the sort oracle (tfjs's cpu kernel does not: Inf − Inf is NaN in its comparator)", async () => {
    const x = Float32Array.from([Infinity, 0.5, -0.2, 1, 2, 3, 0, 0.1, -Infinity, -Infinity, Infinity, 1]);
    await useBackend("native");
    for (let k = 1; k <= 6; k++) {
      const got = tf.tidy(() => {
        const { values, indices } = tf.topk(tf.tensor(x, [2, 6]), k);
        return { values: Array.from(values.dataSync()), indices: Array.from(indices.dataSync()), shape: values.shape };
      });
      expect(got, `k ${k}`).toEqual(oracle(x, [2, 6], k));
    }
  });

  it("falls back to the cpu kernel for NaN rows and unsorted requests", async () => {
    const x = Float32Array.from([1, NaN, 3, 2, 5, 4, 0, -1]);
    const nan = await both(x, [2, 4], 2);
    expect(nan.native).toEqual(nan.cpu);
    const unsorted = await both(Float32Array.from([3, 1, 2, 5, 4]), [5], 3, false);
    expect(unsorted.native).toEqual(unsorted.cpu);
  });
});
