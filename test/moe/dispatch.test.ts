// Dispatch → grouped expert matmul → combine: routing-plan counts under capacity (Switch/GShard priority), equality with
// the naive all-experts reference, gradients against float64 central differences (composite path on cpu and wasm, the
// fused kernels on native, which must really run), edge cases (all tokens to one expert, empty experts, T = 1), no leaks.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import {
  MoELayer,
  RoutedExperts,
  combine,
  dispatch,
  expertCapacity,
  expertChoicePlan,
  groupedMatMul,
  planCounts,
  tokenChoicePlan,
  type RoutingPlan,
} from "../../lib/moe";
import { Rng, randomNormal, seed } from "../../lib/random";
import { addonCalls } from "../native/kernel-parity";
import { OPS_BACKENDS, expectClose, numericGradient, randomValues } from "../ops/helpers";

describe("routing plan: capacity and priority", () => {
  it("Switch top-1: capacity ceil(T/E·CF), overflow dropped by position", () => {
    const plan = tokenChoicePlan(Int32Array.from([0, 0, 0, 1]), 4, 1, 2, expertCapacity(4, 2, 1, 1));
    expect(plan.capacity).toBe(2);
    expect(plan.dropped).toBe(1);
    expect(plan.offsets).toEqual([0, 2, 3]);
    expect(Array.from(plan.slotToken)).toEqual([0, 1, 3]); // token 2 is the third to expert 0: dropped
    expect(Array.from(plan.routed)).toEqual([3, 1]);
    expect(Array.from(plan.tokenStart)).toEqual([0, 1, 2, 2, 3]);
  });

  it("top-2: all first choices before any second choice (GShard/DeepSpeed priority)", () => {
    // indices [[0,1],[1,0],[0,2]], capacity 2: first choices t0→0, t1→1, t2→0 fill expert 0; t1's second choice (0) drops.
    const plan = tokenChoicePlan(Int32Array.from([0, 1, 1, 0, 0, 2]), 3, 2, 3, 2);
    expect(plan.dropped).toBe(1);
    expect(planCounts(plan)).toEqual([2, 2, 1]);
    expect(Array.from(plan.slotToken)).toEqual([0, 2, 1, 0, 2]);
    expect(Array.from(plan.slotPair)).toEqual([0, 4, 2, 1, 5]);
  });

  it("capacity formula: max(minCapacity, ceil(k·T/E·CF)); dropless keeps everything", () => {
    expect(expertCapacity(10, 4, 1, 1)).toBe(3);
    expect(expertCapacity(10, 4, 2, 1.25)).toBe(7);
    expect(expertCapacity(10, 4, 2, 1.25, 8)).toBe(8);
    const plan = tokenChoicePlan(Int32Array.from([3, 3, 3, 3]), 4, 1, 4, null);
    expect(planCounts(plan)).toEqual([0, 0, 0, 4]);
    expect(plan.dropped).toBe(0);
  });

  it("dropped-token counts fall as the capacity factor grows", () => {
    const rng = new Rng(5);
    const T = 200,
      E = 8,
      k = 2;
    const idx = new Int32Array(T * k);
    for (let t = 0; t < T; t++) {
      const a = Math.min(E - 1, Math.floor(rng.uniform() ** 2 * E)); // skewed toward expert 0
      idx[t * k] = a;
      idx[t * k + 1] = (a + 1 + rng.int(E - 1)) % E;
    }
    const drops = [1, 1.25, 1.5, 2, 8].map((cf) => tokenChoicePlan(idx, T, k, E, expertCapacity(T, E, k, cf)).dropped);
    for (let i = 1; i < drops.length; i++) expect(drops[i]).toBeLessThanOrEqual(drops[i - 1]);
    expect(drops[0]).toBeGreaterThan(0);
    expect(drops[drops.length - 1]).toBe(0);
  });

  it("expert choice: slot e·C + c; tokens may get several experts or none", () => {
    const plan = expertChoicePlan(Int32Array.from([0, 1, 0, 2]), 4, 2, 2);
    expect(Array.from(plan.tokenStart)).toEqual([0, 2, 3, 4, 4]);
    expect(Array.from(plan.tokenSlots)).toEqual([0, 2, 1, 3]);
  });

  it("names the argument on bad input", () => {
    expect(() => tokenChoicePlan(Int32Array.from([0, 5]), 2, 1, 4, null)).toThrow(
      /indices\[1\] must be an expert in \[0, 4\), got 5/,
    );
    expect(() => tokenChoicePlan(Int32Array.from([0]), 2, 1, 4, null)).toThrow(/indices must have 2·1 entries, got 1/);
    expect(() => tokenChoicePlan(Int32Array.from([0, 1]), 2, 1, 4, 0)).toThrow(
      /tokenChoicePlan: capacity must be a positive integer, got 0/,
    );
  });
});

