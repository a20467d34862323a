// Reductions over empty axes on wasm give the identities (sum 0, prod 1, max −∞, min +∞, mean NaN, any false,
// all true), not uninitialised heap memory; non-empty reductions are untouched.
import { afterAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { availableBackends, currentBackend, useBackend } from "../../lib/backend-select";

let previous: string | null = null;
afterAll(async () => {
  if (previous) await useBackend(previous);
});

describe("wasm reductions over empty axes", async () => {
  const hasWasm = (await availableBackends()).includes("wasm");
  it.skipIf(!hasWasm)("fill the output with the reduction's identity, for every dtype and keepDims", async () => {
    previous = currentBackend() ?? null;
    await useBackend("wasm");
    const before = tf.memory().numTensors;
    const x = tf.zeros([2, 0, 3]);
    const xi = tf.ones([2, 0, 3], "int32");
    const xb = tf.zeros([2, 0, 3], "bool");
    const values = (t: tf.Tensor) => Array.from(t.dataSync() as ArrayLike<number>);
    const cases: [string, tf.Tensor, number[]][] = [
      ["sum", tf.sum(x, 1), Array(6).fill(0)],
      ["sum int32", tf.sum(xi, 1), Array(6).fill(0)],
      ["prod", tf.prod(x, 1), Array(6).fill(1)],
      ["max", tf.max(x, 1), Array(6).fill(-Infinity)],
      ["min", tf.min(x, 1, true), Array(6).fill(Infinity)],
      ["mean", tf.mean(x, 1), Array(6).fill(NaN)],
      ["any", tf.any(xb, 1), Array(6).fill(0)],
      ["all", tf.all(xb, 1), Array(6).fill(1)],
      ["sum of all", tf.tidy(() => tf.sum(tf.zeros([0]))), [0]],
      ["logSumExp", tf.logSumExp(x, 1), Array(6).fill(-Infinity)],
    ];
    for (const [name, t, want] of cases) expect(values(t), name).toEqual(want);
    expect(cases[4][1].shape).toEqual([2, 1, 3]);
    tf.dispose([x, xi, xb, ...cases.map((c) => c[1])]);
    expect(tf.memory().numTensors).toBe(before);
    expect(
      tf.tidy(() =>
        values(
          tf.sum(
            tf.tensor2d([
              [1, 2],
              [3, 4],
            ]),
            0,
          ),
        ),
      ),
    ).toEqual([4, 6]); // non-empty: the kernel's own result
  });
});
