// Parity of the native Slice, SplitV and Concat kernels with tfjs's cpu backend: random shapes of rank 1-6, every
// axis (negative too), -1 sizes, size-1 dimensions, empty tensors, float32 and int32 (copies must match exactly),
// gradients through split and concat (1e-5), outputs that never share their input's buffer, and no tensor leaks.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { Rng } from "../../lib/random";
import { addonCalls, expectClose, expectParity, normals, on, sizeOf } from "./kernel-parity";

/** Copies must match cpu exactly. */
const expectSame = (f: () => tf.Tensor, what: string) => expectParity(f, what, 0, 0);

const DIMS = [1, 2, 3, 5, 16, 17];

function randomShape(rng: Rng, rank: number): number[] {
  return Array.from({ length: rank }, () => DIMS[rng.int(DIMS.length)]);
}

/** Normal float32 data, or the same rounded to int32. */
function input(data: Float32Array, shape: number[], dtype: "float32" | "int32"): tf.Tensor {
  return dtype === "float32"
    ? tf.tensor(data, shape)
    : tf.tensor(
        Int32Array.from(data, (v) => Math.round(v * 1e6)),
        shape,
        "int32",
      );
}

beforeAll(async () => {
  await useBackend("native"); // throws (failing every test) when the addon is not built
});

describe("native slice", () => {
  it("equals cpu on random boxes of rank 1-6, -1 sizes and empty boxes, float32 and int32", async () => {
    const rng = new Rng(21);
    for (let trial = 0; trial < 60; trial++) {
      const rank = 1 + (trial % 6);
      const shape = randomShape(rng, rank);
      const begin = shape.map((d) => rng.int(d + 1) % (d + 1));
      const size = shape.map((d, i) => {
        const r = rng.int(4);
        return r === 0 ? -1 : r === 1 ? d - begin[i] : rng.int(d - begin[i] + 1);
      });
      const data = normals(rng, sizeOf(shape));
      for (const dtype of ["float32", "int32"] as const) {
        await expectSame(
          () => tf.slice(input(data, shape, dtype), begin, size),
          `${dtype} [${shape}] at [${begin}] size [${size}]`,
        );
      }
    }
  });

  it("runs natively and returns a copy, never a view of its input, for a leading-axis slice", async () => {
    await tf.setBackend("native");
    const x = tf.tensor(normals(new Rng(22), 4 * 3000), [4, 3000]);
    let y: tf.Tensor | undefined;
    const calls = await addonCalls(["copyBlock"], async () => {
      y = tf.slice(x, [1, 0], [2, 3000]);
    });
    expect(calls.copyBlock).toBe(1);
    expect(y!.dataSync().buffer).not.toBe(x.dataSync().buffer);
    expect(Array.from(y!.dataSync())).toEqual(Array.from(x.dataSync().subarray(3000, 9000)));
    tf.dispose([x, y!]);
  });

  it("equals cpu on a large strided slice (split over threads) and on an empty input", async () => {
    const rng = new Rng(23);
    const data = normals(rng, 512 * 768);
    await expectSame(() => tf.slice(tf.tensor(data, [512, 768]), [0, 256], [512, 256]), "large column slice");
    await expectSame(() => tf.slice(tf.zeros([3, 0, 4]), [1, 0, 1], [2, 0, 2]), "empty input");
  });
});

describe("native split", () => {
  it("equals cpu for every axis (negative too), equal and sized splits with -1, float32 and int32", async () => {
    const rng = new Rng(31);
    for (let trial = 0; trial < 30; trial++) {
      const rank = 1 + (trial % 5);
      const shape = randomShape(rng, rank);
      const axis = rng.int(rank);
      const d = shape[axis];
      const divisors = [1, 2, 3, 5].filter((k) => d % k === 0);
      const splits = trial % 2 === 0 ? divisors[rng.int(divisors.length)] : [rng.int(d + 1), -1];
      const data = normals(rng, sizeOf(shape));
      const useAxis = trial % 3 === 0 ? axis - rank : axis;
      const parts = typeof splits === "number" ? splits : splits.length;
      for (const dtype of ["float32", "int32"] as const) {
        for (let k = 0; k < parts; k++) {
          await expectSame(
            () => tf.split(input(data, shape, dtype), splits, useAxis)[k],
            `${dtype} [${shape}] split ${JSON.stringify(splits)} on ${useAxis}, part ${k}`,
          );
        }
      }
    }
  });

  it("splits a transformer's fused qkv natively, one copy per part", async () => {
    await tf.setBackend("native");
    const qkv = tf.tensor(normals(new Rng(32), 64 * 3 * 96), [64, 3 * 96]);
    const calls = await addonCalls(["copyBlock"], async () => tf.dispose(tf.split(qkv, 3, 1)));
    expect(calls.copyBlock).toBe(3);
    for (let k = 0; k < 3; k++) {
      expectClose(
        await on("native", () => tf.split(qkv, 3, 1)[k]),
        await on("native", () => tf.slice(qkv, [0, 96 * k], [64, 96])),
        `part ${k}`,
        0,
        0,
      );
    }
    qkv.dispose();
  });
});

describe("native concat", () => {
  it("equals cpu for 1-5 inputs on every axis, with size-1 and empty inputs, float32 and int32", async () => {
    const rng = new Rng(41);
    for (let trial = 0; trial < 40; trial++) {
      const rank = 1 + (trial % 6);
      const shape = randomShape(rng, rank);
      const axis = rng.int(rank);
      const count = 1 + rng.int(5);
      const shapes = Array.from({ length: count }, () => {
        const s = [...shape];
        s[axis] = [0, 1, 2, 7][rng.int(4)];
        return s;
      });
      const datas = shapes.map((s) => normals(rng, sizeOf(s)));
      const useAxis = trial % 4 === 0 ? axis - rank : axis;
      for (const dtype of ["float32", "int32"] as const) {
        await expectSame(
          () =>
            tf.concat(
              datas.map((d, i) => input(d, shapes[i], dtype)),
              useAxis,
            ),
          `${dtype} [${shapes.map((s) => `[${s}]`)}] on ${useAxis}`,
        );
      }
    }
  });

  it("runs natively: one copy per non-empty input", async () => {
    await tf.setBackend("native");
    const a = tf.ones([8, 5]),
      b = tf.zeros([8, 0]),
      c = tf.zeros([8, 3]);
    const calls = await addonCalls(["copyBlock"], async () => tf.concat([a, b, c], 1).dispose());
    expect(calls.copyBlock).toBe(2);
    tf.dispose([a, b, c]);
  });
});

describe("gradients through split and concat", () => {
  it("equal cpu's to 1e-5 and leave no tensor behind", async () => {
    const rng = new Rng(51);
    const x = normals(rng, 6 * 4 * 24);
    const w = normals(rng, 6 * 4 * 24);
    const grad = () =>
      tf.grad((t: tf.Tensor) => {
        const [q, k, v] = tf.split(t, [8, 8, -1], 2);
        const mixed = tf.concat([tf.mul(q, k), tf.sin(v), q], 2);
        return tf.sum(tf.mul(mixed, tf.tensor(w, [6, 4, 24])));
      })(tf.tensor(x, [6, 4, 24]));
    await tf.setBackend("native");
    const before = tf.memory().numTensors;
    const native = await on("native", grad);
    expect(tf.memory().numTensors).toBe(before);
    expectClose(native, await on("cpu", grad), "d loss / d x", 1e-5, 1e-6);
  });
});