// float64 reference of the routed experts for a fixed plan: y[t] = Σ_{slots s of t} w[s]·E_e(s)(x[t]).
interface Params {
  x: Float64Array;
  w: Float64Array;
  w1: Float64Array;
  w2: Float64Array;
  w3: Float64Array;
}
function reference(p: Params, plan: RoutingPlan, d: number, h: number): Float64Array {
  const y = new Float64Array(plan.nTokens * d);
  for (let e = 0; e < plan.nExperts; e++) {
    for (let s = plan.offsets[e]; s < plan.offsets[e + 1]; s++) {
      const t = plan.slotToken[s];
      const act = new Float64Array(h);
      for (let i = 0; i < h; i++) {
        let a = 0,
          b = 0;
        for (let j = 0; j < d; j++) {
          a += p.w1[(e * h + i) * d + j] * p.x[t * d + j];
          b += p.w3[(e * h + i) * d + j] * p.x[t * d + j];
        }
        act[i] = (a / (1 + Math.exp(-a))) * b;
      }
      for (let j = 0; j < d; j++) {
        let o = 0;
        for (let i = 0; i < h; i++) o += p.w2[(e * d + j) * h + i] * act[i];
        y[t * d + j] += p.w[s] * o;
      }
    }
  }
  return y;
}

const NAMES = ["x", "w", "w1", "w2", "w3"] as const;

/** Routed output and its gradients (loss Σ y·r) on the current backend. */
function tfjsGrads(p: Params, plan: RoutingPlan, d: number, h: number, r: Float64Array) {
  const E = plan.nExperts;
  const shapes = { x: [plan.nTokens, d], w: [plan.nSlots], w1: [E, h, d], w2: [E, d, h], w3: [E, h, d] };
  const ts = NAMES.map((n) => tf.tensor(Float32Array.from(p[n]), shapes[n]));
  const rT = tf.tensor2d(Float32Array.from(r), [plan.nTokens, d]);
  const f = (x: tf.Tensor, w: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor) => {
    const xs = dispatch(x as tf.Tensor2D, plan); // [M, d]
    const a = groupedMatMul(xs, w1 as tf.Tensor3D, plan.offsets);
    const b = groupedMatMul(xs, w3 as tf.Tensor3D, plan.offsets);
    const act = tf.mul(tf.mul(a, tf.sigmoid(a)), b) as tf.Tensor2D;
    return combine(groupedMatMul(act, w2 as tf.Tensor3D, plan.offsets), w as tf.Tensor1D, plan);
  };
  const before = tf.memory().numTensors;
  const { value, grads } = tf.tidy(() => {
    const y = f(ts[0], ts[1], ts[2], ts[3], ts[4]);
    const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(a[0], a[1], a[2], a[3], a[4]), rT)))(ts);
    return { value: Array.from(y.dataSync()), grads: g.map((t) => Array.from(t.dataSync())) };
  });
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([...ts, rT]);
  return { value, grads };
}

