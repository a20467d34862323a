// Parity of the native Transpose, GatherV2, UnsortedSegmentSum, GatherNd and ScatterNd kernels with tfjs's cpu
// backend: every permutation of ranks 1-4 and random ones of rank 5, float32 and int32 data, batch dimensions, index
// tuples of rank 1-3, out-of-range indices and segment ids, empty tensors, embedding gradients through gather, and no
// tensor leaks.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { Rng } from "../../lib/random";
import { addonCalls, expectParity, normals, sizeOf } from "./kernel-parity";

/** Copies must match cpu exactly. */
const expectSame = (f: () => tf.Tensor, what: string) => expectParity(f, what, 0, 0);

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const insert = (p: number[], i: number) => [...p.slice(0, i), n - 1, ...p.slice(i)];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => insert(p, i)));
}

beforeAll(async () => {
  await useBackend("native"); // throws (failing every test) when the addon is not built
});

describe("native transpose", () => {
  it("equals cpu for every permutation of ranks 1-4 and random ones of rank 5, float32 and int32", async () => {
    const rng = new Rng(11);
    const dims = [1, 2, 3, 5, 16, 17, 19];
    for (let rank = 1; rank <= 5; rank++) {
      const perms = rank <= 4 ? permutations(rank) : Array.from({ length: 12 }, () => rng.shuffle([0, 1, 2, 3, 4]));
      for (const perm of perms) {
        const shape = Array.from({ length: rank }, () => dims[rng.int(dims.length)]);
        const data = normals(rng, sizeOf(shape));
        await expectSame(() => tf.transpose(tf.tensor(data, shape), perm), `transpose [${shape}] by [${perm}]`);
        const ints = Int32Array.from(data, (v) => Math.round(v * 1e6));
        await expectSame(() => tf.transpose(tf.tensor(ints, shape, "int32"), perm), `int32 [${shape}] by [${perm}]`);
      }
    }
  });

  it("equals cpu on 2-D and batched last-two-axes swaps with partial tiles, and on bit patterns", async () => {
    const rng = new Rng(12);
    const cases: [number[], number[]][] = [
      [
        [300, 517],
        [1, 0],
      ],
      [
        [16, 4099],
        [1, 0],
      ], // few row blocks: the swept axis is split over threads
      [
        [3, 130, 67],
        [0, 2, 1],
      ],
      [
        [2, 33, 3, 65],
        [0, 3, 2, 1],
      ],
      [
        [64, 8, 32, 16],
        [0, 2, 1, 3],
      ], // the innermost axis stays: row copies
      [
        [5, 1, 7, 1],
        [3, 2, 1, 0],
      ],
    ];
    for (const [shape, perm] of cases) {
      const data = normals(rng, sizeOf(shape));
      await expectSame(() => tf.transpose(tf.tensor(data, shape), perm), `transpose [${shape}] by [${perm}]`);
    }
    // bit patterns (NaN payloads, -0, subnormals) come through unchanged: words are moved, not computed
    const [rows, cols] = [40, 24];
    const bits = Uint32Array.from({ length: rows * cols }, (_, i) => [0x7fc01234, 0x80000000, 0x7f800000, 1, i][i % 5]);
    await tf.setBackend("native");
    const t = tf.transpose(tf.tensor2d(new Float32Array(bits.buffer), [rows, cols]));
    const out = new Uint32Array((t.dataSync() as Float32Array).slice().buffer);
    t.dispose();
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) expect(out[j * rows + i], `bits at ${i},${j}`).toBe(bits[i * cols + j]);
    }
  });

  it("runs empty and bool tensors through cpu", async () => {
    await expectSame(() => tf.transpose(tf.zeros([0, 3, 2]), [2, 0, 1]), "empty");
    await expectSame(() => tf.transpose(tf.tensor2d([[true, false, true]], [1, 3], "bool")), "bool");
  });
});

