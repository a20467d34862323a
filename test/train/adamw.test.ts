// AdamW (decoupled weight decay, torch.optim.AdamW's order): equals a float64 JS reference on cpu, wasm and native;
// the fused native kernel equals the tf-ops path bit for bit; excluded variables are not decayed; state() /
// setState() continue a run exactly.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { adamw, AdamW } from "../../lib/train/optimizer";

const START = [0.5, -1.25, 2, 0.01, -0.3, 1.7, 0.9];
const GRAD = (step: number) => START.map((_, i) => Math.sin(i + 1) * (step + 1) * 0.1);
const CFG = { learningRate: 0.05, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.2 };
const STEPS = 6;
let names = 0;

/** torch.optim.AdamW in float64: p *= 1 − lr·λ; m, v updates; p −= lr·m̂/(√v̂ + ε). */
function reference(decay: boolean): number[] {
  const p = [...START];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  for (let t = 1; t <= STEPS; t++) {
    const g = GRAD(t - 1);
    for (let i = 0; i < p.length; i++) {
      if (decay) p[i] *= 1 - CFG.learningRate * CFG.weightDecay;
      m[i] = CFG.beta1 * m[i] + (1 - CFG.beta1) * g[i];
      v[i] = CFG.beta2 * v[i] + (1 - CFG.beta2) * g[i] ** 2;
      const mh = m[i] / (1 - CFG.beta1 ** t);
      const vh = v[i] / (1 - CFG.beta2 ** t);
      p[i] -= (CFG.learningRate * mh) / (Math.sqrt(vh) + CFG.epsilon);
    }
  }
  return p;
}

/** Runs STEPS steps with fixed gradients; the second parameter (same start) is excluded from decay. */
function run(opt: AdamW, from = 0, to = STEPS, vars?: tf.Variable[]): tf.Variable[] {
  const ps = vars ?? [0, 1].map(() => tf.tidy(() => tf.variable(tf.tensor1d(START), true, `adamw_test_${names++}`)));
  if (!vars) opt.excludeFromDecay([ps[1].name]);
  for (let s = from; s < to; s++) {
    const g = tf.tensor1d(GRAD(s));
    opt.applyGradients(ps.map((p) => ({ name: p.name, tensor: g })));
    g.dispose();
  }
  return ps;
}

beforeAll(async () => {
  await useBackend("native");
});

describe("adamw", () => {
  for (const backend of ["cpu", "wasm", "native"] as const) {
    it(`matches torch AdamW's float64 arithmetic on ${backend} (1e-6), decayed and excluded`, async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const opt = adamw(CFG);
      const ps = run(opt);
      [true, false].forEach((decay, k) => {
        const got = ps[k].dataSync();
        reference(decay).forEach((e, i) =>
          expect(Math.abs(got[i] - e), `${backend} decay=${decay} [${i}]`).toBeLessThan(
            1e-6 * Math.max(1, Math.abs(e)),
          ),
        );
      });
      opt.dispose();
      tf.dispose(ps);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("the fused native update equals the tf-ops update on cpu bit for bit", async () => {
    const params = async (backend: "cpu" | "native") => {
      await useBackend(backend);
      const opt = adamw(CFG);
      const ps = run(opt);
      const out = ps.map((p) => Array.from(p.dataSync()));
      opt.dispose();
      tf.dispose(ps);
      return out;
    };
    expect(await params("native")).toEqual(await params("cpu"));
  });

  it("state() → setState() on a fresh optimizer continues the run exactly", async () => {
    await useBackend("native");
    const straight = adamw(CFG);
    const a = run(straight);
    const first = adamw(CFG);
    const b = run(first, 0, 2);
    const second = adamw(CFG);
    second.excludeFromDecay([b[1].name]);
    second.setState(first.state());
    first.dispose();
    run(second, 2, STEPS, b);
    expect(second.iterations).toBe(STEPS);
    expect(b.map((p) => Array.from(p.dataSync()))).toEqual(a.map((p) => Array.from(p.dataSync())));
    [straight, second].forEach((o) => o.dispose());
    tf.dispose([...a, ...b]);
  });

  it("reports weight decay in its config and rejects a negative one", () => {
    expect(adamw({ weightDecay: 0.1 }).getConfig()).toMatchObject({
      weightDecay: 0.1,
      epsilon: 1e-8,
      learningRate: 0.001,
    });
    expect(() => adamw({ weightDecay: -1 })).toThrow("adamw(config).weightDecay must be a finite number ≥ 0, got -1");
  });
});