describe("dispatch + grouped matmul + combine", () => {
  const d = 3,
    h = 2,
    E = 3,
    T = 5;
  // Capacity 3: token 4 loses both choices (its first is the 4th for expert 0), tokens 1 and 3 their second; expert 2
  // is empty: the edge cases in one plan.
  const plan = tokenChoicePlan(Int32Array.from([0, 1, 1, 0, 0, 1, 0, 1, 0, 1]), T, 2, E, 3);
  const rng = new Rng(11);
  const p: Params = {
    x: randomValues(rng, T * d),
    w: randomValues(rng, plan.nSlots),
    w1: randomValues(rng, E * h * d),
    w2: randomValues(rng, E * d * h),
    w3: randomValues(rng, E * h * d),
  };
  const r = randomValues(rng, T * d);

  it("the plan holds the edge cases: a dropped token, an empty expert", () => {
    expect(plan.dropped).toBe(4);
    expect(planCounts(plan)).toEqual([3, 3, 0]);
    expect(plan.tokenStart[5] - plan.tokenStart[4]).toBe(0);
  });

  for (const backend of OPS_BACKENDS) {
    it(`${backend}: equals the float64 reference, gradients equal central differences`, async () => {
      await useBackend(backend);
      const run = () => tfjsGrads(p, plan, d, h, r);
      const calls = await addonCalls(["moeDispatch", "moeCombine", "moeSlotDot", "moeGroupedMatmul"], async () =>
        run(),
      );
      const expectFused = backend === "native";
      for (const [name, n] of Object.entries(calls)) expect(n > 0, `${name} ran on ${backend}`).toBe(expectFused);
      const { value, grads } = run();
      expectClose(value, reference(p, plan, d, h), 1e-5);
      const y4 = value.slice(4 * d, 5 * d);
      expect(y4).toEqual([0, 0, 0]); // the fully dropped token gets nothing from the routed experts
      NAMES.forEach((name, i) => {
        const numeric = numericGradient((v) => {
          const y = reference({ ...p, [name]: v }, plan, d, h);
          return y.reduce((a, yi, j) => a + yi * r[j], 0);
        }, p[name]);
        expectClose(grads[i], numeric, 1e-4);
      });
      expect(grads[2].slice(2 * h * d)).toEqual(new Array(h * d).fill(0)); // the empty expert gets zero gradient
    });
  }
});

describe("MoE layer: dispatch equals the naive all-experts reference", () => {
  const cases: [string, object][] = [
    ["top-2 softmax, dropless", { topK: 2 }],
    ["top-1 Switch, capacity 1.0 (drops)", { topK: 1, capacityFactor: 1 }],
    [
      "V3-style sigmoid, groups, capacity 1.25",
      { topK: 2, scoreFunc: "sigmoid", nGroups: 2, topkGroups: 1, routeScale: 2.5, capacityFactor: 1.25 },
    ],
    ["expert choice", { routing: "expert-choice", topK: 2 }],
  ];
  for (const backend of OPS_BACKENDS) {
    it(`${backend}: outputs and every parameter gradient agree`, async () => {
      await useBackend(backend);
      for (const [what, cfg] of cases) {
        seed(4);
        const a = new MoELayer(6, {
          nRouted: 4,
          nShared: 1,
          expertHidden: 3,
          balance: "switch",
          zLossCoef: 1e-3,
          ...cfg,
        });
        const b = new MoELayer(6, { ...a.config, impl: "naive" });
        b.loadStateDict(a.stateDict());
        const x = randomNormal([9, 6]) as tf.Tensor2D;
        const run = (layer: MoELayer) => {
          const { value, grads } = tf.variableGrads(() => {
            const out = layer.forward(x);
            const loss = tf.add(
              tf.sum(tf.mul(out.y, tf.range(0, out.y.size).reshape(out.y.shape).div(10))),
              out.auxLoss,
            ) as tf.Scalar;
            tf.dispose([out.y, out.auxLoss, out.load, out.indices]);
            return loss;
          }, layer.trainableVariables());
          const res = {
            loss: value.dataSync()[0],
            grads: layer.trainableVariables().map((v) => Array.from(grads[v.name].dataSync())),
          };
          tf.dispose([value, ...Object.values(grads)]);
          return res;
        };
        const ra = run(a),
          rb = run(b);
        expect(ra.loss, what).toBeCloseTo(rb.loss, 4);
        ra.grads.forEach((g, i) => expectClose(g, rb.grads[i], 1e-4));
        tf.dispose(x);
        a.dispose();
        b.dispose();
      }
    });
  }
});