describe("native gather", () => {
  it("equals cpu across axes, batch dimensions, float32 and int32 params, repeated indices", async () => {
    const rng = new Rng(13);
    const cases: { shape: number[]; indices: number[]; axis: number; batchDims?: number }[] = [
      { shape: [50, 8], indices: [3, 3, 0, 49, 17], axis: 0 },
      {
        shape: [50, 17],
        indices: [
          [1, 2, 3],
          [4, 4, 0],
        ].flat(),
        axis: 0,
      },
      { shape: [4, 9, 5], indices: [8, 0, 2, 2], axis: 1 },
      { shape: [4, 9, 5], indices: [4, 0, 1], axis: -1 },
      { shape: [7], indices: [6, 5, 0], axis: 0 },
      { shape: [3, 6, 4], indices: [0, 5, 1, 2, 2, 3], axis: 1, batchDims: 1 },
      { shape: [1, 1, 33], indices: [32, 0], axis: 2 },
    ];
    for (const { shape, indices, axis, batchDims } of cases) {
      const data = normals(rng, sizeOf(shape));
      const idxShape = batchDims ? [shape[0], indices.length / shape[0]] : [indices.length];
      const idx = () => tf.tensor(indices, idxShape, "int32");
      const what = `gather [${shape}] axis ${axis} batchDims ${batchDims ?? 0}`;
      await expectSame(() => tf.gather(tf.tensor(data, shape), idx(), axis, batchDims), what);
      const ints = Int32Array.from(data, (v) => Math.round(v * 1000));
      await expectSame(() => tf.gather(tf.tensor(ints, shape, "int32"), idx(), axis, batchDims), `int32 ${what}`);
    }
    await expectSame(
      () =>
        tf.gather(
          tf.tensor2d([
            [1, 2],
            [3, 4],
          ]),
          tf.scalar(1, "int32"),
        ),
      "scalar index",
    );
    await expectSame(
      () =>
        tf.gather(
          tf.tensor2d([
            [1, 2],
            [3, 4],
          ]),
          tf.tensor1d([], "int32"),
        ),
      "no indices",
    );
  });

  it("rejects out-of-range indices with cpu's error", async () => {
    for (const bad of [5, -1]) {
      const f = () => tf.gather(tf.ones([5, 2]), tf.tensor1d([0, bad, 1], "int32"));
      await tf.setBackend("cpu");
      expect(f).toThrow(`GatherV2: the index value ${bad} is not in [0, 4]`);
      await tf.setBackend("native");
      expect(f).toThrow(`GatherV2: the index value ${bad} is not in [0, 4]`);
    }
  });
});

describe("native unsorted segment sum", () => {
  it("equals cpu, dropping negative and out-of-range ids, with empty segments", async () => {
    const rng = new Rng(14);
    for (const [shape, segments] of [
      [[12], 5],
      [[40, 17], 7],
      [[9, 3, 5], 4],
      [[300, 1030], 11], // rows wider than a column chunk
      [[5, 2], 1],
    ] as [number[], number][]) {
      const data = normals(rng, sizeOf(shape));
      const ids = Int32Array.from({ length: shape[0] }, () => rng.int(segments + 3) - 1);
      await expectParity(
        () => tf.unsortedSegmentSum(tf.tensor(data, shape), tf.tensor1d(ids, "int32"), segments),
        `segment sum [${shape}] into ${segments}`,
        1e-6,
      );
    }
    await expectSame(
      () =>
        tf.unsortedSegmentSum(
          tf.tensor2d(
            [
              [1, 2],
              [3, 4],
            ],
            [2, 2],
            "int32",
          ),
          tf.tensor1d([1, 1], "int32"),
          2,
        ),
      "int32 data (cpu fallback)",
    );
  });

  it("gives embedding-lookup gradients equal to cpu's (1e-5 relative)", async () => {
    const rng = new Rng(15);
    const [vocab, dim, batch, seq] = [50, 24, 4, 9];
    const table = normals(rng, vocab * dim);
    const ids = Int32Array.from({ length: batch * seq }, () => rng.int(12)); // repeats: rows sum several gradients
    const weights = normals(rng, batch * seq * dim);
    const grad = () =>
      tf.grad((e: tf.Tensor) => {
        const rows = tf.gather(e, tf.tensor2d(ids, [batch, seq], "int32")); // [batch, seq, dim]
        return tf.sum(tf.square(tf.mul(rows, tf.tensor3d(weights, [batch, seq, dim]))));
      })(tf.tensor2d(table, [vocab, dim]));
    await expectParity(grad, "embedding gradient", 1e-5);
    const gatherColumns = (e: tf.Tensor) => tf.sum(tf.gather(e, tf.tensor1d([3, 0, 3, 5], "int32"), 1));
    const gradAxis1 = () => tf.grad(gatherColumns)(tf.tensor2d(table, [vocab, dim]));
    await expectParity(gradAxis1, "gather axis-1 gradient", 1e-5);
  });

  it("runs float32 and int32 work in the addon, not through the cpu fallback", async () => {
    await tf.setBackend("native");
    const calls = await addonCalls(["transpose", "gather", "unsortedSegmentSum"], async () =>
      tf.tidy(() => {
        const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]);
        tf.transpose(x);
        tf.transpose(tf.tensor2d([1, 2, 3, 4], [2, 2], "int32"));
        tf.gather(x, tf.tensor1d([1, 4], "int32"));
        tf.unsortedSegmentSum(x, tf.tensor1d([0, 1, 0, 2, 1], "int32"), 3);
      }),
    );
    expect(calls).toEqual({ transpose: 2, gather: 1, unsortedSegmentSum: 1 });
  });

  it("leaks no tensor, natively or through a cpu fallback", async () => {
    await tf.setBackend("native");
    const x = tf.randomNormal([6, 7, 8]);
    const ids = tf.tensor1d([0, 2, 2, 5, -1, 1], "int32");
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        tf.transpose(x, [2, 0, 1]);
        tf.transpose(tf.cast(x, "bool"));
        tf.gather(x, ids.slice(0, 4), 1);
        tf.unsortedSegmentSum(x, ids, 4);
        tf.grad((e: tf.Tensor) => tf.sum(tf.gather(e, ids.slice(1, 3))))(x);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    ids.dispose();
  });
});

