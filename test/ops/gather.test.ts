import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import "../../lib/ops";
import { Rng } from "../../lib/random";
import { expectClose, expectNoLeak, gradientOf, numericGradient, OPS_BACKENDS, randomValues } from "./helpers";

describe.each(OPS_BACKENDS)("gather gradient on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("embedding lookup with repeated ids matches float64 central differences", () => {
    const rng = new Rng(11);
    const [vocab, dim] = [5, 3];
    const ids = [4, 0, 4, 2, 4, 1];
    const table = randomValues(rng, vocab * dim);
    const ws = randomValues(rng, ids.length * dim);
    const reference = (t: Float64Array) =>
      ids.reduce((s, id, i) => s + [0, 1, 2].reduce((a, d) => a + t[id * dim + d] * ws[i * dim + d], 0), 0);
    const x = tf.tensor2d(Float32Array.from(table), [vocab, dim]);
    const w = tf.tensor2d(Float32Array.from(ws), [ids.length, dim]);
    const idx = tf.tensor1d(ids, "int32");
    expectClose(
      gradientOf((t) => tf.gather(t, idx).mul(w).sum(), x),
      numericGradient(reference, table),
      1e-5,
    );
    tf.dispose([x, w, idx]);
  });

  it("router: gathering unbiased scores at the top-k of biased scores (batchDims 1) differentiates", () => {
    // DeepSeek-V3 gate: idx = topk(s + b, k); w = s[idx]. The indices depend on s, so tfjs's own GatherV2 gradient
    // (which returns the int32 indices as their gradient) made backprop throw.
    const rng = new Rng(12);
    const [tokens, experts, k] = [3, 6, 2];
    const s = Float64Array.from(
      Float32Array.from({ length: tokens * experts }, (_, i) => (i % experts) * 0.7 - 2 + 0.2 * rng.uniform()),
    );
    const bias = Float32Array.from({ length: experts }, (_, e) => (e % 2 === 0 ? 2.5 : 0));
    const ws = randomValues(rng, tokens * k);
    const reference = (v: Float64Array) => {
      let total = 0;
      for (let t = 0; t < tokens; t++) {
        const order = Array.from({ length: experts }, (_, e) => e).sort(
          (a, b) => v[t * experts + b] + bias[b] - (v[t * experts + a] + bias[a]),
        );
        for (let j = 0; j < k; j++) total += ws[t * k + j] * v[t * experts + order[j]];
      }
      return total;
    };
    const x = tf.tensor2d(Float32Array.from(s), [tokens, experts]);
    const b = tf.tensor1d(bias);
    const w = tf.tensor2d(Float32Array.from(ws), [tokens, k]);
    const gate = (v: tf.Tensor) =>
      tf
        .gather(v, tf.topk(v.add(b), k).indices, 1, 1)
        .mul(w)
        .sum();
    expectClose(gradientOf(gate, x), numericGradient(reference, s), 1e-5);
    tf.dispose([x, b, w]);
  });
});

describe("UnsortedSegmentSum on wasm (registered by lib/ops)", () => {
  beforeAll(async () => {
    await useBackend("wasm");
  });

  it("matches hand-computed sums (negative ids dropped) on float32 and int32, with an id prefix of rank 2", () => {
    const cases: [tf.Tensor, tf.Tensor, number][] = [
      [
        tf.tensor2d([
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ]),
        tf.tensor1d([2, 0, 2, -1], "int32"),
        4,
      ],
      [
        tf.tensor3d(
          [
            [[1], [2]],
            [[3], [4]],
          ],
          undefined,
          "int32",
        ),
        tf.tensor2d(
          [
            [1, 1],
            [0, 1],
          ],
          undefined,
          "int32",
        ),
        2,
      ],
      [tf.zeros([0, 3]), tf.zeros([0], "int32"), 2],
    ];
    for (const [x, ids, n] of cases) {
      const got = expectNoLeak(() => tf.tidy(() => tf.unsortedSegmentSum(x, ids, n).arraySync()));
      const expected = [
        [
          [3, 4],
          [0, 0],
          [6, 8],
          [0, 0],
        ],
        [[3], [7]],
        [
          [0, 0, 0],
          [0, 0, 0],
        ],
      ][cases.findIndex((c) => c[0] === x)];
      expect(got).toEqual(expected);
      tf.dispose([x, ids]);
    }
  });

  it("names an id that is not below numSegments", () => {
    const [x, ids] = [tf.ones([2, 2]), tf.tensor1d([0, 3], "int32")];
    expect(() => tf.unsortedSegmentSum(x, ids, 3)).toThrow(/id 3 at 1 is not below numSegments 3/);
    tf.dispose([x, ids]);
  });
});
