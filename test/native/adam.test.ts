// The fused Adam optimizer (lib/train/optimizer.ts) gives the same parameters as tf.train.adam over 5 steps on the
// cpu, wasm and native backends (1e-6 relative), uses the native kernel on native, keeps tensor counts flat, and
// resumes from getWeights/setWeights as tf.train.adam does.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { adam } from "../../lib/train/optimizer";
import { Rng } from "../../lib/random";
import { addonCalls, normals, sizeOf } from "./kernel-parity";

const STEPS = 5;
const RTOL = 1e-6;
/** Parameters that end near 0 (updates cancelling) are compared absolutely: on native, tf.train.adam's update runs
 * through the native elementwise kernels, whose float32 roundings differ from the fused kernel's by an ulp or so. */
const ATOL = 1e-7;
/** Sizes not multiples of 16, a scalar, and one large enough for the threaded path (> 65536 elements). */
const SHAPES = [[7, 13], [1], [300, 257], [33]];

let nameCount = 0;

/** Parameters after STEPS steps of `optimizer` on a fixed smooth loss, from fixed starting values. */
function train(optimizer: tf.Optimizer, starts: Float32Array[]): Float32Array[] {
  const params = starts.map((s, i) =>
    tf.tidy(() => tf.variable(tf.tensor(s, SHAPES[i]), true, `adam_test_${nameCount++}`)),
  );
  const targets = starts.map((s, i) =>
    tf.tensor(
      s.map((v) => Math.cos(v)),
      SHAPES[i],
    ),
  );
  for (let step = 0; step < STEPS; step++) {
    optimizer.minimize(() => tf.addN(params.map((p, i) => tf.sum(tf.square(tf.sub(tf.sin(p), targets[i]))))));
  }
  const out = params.map((p) => p.dataSync().slice());
  tf.dispose([...params, ...targets]);
  return out;
}

function expectCloseArrays(actual: Float32Array[], expected: Float32Array[], what: string): void {
  actual.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) {
      const e = expected[k][i];
      if (!(Math.abs(a[i] - e) <= RTOL * Math.abs(e) + ATOL))
        expect.fail(`${what}: param ${k}[${i}] is ${a[i]}, tf.train.adam gives ${e}`);
    }
  });
}

beforeAll(async () => {
  await useBackend("native"); // throws (failing every test) when the addon is not built
});

describe("native adam", () => {
  const rng = new Rng(61);
  const starts = SHAPES.map((s) => normals(rng, sizeOf(s)));

  for (const backend of ["cpu", "wasm", "native"] as const) {
    it(`matches tf.train.adam over ${STEPS} steps on ${backend}, with no tensor left behind`, async () => {
      await useBackend(backend);
      const config = { learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6 };
      const reference = tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
      const expected = train(reference, starts);
      reference.dispose();
      const before = tf.memory().numTensors;
      const fused = adam(config);
      let actual: Float32Array[] = [];
      const calls = await addonCalls(["adamStep"], async () => (actual = train(fused, starts)));
      expect(calls.adamStep).toBe(backend === "native" ? STEPS * SHAPES.length : 0);
      expect(tf.memory().numTensors).toBe(before + 2 * SHAPES.length); // the moments only
      fused.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expectCloseArrays(actual, expected, backend);
    });
  }

  it("on native, equals tf.train.adam on cpu bit for bit given the same gradients (float32 roundings in tfjs's order)", async () => {
    const grads = SHAPES.map((s) => normals(rng, sizeOf(s), 0.3));
    const steps = async (backend: "cpu" | "native", make: () => tf.Optimizer): Promise<Float32Array[]> => {
      await useBackend(backend);
      const params = starts.map((s, i) =>
        tf.tidy(() => tf.variable(tf.tensor(s, SHAPES[i]), true, `adam_test_${nameCount++}`)),
      );
      const optimizer = make();
      for (let step = 0; step < STEPS; step++) {
        const named = params.map((p, i) => ({
          name: p.name,
          tensor: tf.tensor(
            grads[i].map((g) => g * (step + 1)),
            SHAPES[i],
          ),
        }));
        optimizer.applyGradients(named);
        tf.dispose(named.map((n) => n.tensor));
      }
      optimizer.dispose();
      const out = params.map((p) => p.dataSync().slice());
      tf.dispose(params);
      return out;
    };
    const expected = await steps("cpu", () => tf.train.adam(0.01, 0.9, 0.999, 1e-8));
    const actual = await steps("native", () => adam({ learningRate: 0.01, epsilon: 1e-8 }));
    actual.forEach((a, k) => expect(Array.from(a), `param ${k}`).toEqual(Array.from(expected[k])));
  });

  it("defaults to tf.train.adam's settings, backend epsilon included", async () => {
    await useBackend("native");
    expect(adam().getConfig()).toEqual({
      learningRate: 0.001,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: tf.backend().epsilon(),
      weightDecay: 0,
      decayMinRank: 0,
    });
    const reference = tf.train.adam();
    const fused = adam();
    expectCloseArrays(train(fused, starts), train(reference, starts), "defaults");
    tf.dispose([reference, fused]);
  });

  it("resumes from getWeights/setWeights exactly as tf.train.adam does", async () => {
    await useBackend("native");
    // tfjs's own resume recomputes β^t with pow (not the running product), so compare resumed with resumed
    const resumed = async (make: () => tf.Optimizer): Promise<Float32Array[]> => {
      const params = starts.map((s, i) =>
        tf.tidy(() => tf.variable(tf.tensor(s, SHAPES[i]), true, `adam_test_${nameCount++}`)),
      );
      const loss = () => tf.addN(params.map((p) => tf.sum(tf.square(tf.sin(p)))));
      let optimizer = make();
      for (let step = 0; step < STEPS; step++) {
        if (step === 2) {
          const next = make();
          const weights = await optimizer.getWeights();
          await next.setWeights(weights);
          weights[0].tensor.dispose(); // the iteration count: getWeights makes it, setWeights only reads it
          optimizer.dispose();
          optimizer = next;
        }
        optimizer.minimize(loss);
      }
      optimizer.dispose();
      const out = params.map((p) => p.dataSync().slice());
      tf.dispose(params);
      return out;
    };
    const before = tf.memory().numTensors;
    const actual = await resumed(() => adam({ learningRate: 0.05 }));
    expect(tf.memory().numTensors).toBe(before);
    expectCloseArrays(actual, await resumed(() => tf.train.adam(0.05)), "resumed");
  });
});