describe("native gatherND / scatterND", () => {
  it("equal cpu for index tuples of rank 1-3 into float32 and int32 data (scatter: float32, repeats add up)", async () => {
    const rng = new Rng(31);
    const cases: [number[], number][] = [
      [[262], 1], // elements of a vector (lib/moe/rows.ts on gate weights)
      [[40, 17], 1], // rows
      [[6, 5, 9], 2], // rows of a [6·5, 9] view
      [[4, 3, 5], 3], // elements by full coordinates
      [[30, 70], 1], // rows of 70: scatter by the native segment sum
    ];
    for (const [shape, rank] of cases) {
      const n = 50;
      const tuples = Array.from({ length: n * rank }, (_, i) => rng.int(shape[i % rank])); // repeats likely
      const slice = shape.slice(rank);
      const data = normals(rng, sizeOf(shape));
      const idx = () => tf.tensor2d(tuples, [n, rank], "int32");
      await expectSame(() => tf.gatherND(tf.tensor(data, shape), idx()), `gatherND [${shape}] rank ${rank}`);
      const ints = Int32Array.from(data, (v) => Math.round(v * 1e6));
      await expectSame(() => tf.gatherND(tf.tensor(ints, shape, "int32"), idx()), `int32 gatherND [${shape}]`);
      const updates = normals(rng, n * sizeOf(slice));
      // Repeated indices add up: slices of 64+ natively in double, on cpu in float32 (1e-6 relative).
      await expectParity(
        () => tf.scatterND(idx(), tf.tensor(updates, [n, ...slice]), shape),
        `scatterND [${shape}] rank ${rank}`,
        1e-6,
        1e-6,
      );
    }
  });

  it("run natively (narrow scatters in the kernel's own loop) and reject out-of-range index tuples with cpu's error", async () => {
    await tf.setBackend("native");
    // Spy on the cpu kernels the native ones would fall back to.
    let cpuCalls = 0;
    const restore = ["GatherNd", "ScatterNd"].map((name) => {
      const config = tf.getKernel(name, "cpu")! as { kernelFunc: tf.KernelFunc };
      const original = config.kernelFunc;
      config.kernelFunc = (args) => (cpuCalls++, original(args));
      return () => (config.kernelFunc = original);
    });
    const calls = await addonCalls(["gather", "unsortedSegmentSum"], async () =>
      tf.tidy(() => {
        const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
        const idx = tf.tensor2d([1, 1, 0], [3, 1], "int32");
        tf.gatherND(x, tf.tensor2d([2, 0, 2], [3, 1], "int32"));
        tf.scatterND(idx, x, [2, 2]); // slices of 2: the loop
        tf.scatterND(idx, tf.ones([3, 64]), [2, 64]); // slices of 64: the segment sum
      }),
    );
    expect(cpuCalls).toBe(0);
    tf.tidy(() => tf.gatherND(tf.tensor1d([true, false], "bool"), tf.tensor2d([1], [1, 1], "int32"))); // bool: cpu
    expect(cpuCalls).toBe(1); // the spy sees fallbacks
    restore.forEach((r) => r());
    expect(calls).toEqual({ gather: 1, unsortedSegmentSum: 1 });
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    for (const bad of [
      [0, 3],
      [0, -1],
    ]) {
      const idx = tf.tensor2d(bad, [2, 1], "int32");
      expect(() => tf.gatherND(x, idx)).toThrow(`Invalid indices: ${bad[1]} does not index into 3,2`);
      expect(() => tf.scatterND(idx, tf.ones([2, 2]), [3, 2])).toThrow(
        `Invalid indices: ${bad[1]} does not index into 3,2`,
      );
      idx.dispose();
    }
    const idx2 = tf.tensor2d([1, 1, 2, 5], [2, 2], "int32");
    expect(() => tf.gatherND(x, idx2)).toThrow("Invalid indices: 2,5 does not index into 3,2");
    tf.dispose([x, idx2]);
  });
});
