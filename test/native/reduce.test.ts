// Parity of the native Sum, Mean, Max, ArgMax and Softmax kernels with tfjs's cpu backend (and float64 references for
// accuracy): every axis combination of ranks 1-5, sizes 1 and not multiples of 16, parallel and split paths, empty
// tensors, NaN/Inf, huge logits, softmax cross-entropy gradients, and no tensor leaks.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { Rng } from "../../lib/random";
import { addonCalls, expectClose, expectParity, normals, on, sizeOf } from "./kernel-parity";

/** A random shape of `rank` dimensions from sizes that include 1 and non-multiples of 16, at most `limit` elements. */
function randomShape(rng: Rng, rank: number, limit: number): number[] {
  const sizes = [1, 2, 3, 5, 7, 16, 17, 33];
  for (;;) {
    const shape = Array.from({ length: rank }, () => sizes[rng.int(sizes.length)]);
    if (sizeOf(shape) <= limit) return shape;
  }
}

beforeAll(async () => {
  await useBackend("native"); // throws (failing every test) when the addon is not built
});

describe("native reductions", () => {
  it("Sum, Mean, Max (keepDims or not) and ArgMax equal cpu for every axis combination of ranks 1-5", async () => {
    const rng = new Rng(1);
    for (let rank = 1; rank <= 5; rank++) {
      for (let trial = 0; trial < 2; trial++) {
        const shape = randomShape(rng, rank, 6000);
        const data = normals(rng, sizeOf(shape));
        const x = () => tf.tensor(data, shape);
        for (let mask = 1; mask < 1 << rank; mask++) {
          // every non-empty set of axes, some written as negative axes
          const axes = [...Array(rank).keys()].filter((d) => mask & (1 << d)).map((d) => (rng.int(2) ? d - rank : d));
          for (const keepDims of [false, true]) {
            const what = `shape [${shape}] axes [${axes}] keepDims ${keepDims}`;
            await expectParity(() => tf.sum(x(), axes, keepDims), `sum ${what}`);
            await expectParity(() => tf.mean(x(), axes, keepDims), `mean ${what}`);
            await expectParity(() => tf.max(x(), axes, keepDims), `max ${what}`);
          }
        }
        await expectParity(() => tf.sum(x()), `sum of all of [${shape}]`);
        for (let d = -rank; d < rank; d++) await expectParity(() => tf.argMax(x(), d), `argMax [${shape}] axis ${d}`);
      }
    }
  });

  it("equals cpu on large shapes (parallel over outputs, split reductions, narrow column chunks)", async () => {
    const rng = new Rng(2);
    const cases: [number[], number | number[]][] = [
      [[300, 700], 1],
      [[300, 700], 0],
      [[1, 200_001], 1], // one output: the reduction is split over the threads
      [[100_003, 3], 0], // few columns, many rows: split over rows
      [[100_003, 3], 1], // many short rows: outputs in blocks
      [[64, 1000], 0], // one output row of one chunk: chunks narrowed so every thread gets one
      [[64, 4099], 0], // several column chunks, the last one partial
      [
        [2, 50_000, 7],
        [0, 2],
      ],
      [[70_001], 0],
      [
        [17, 33, 129],
        [0, 2],
      ],
    ];
    for (const [shape, axis] of cases) {
      const data = normals(rng, sizeOf(shape));
      const x = () => tf.tensor(data, shape);
      await expectParity(() => tf.sum(x(), axis), `sum [${shape}] axis ${axis}`);
      await expectParity(() => tf.mean(x(), axis), `mean [${shape}] axis ${axis}`);
      await expectParity(() => tf.max(x(), axis), `max [${shape}] axis ${axis}`);
      if (typeof axis === "number") await expectParity(() => tf.argMax(x(), axis), `argMax [${shape}] axis ${axis}`);
    }
  });

  it("follows cpu's NaN, Inf and tie rules", async () => {
    const rng = new Rng(3);
    const special = [NaN, Infinity, -Infinity, 0, -0, 1];
    for (const shape of [
      [5, 37],
      [37, 5],
      [3, 4, 19],
    ]) {
      const n = sizeOf(shape);
      const pick = () => (rng.int(4) === 0 ? special[rng.int(special.length)] : rng.int(3)); // small ints: many ties
      const data = Float32Array.from({ length: n }, pick);
      const x = () => tf.tensor(data, shape);
      for (let d = 0; d < shape.length; d++) {
        await expectParity(() => tf.sum(x(), d), `sum [${shape}] axis ${d}`);
        await expectParity(() => tf.max(x(), d), `max [${shape}] axis ${d}`);
        await expectParity(() => tf.argMax(x(), d), `argMax [${shape}] axis ${d}`);
      }
    }
    // ties keep the first index; a NaN is never the argmax unless it comes first; Max propagates NaN
    const rows = [
      [2, 5, 5, 1],
      [NaN, 1, 9, 9],
      [1, NaN, 3, 3],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [1, Infinity, 3, 2],
    ];
    const native = await on("native", () => tf.argMax(tf.tensor2d(rows), 1));
    expect(native.values).toEqual([1, 0, 2, 0, 1]);
    expect((await on("native", () => tf.max(tf.tensor2d(rows), 1))).values).toEqual([5, NaN, NaN, -Infinity, Infinity]);
    // ties across vector lanes: the same maximum in several lanes and in the tail
    const wide = Float32Array.from({ length: 77 }, (_, i) => (i % 19 === 3 ? 7 : 0));
    expect((await on("native", () => tf.argMax(tf.tensor1d(wide)))).values).toEqual([3]);
  });

  it("runs empty tensors and other dtypes through cpu with the same results", async () => {
    const empty = () => tf.zeros([3, 0, 2]);
    for (const axis of [0, 1, 2]) {
      await expectParity(() => tf.sum(empty(), axis), `sum empty axis ${axis}`);
      await expectParity(() => tf.mean(empty(), axis), `mean empty axis ${axis}`);
      await expectParity(() => tf.max(empty(), axis), `max empty axis ${axis}`);
      await expectParity(() => tf.argMax(empty(), axis), `argMax empty axis ${axis}`);
    }
    await expectParity(() => tf.softmax(tf.zeros([0, 4])), "softmax empty");
    const ints = () =>
      tf.tensor2d(
        [
          [3, -1, 4],
          [1, 5, 9],
        ],
        [2, 3],
        "int32",
      );
    await expectParity(() => tf.sum(ints(), 1), "sum int32");
    await expectParity(() => tf.sum(tf.tensor1d([true, false, true], "bool")), "sum bool");
    await expectParity(() => tf.mean(ints(), 0), "mean int32");
    await expectParity(() => tf.max(ints(), 1), "max int32");
    await expectParity(() => tf.argMax(ints(), 1), "argMax int32");
    await expectParity(() => tf.sum(tf.scalar(2.5)), "sum of a scalar");
    await expectParity(() => tf.max(tf.scalar(-2.5), [], true), "max of a scalar, no axes");
    await expectParity(
      () =>
        tf.sum(
          tf.tensor2d([
            [1, NaN],
            [3, 4],
          ]),
          [],
        ),
      "sum over no axes",
    );
  });

  it("sums 1e6 float32 values as accurately as cpu (in double: within 1/2 ulp of the float64 sum)", async () => {
    const rng = new Rng(4);
    // positive values (no cancellation) and mixed signs around a large offset (heavy cancellation)
    for (const data of [
      Float32Array.from({ length: 1_000_000 }, () => rng.uniform()),
      Float32Array.from({ length: 1_000_000 }, () => 1000 + rng.normal()),
      normals(rng, 1_000_000),
    ]) {
      let exact = 0;
      for (const v of data) exact += v; // float64: exact to ~1e-16 relative for these sums
      const errors: Record<string, number> = {};
      for (const backend of ["cpu", "native"] as const) {
        const [sum] = (await on(backend, () => tf.sum(tf.tensor1d(data)))).values;
        errors[backend] = Math.abs(sum - exact);
      }
      const halfUlp = Math.abs(exact) * 2 ** -24; // the rounding of the exact sum to float32
      expect(errors.native).toBeLessThanOrEqual(Math.max(errors.cpu, halfUlp * 1.01));
    }
  });
});

