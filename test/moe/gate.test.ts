// The routers against hand-computed worked examples: DeepSeek-V3's gate with groups and bias (−inf masking, where
// masking with 0 would pick other experts), group max scoring without bias, Mixtral = softmax over the top-k logits,
// Switch top-1, expert choice; and the argument errors.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { ROUTER_PRESETS, expertChoice, gate, moeConfig, expertCapacity } from "../../lib/moe";
import { expectClose, expectNoLeak } from "../ops/helpers";

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const softmax = (v: number[]) => {
  const m = Math.max(...v);
  const e = v.map((u) => Math.exp(u - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((u) => u / s);
};

/** Routes rows of logits directly: x = logits, weight = identity, so x·Wᵀ = logits. */
function route(logits: number[][], bias: number[] | null, config: Parameters<typeof gate>[3]) {
  const E = logits[0].length;
  return tf.tidy(() => {
    const g = gate(tf.tensor2d(logits), tf.eye(E) as tf.Tensor2D, bias ? tf.tensor1d(bias) : null, config);
    return { w: Array.from(g.weights.dataSync()), i: Array.from(g.indices.dataSync()), dtype: g.indices.dtype };
  });
}

describe("moe.gate (DeepSeek-V3 Gate)", () => {
  it("masks non-selected groups with −inf: biased scores below 0 still win inside the kept group", () => {
    // sigmoid scores s = [0.881, 0.731, 0.5, 0.269]; bias [−2, −2, −1, −1] → biased [−1.12, −1.27, −0.5, −0.73].
    // Group scores (sum of top-2 biased): g0 = −2.39, g1 = −1.23 → keep group 1 → experts {2, 3}.
    // Masking with 0 instead of −inf would rank the masked experts 0, 1 (score 0) above 2, 3 (negative).
    const logits = [[2, 1, 0, -1]];
    const bias = [-2, -2, -1, -1];
    const r = route(logits, bias, { topK: 2, scoreFunc: "sigmoid", nGroups: 2, topkGroups: 1, routeScale: 2.5 });
    expect(r.i).toEqual([2, 3]);
    expect(r.dtype).toBe("int32");
    // Weights from the unbiased scores, renormalised (sigmoid), × route_scale: 2.5·[0.5, 0.2689]/0.7689.
    const s2 = sigmoid(0),
      s3 = sigmoid(-1);
    expectClose(r.w, [(2.5 * s2) / (s2 + s3), (2.5 * s3) / (s2 + s3)], 1e-6);
    expectClose(r.w, [1.625612, 0.874388], 1e-6);
    // The 0-masking alternative really differs here: plain top-2 of [0, 0, −0.5, −0.73] is {0, 1}.
    expect(route([[0, 0, -0.5, -0.73]], null, { topK: 2 }).i.sort()).toEqual([0, 1]);
  });

  it("ranks groups by their max score without bias; softmax weights are not renormalised", () => {
    const logits = [[0, 3, 2, 2.5]];
    const p = softmax(logits[0]);
    const grouped = route(logits, null, { topK: 2, scoreFunc: "softmax", nGroups: 2, topkGroups: 1 });
    expect(grouped.i).toEqual([1, 0]); // group 0 (max 3) beats group 1 (max 2.5)
    expectClose(grouped.w, [p[1], p[0]], 1e-6);
    const flat = route(logits, null, { topK: 2 });
    expect(flat.i).toEqual([1, 3]);
    expectClose(flat.w, [p[1], p[3]], 1e-6);
  });

  it("the bias changes the selection but never the weights", () => {
    const logits = [[1, 0.5, 0, -0.5]];
    const r = route(logits, [0, 0, 2, 0], { topK: 2, scoreFunc: "sigmoid", routeScale: 1 });
    expect(r.i).toEqual([2, 0]);
    const s = [sigmoid(0), sigmoid(1)];
    expectClose(r.w, [s[0] / (s[0] + s[1]), s[1] / (s[0] + s[1])], 1e-6);
  });

  it("Mixtral = softmax over the selected logits; Switch = top-1 probability; V3 preset", () => {
    const logits = [
      [0.3, 2, -1, 1.5],
      [1, 1.2, 0.1, -2],
    ];
    const mix = route(logits, null, ROUTER_PRESETS.mixtral);
    expect(mix.i).toEqual([1, 3, 1, 0]);
    expectClose(mix.w, [...softmax([2, 1.5]), ...softmax([1.2, 1])], 1e-6);
    const sw = route(logits, null, ROUTER_PRESETS.switch);
    expect(sw.i).toEqual([1, 1]);
    expectClose(sw.w, [softmax(logits[0])[1], softmax(logits[1])[1]], 1e-6);
    expect(ROUTER_PRESETS.deepseekV3).toMatchObject({
      topK: 8,
      nGroups: 8,
      topkGroups: 4,
      routeScale: 2.5,
      scoreFunc: "sigmoid",
    });
  });

  it("is differentiable to x and the weight through the selected scores, and leaks nothing", () => {
    const x = tf.tensor2d([
      [0.2, -0.4, 1],
      [1, 0.3, -0.2],
    ]);
    const w = tf.tensor2d([
      [1, 0, 0.5],
      [0, 1, 0],
      [0.3, 0.3, 0.3],
      [-1, 0.2, 0],
    ]);
    const f = (xx: tf.Tensor, ww: tf.Tensor) =>
      tf.sum(
        tf.mul(
          gate(xx as tf.Tensor2D, ww as tf.Tensor2D, null, { topK: 2, scoreFunc: "sigmoid", nGroups: 2, topkGroups: 1 })
            .weights,
          tf.tensor2d([
            [1, 2],
            [3, 4],
          ]),
        ),
      );
    const [gx, gw] = expectNoLeak(() => {
      const g = tf.grads(f)([x, w]);
      const out = [Array.from(g[0].dataSync()), Array.from(g[1].dataSync())];
      tf.dispose(g);
      return out;
    });
    // Central differences in float32 (selection is locally constant here).
    const eps = 1e-2;
    const xv = Array.from(x.dataSync());
    for (let i = 0; i < xv.length; i++) {
      const at = (d: number) =>
        tf.tidy(
          () =>
            f(
              tf.tensor2d(
                xv.map((v, j) => (j === i ? v + d : v)),
                [2, 3],
              ),
              w,
            ).dataSync()[0],
        );
      expect(gx[i]).toBeCloseTo((at(eps) - at(-eps)) / (2 * eps), 3);
    }
    expect(gw.some((v) => v !== 0)).toBe(true);
    tf.dispose([x, w]);
  });

  it("names the argument on bad input", () => {
    const x = tf.zeros([3, 4]) as tf.Tensor2D;
    const w = tf.zeros([6, 4]) as tf.Tensor2D;
    expect(() => gate(tf.zeros([4]) as tf.Tensor2D, w, null)).toThrow(/moe.gate: x must have shape \[T, d\]/);
    expect(() => gate(x, tf.zeros([6, 5]) as tf.Tensor2D, null)).toThrow(
      /moe.gate: weight must have shape \[E, d=4\], got \[6, 5\] \(d is 5\)/,
    );
    expect(() => gate(x, w, tf.zeros([5]) as tf.Tensor1D)).toThrow(/moe.gate: bias must have shape \[E=6\]/);
    expect(() => gate(x, w, null, { topK: 7 })).toThrow(/config.topK must be at most the number of experts 6, got 7/);
    expect(() => gate(x, w, null, { nGroups: 4 })).toThrow(/config.nGroups must divide the number of experts 6, got 4/);
    expect(() => gate(x, w, null, { nGroups: 3, topkGroups: 4 })).toThrow(
      /config.topkGroups must be at most config.nGroups 3, got 4/,
    );
    expect(() => gate(x, w, null, { nGroups: 3, topkGroups: 1, topK: 3 })).toThrow(
      /config.topK must be at most config.topkGroups/,
    );
    expect(() => gate(x, w, tf.zeros([6]) as tf.Tensor1D, { nGroups: 6, topK: 1 })).toThrow(
      /config.nGroups must leave ≥ 2 experts per group/,
    );
    expect(() => gate(x, w, null, { routeScale: 0 })).toThrow(/config.routeScale must be a finite number > 0/);
    expect(() => moeConfig({ capacityFactor: 0 })).toThrow(
      /MoELayer: capacityFactor must be a finite number > 0, got 0/,
    );
    expect(() => moeConfig({ capacityFactor: -1 })).toThrow(/capacityFactor/);
    expect(() => expertCapacity(8, 4, 1, 0)).toThrow(/expertCapacity: capacityFactor must be a finite number > 0/);
    expect(() => moeConfig({ nRouted: 4, topK: 5 })).toThrow(
      /MoELayer: config.topK must be at most the number of experts 4, got 5/,
    );
    expect(() => expertChoice(x, w, 4)).toThrow(
      /moe.expertChoice: capacity must be at most the number of tokens 3, got 4/,
    );
    tf.dispose([x, w]);
  });
});

describe("moe.expertChoice", () => {
  it("each expert takes its top-capacity tokens by softmax score", () => {
    const logits = [
      [2, 0],
      [0, 2],
      [1, 0],
      [0, 0.5],
    ];
    const r = tf.tidy(() => {
      const ec = expertChoice(tf.tensor2d(logits), tf.eye(2) as tf.Tensor2D, 2);
      return { tokens: Array.from(ec.tokens.dataSync()), w: Array.from(ec.weights.dataSync()) };
    });
    const p = logits.map(softmax);
    expect(r.tokens).toEqual([0, 2, 1, 3]); // expert 0: tokens 0 (p .88), 2 (.73); expert 1: tokens 1, 3
    expectClose(r.w, [p[0][0], p[2][0], p[1][1], p[3][1]], 1e-6);
  });
});