describe("MoE layer edge cases", () => {
  it("all tokens to one expert, empty experts, T = 1, on the fused and composite paths", async () => {
    for (const backend of ["native", "cpu"] as const) {
      await useBackend(backend);
      seed(6);
      const layer = new MoELayer(4, { nRouted: 4, topK: 1, nShared: 0, expertHidden: 2 });
      layer.gate.weight.assign(
        tf
          .tensor2d([
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
          ])
          .add(tf.tensor2d([[0], [0], [5], [0]], [4, 1]).mul(tf.ones([4, 4]))),
      );
      const x = tf.abs(randomNormal([6, 4])).add(0.1) as tf.Tensor2D; // positive rows: expert 2 wins every token
      const out = layer.forward(x);
      expect(Array.from(out.load.dataSync())).toEqual([0, 0, 6, 0]);
      expect(Array.from(out.indices.dataSync())).toEqual([2, 2, 2, 2, 2, 2]);
      const naive = new MoELayer(4, { ...layer.config, impl: "naive" });
      naive.loadStateDict(layer.stateDict());
      const ref = naive.forward(x);
      expectClose(out.y.dataSync(), ref.y.dataSync(), 1e-5);
      const one = layer.forward(x.slice([0, 0], [1, 4]) as tf.Tensor2D); // T = 1
      expect(one.y.shape).toEqual([1, 4]);
      expectClose(one.y.dataSync(), out.y.dataSync().slice(0, 4), 1e-5);
      const capped = new MoELayer(4, { ...layer.config, capacityFactor: 1 });
      capped.loadStateDict(layer.stateDict());
      const c = capped.forward(x);
      expect(c.droppedFraction).toBeCloseTo(4 / 6, 12); // capacity ceil(6/4) = 2 of the 6 tokens kept
      expect(Array.from(c.y.dataSync().slice(8))).toEqual(new Array(16).fill(0)); // dropped tokens: zero routed output
      tf.dispose([x, out.y, out.auxLoss, out.load, out.indices, ref.y, ref.auxLoss, ref.load, ref.indices]);
      tf.dispose([one.y, one.auxLoss, one.load, one.indices, c.y, c.auxLoss, c.load, c.indices]);
      layer.dispose();
      naive.dispose();
      capped.dispose();
    }
  });

  it("RoutedExperts.applyAll runs every expert on every token", () => {
    seed(8);
    const ex = new RoutedExperts(3, 4, 2);
    const x = randomNormal([5, 4]) as tf.Tensor2D;
    const all = ex.applyAll(x);
    expect(all.shape).toEqual([3, 5, 4]);
    const plan = tokenChoicePlan(Int32Array.from([1, 1, 1, 1, 1]), 5, 1, 3, null);
    const one = ex.applySorted(x, plan.offsets);
    expectClose(one.dataSync(), all.slice([1, 0, 0], [1, 5, 4]).dataSync(), 1e-5);
    tf.dispose([x, all, one]);
    ex.dispose();
  });

  it("names the argument on bad input", () => {
    const plan = tokenChoicePlan(Int32Array.from([0, 1]), 2, 1, 2, null);
    expect(() => dispatch(tf.zeros([3, 4]) as tf.Tensor2D, plan)).toThrow(
      /moe.dispatch: x must have shape \[tokens=2, d\], got \[3, 4\] \(tokens is 3\)/,
    );
    expect(() => combine(tf.zeros([2, 4]) as tf.Tensor2D, tf.zeros([3]) as tf.Tensor1D, plan)).toThrow(
      /moe.combine: weights must have shape \[slots=2\]/,
    );
    expect(() => groupedMatMul(tf.zeros([2, 4]) as tf.Tensor2D, tf.zeros([2, 3, 4]) as tf.Tensor3D, [0, 3, 2])).toThrow(
      /moe.groupedMatMul: offsets must be 3 non-decreasing entries/,
    );
    const layer = new MoELayer(4, { nRouted: 2, topK: 1 });
    expect(() => layer.forward(tf.zeros([3, 5]) as tf.Tensor2D)).toThrow(
      /MoELayer.forward: x must have shape \[tokens, dim=4\], got \[3, 5\] \(dim is 5\)/,
    );
    expect(() => new MoELayer(4, { nRouted: 6, nGroups: 4 })).toThrow(
      /MoELayer: config.nGroups must divide the number of experts 6, got 4/,
    );
    layer.dispose();
  });
});
