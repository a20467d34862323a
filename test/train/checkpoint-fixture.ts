// The model and the seeded state that checkpoint-saver.ts saves and checkpoint-atomic.test.ts expects back: ~2.6 MB
// of weights and twice that of Adam moments, so a save takes long enough to be killed in every phase.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../../lib/nn/module";
import { adam, type AdamW } from "../../lib/train/optimizer";

const SHAPES: Record<string, number[]> = { a: [512, 1280], b: [1000] };

export class SaverModel extends Module {
  constructor() {
    super();
    for (const [name, shape] of Object.entries(SHAPES)) this.param(name, tf.zeros(shape));
  }
}

/** `n` float32 values of a xorshift32 stream seeded with `seed` (fast: the saver's loop time goes to saving). */
function values(seed: number, n: number, positive = false): Float32Array {
  const out = new Float32Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = positive ? x / 2 ** 32 : x / 2 ** 31 - 1;
  }
  return out;
}

/** Sets the model's weights to the values of (step, version) and returns an optimizer holding that state's moments. */
export function fillState(model: SaverModel, step: number, version: number): AdamW {
  const seed = 1000 * step + 10 * version;
  const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
  let k = 0;
  for (const [name, variable] of model.namedParameters()) {
    const shape = SHAPES[name];
    const n = shape.reduce((a, b) => a * b, 1);
    tf.tidy(() => variable.assign(tf.tensor(values(seed + k++, n), shape)));
    moments.set(variable.name, {
      m: tf.tensor(values(seed + k++, n), shape),
      v: tf.tensor(values(seed + k++, n, true), shape),
    });
  }
  const optimizer = adam({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  optimizer.setState({ iterations: step, accBeta1: 0.9 ** (step + 1), accBeta2: 0.999 ** (step + 1), moments });
  tf.dispose([...moments.values()].flatMap(({ m, v }) => [m, v]));
  return optimizer;
}
