// The model and the seeded state that checkpoint-saver.ts saves and checkpoint-atomic.test.ts expects back: ~2.6 MB
// of weights and twice that of Adam moments, so a save takes long enough to be killed in every phase.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../../lib/nn/module";
import { NativeAdamOptimizer } from "../../lib/native/optimizer";

const SHAPES: Record<string, number[]> = { a: [512, 1280], b: [1000] };

export class SaverModel extends Module {
  constructor() {
    super();
    for (const [name, shape] of Object.entries(SHAPES)) this.param(name, tf.zeros(shape));
  }
}

/** Sets the model's weights to the values of (step, version) and returns an optimizer holding that state's moments. */
export function fillState(model: SaverModel, step: number, version: number): NativeAdamOptimizer {
  const seed = 1000 * step + 10 * version;
  const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
  let k = 0;
  for (const [name, variable] of model.namedParameters()) {
    const shape = SHAPES[name];
    tf.tidy(() => variable.assign(tf.randomNormal(shape, 0, 1, "float32", seed + k++)));
    moments.set(variable.name, { m: tf.randomNormal(shape, 0, 1, "float32", seed + k++), v: tf.randomUniform(shape, 0, 1, "float32", seed + k++) });
  }
  const optimizer = new NativeAdamOptimizer(1e-3, 0.9, 0.999, 1e-8);
  optimizer.setState({ iterations: step, accBeta1: 0.9 ** (step + 1), accBeta2: 0.999 ** (step + 1), moments });
  tf.dispose([...moments.values()].flatMap(({ m, v }) => [m, v]));
  return optimizer;
}
