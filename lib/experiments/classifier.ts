// A small MLP image classifier (ReLU hidden layers, a linear head) to quantize and to train in FP8: hidden layers are
// Fp8Linear (plain fp32 when the recipe is null), the head stays fp32 as DeepSeek-V3 keeps its output head in higher
// precision. With a seeded training loop (Adam, softmax cross-entropy) and an evaluation pass.
// Reference: the Fashion-MNIST benchmark's MLPClassifier baselines (github.com/zalandoresearch/fashion-mnist).
import * as tf from "@tensorflow/tfjs";
import { throwIfCancelled } from "../cancel";
import { checkPositiveInt, withDefaults } from "../check";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import { softmaxCrossEntropy } from "../ops/cross-entropy";
import { ImageSet, imageBatch } from "../data/fashion-mnist";
import { Fp8Linear, Fp8Recipe } from "../quant/fp8-training";
import { Rng } from "../random";
import { adam } from "../train/optimizer";
import { DEFAULT_STEP, optimizerStep } from "../train/step";

/** Classifier shape and precision. */
export interface ClassifierConfig {
  /** Input features (1024 = a 32×32 image). */
  inputs: number;
  /** Widths of the hidden layers. */
  hidden: number[];
  /** Output classes. */
  classes: number;
  /** FP8 recipe of the hidden layers; null = fp32. */
  recipe: Fp8Recipe | null;
}

export const DEFAULT_CLASSIFIER: Readonly<ClassifierConfig> = Object.freeze({
  inputs: 1024,
  hidden: [256, 256],
  classes: 10,
  recipe: null,
});

export class MlpClassifier extends Module {
  readonly config: ClassifierConfig;
  readonly layers: Fp8Linear[];
  readonly head: Linear;

  constructor(config: Partial<ClassifierConfig> = {}) {
    super();
    const cfg = withDefaults("MlpClassifier(config)", DEFAULT_CLASSIFIER, config);
    for (const [k, v] of [
      ["inputs", cfg.inputs],
      ["classes", cfg.classes],
      ...cfg.hidden.map((h, i) => [`hidden[${i}]`, h] as const),
    ] as const) {
      checkPositiveInt("MlpClassifier", k, v);
    }
    this.config = cfg;
    const widths = [cfg.inputs, ...cfg.hidden];
    this.layers = cfg.hidden.map((h, i) =>
      this.child(`fc${i}`, new Fp8Linear(widths[i], h, cfg.recipe, { bias: true })),
    );
    this.head = this.child("head", new Linear(widths[widths.length - 1], cfg.classes, { bias: true }));
  }

  /** x [B, inputs] → logits [B, classes]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor = x; // [B, inputs]
      for (const layer of this.layers) h = tf.relu(layer.apply(h)); // [B, hidden]
      return this.head.apply(h) as tf.Tensor2D; // [B, classes]
    });
  }
}

/** Training settings. */
export interface TrainClassifierConfig {
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Seed of the batch order (the same seed gives the same batches to every model). */
  seed: number;
  /** Called after each step with the step and its loss. */
  onStep: ((step: number, loss: number) => void) | null;
}

export const DEFAULT_TRAIN_CLASSIFIER: Readonly<TrainClassifierConfig> = Object.freeze({
  steps: 500,
  batchSize: 128,
  learningRate: 1e-3,
  seed: 0,
  onStep: null,
});

/** Trains `model` on `set` with Adam (lab.train's step, no clipping); returns the loss of every step. */
export function trainClassifier(
  model: MlpClassifier,
  set: ImageSet,
  config: Partial<TrainClassifierConfig> = {},
): number[] {
  const cfg = withDefaults("trainClassifier(model, set, config)", DEFAULT_TRAIN_CLASSIFIER, config);
  checkPositiveInt("trainClassifier", "batchSize", cfg.batchSize);
  const rng = new Rng(cfg.seed);
  const order = rng.shuffle(Array.from({ length: set.count }, (_, i) => i));
  const optimizer = adam({ learningRate: cfg.learningRate });
  const vars = model.trainableVariables();
  const losses: number[] = [];
  const step = { ...DEFAULT_STEP, clipNorm: null };
  let cursor = 0;
  try {
    for (let s = 0; s < cfg.steps; s++) {
      throwIfCancelled(`trainClassifier, after ${s} of ${cfg.steps} steps`); // between steps; finally frees the optimizer
      if (cursor + cfg.batchSize > order.length) {
        rng.shuffle(order);
        cursor = 0;
      }
      const { x, y } = imageBatch(set, order.slice(cursor, cursor + cfg.batchSize));
      cursor += cfg.batchSize;
      try {
        losses.push(optimizerStep(optimizer, vars, () => softmaxCrossEntropy(model.apply(x), y), step).loss);
      } finally {
        tf.dispose([x, y]);
      }
      cfg.onStep?.(s, losses[s]);
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}

/** Accuracy and mean loss of `predict` (default: the model) over the whole set. */
export function evaluateClassifier(
  model: MlpClassifier,
  set: ImageSet,
  batchSize = 1000,
  predict: (x: tf.Tensor2D) => tf.Tensor2D = (x) => model.apply(x),
): { accuracy: number; loss: number } {
  let correct = 0;
  let lossSum = 0;
  for (let begin = 0; begin < set.count; begin += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, set.count - begin) }, (_, i) => begin + i);
    const { x, y } = imageBatch(set, idx);
    const [hits, loss] = tf.tidy(() => {
      const logits = predict(x);
      const hit = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), "float32"));
      return [hit.dataSync()[0], softmaxCrossEntropy(logits, y).dataSync()[0]];
    });
    correct += hits;
    lossSum += loss * idx.length;
    tf.dispose([x, y]);
  }
  return { accuracy: correct / set.count, loss: lossSum / set.count };
}