describe("native softmax", () => {
  it("equals cpu on rows of 1..1000 elements, ranks 1-3", async () => {
    const rng = new Rng(5);
    for (const shape of [[1], [5], [16], [3, 17], [64, 128], [2, 3, 1000], [7, 33], [4, 1], [513, 31]]) {
      const data = normals(rng, sizeOf(shape), 4);
      await expectParity(() => tf.softmax(tf.tensor(data, shape)), `softmax [${shape}]`, 1e-5, 1e-7);
    }
  });

  it("is within 3e-7 relative of a float64 softmax of the float32 shifted logits (cpu: 1.6e-7)", async () => {
    // x - max is rounded to float32 by every float32 softmax (cpu's too): up to 1.9e-6 relative for |x - max| ~ 40
    // here. The reference takes that shift as given and measures what the kernel adds: exp, sum, division.
    const rng = new Rng(6);
    const [rows, n] = [64, 301];
    const data = normals(rng, rows * n, 5);
    const y = (await on("native", () => tf.softmax(tf.tensor2d(data, [rows, n])))).values;
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      const row = data.subarray(r * n, (r + 1) * n);
      const m = Math.max(...row);
      const e = Array.from(row, (v) => Math.exp(Math.fround(v - m)));
      const s = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(y[r * n + j] - e[j] / s) / (e[j] / s));
    }
    expect(worst).toBeLessThan(3e-7);
  });

  it("never overflows on huge logits and propagates NaN and -Inf like cpu", async () => {
    const rows = [
      [3e38, 3e38, 0, -3e38],
      [1e30, -1e30, 0, 5],
      [-Infinity, 0, -Infinity, 1],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [NaN, 1, 2, 3],
      [Infinity, 1, 2, 3],
      [-1e4, -1e4 - 88, -1e4 - 100, -1e4 - 200], // results down to the subnormal range and below
    ];
    const native = await on("native", () => tf.softmax(tf.tensor2d(rows)));
    expectClose(native, await on("cpu", () => tf.softmax(tf.tensor2d(rows))), "softmax special rows", 1e-5, 1e-38);
    expect(native.values.slice(0, 8)).toEqual([0.5, 0.5, 0, 0, 1, 0, 0, 0]);
  });

  it("gives softmax cross-entropy and logSoftmax gradients equal to cpu's (1e-5 relative)", async () => {
    const rng = new Rng(7);
    const [batch, classes] = [37, 19];
    const logits = normals(rng, batch * classes, 3);
    const labels = new Float32Array(batch * classes);
    for (let b = 0; b < batch; b++) labels[b * classes + rng.int(classes)] = 1;
    const loss = (l: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.tensor2d(labels, [batch, classes]), l);
    const grad = () => tf.grad(loss)(tf.tensor2d(logits, [batch, classes]));
    await expectParity(grad, "softmax cross-entropy gradient", 1e-5, 1e-7);
    await expectParity(() => loss(tf.tensor2d(logits, [batch, classes])), "softmax cross-entropy");
    const logSoftmaxGrad = () =>
      tf.grad((l: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(l), tf.tensor2d(labels, [batch, classes]))))(
        tf.tensor2d(logits, [batch, classes]),
      );
    await expectParity(logSoftmaxGrad, "logSoftmax gradient", 1e-5, 1e-7);
    const softmaxGrad = () =>
      tf.grad((l: tf.Tensor) => tf.sum(tf.mul(tf.softmax(l), tf.tensor2d(labels, [batch, classes]))))(
        tf.tensor2d(logits, [batch, classes]),
      );
    await expectParity(softmaxGrad, "softmax gradient", 1e-5, 1e-7);
  });

  it("runs float32 work in the addon, not through the cpu fallback", async () => {
    await tf.setBackend("native");
    const calls = await addonCalls(["reduceSum", "reduceMax", "argMax", "softmax"], async () =>
      tf.tidy(() => {
        const x = tf.tensor2d([1, 5, 2, 8, 3, 4], [2, 3]);
        tf.sum(x, 1);
        tf.mean(x);
        tf.max(x, 0);
        tf.argMax(x, 1);
        tf.softmax(x);
      }),
    );
    expect(calls).toEqual({ reduceSum: 2, reduceMax: 1, argMax: 1, softmax: 1 });
  });

  it("leaks no tensor, natively or through a cpu fallback", async () => {
    await tf.setBackend("native");
    const x = tf.randomNormal([6, 7, 8]);
    const ints = tf.tensor1d([1, 2, 3], "int32");
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        tf.sum(x, [0, 2], true);
        tf.mean(x, 1);
        tf.max(x, -1);
        tf.argMax(x, 1);
        tf.softmax(x);
        tf.sum(ints);
        tf.grad((l: tf.Tensor) => tf.sum(tf.softmax(l)))(x);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    ints.dispose();
  });
});
