// Fashion-MNIST loader (IDX parsing, sha256 check, the shipped test split), batches, and the MLP classifier's
// training loop (loss falls, tensors stay flat, same seed → same losses).
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { MlpClassifier, evaluateClassifier, trainClassifier } from "../../lib/experiments/classifier";
import { imageBatch, loadFashionMnist, parseIdx, sliceImages } from "../../lib/data/fashion-mnist";
import { seed } from "../../lib/random";

describe("Fashion-MNIST", () => {
  const test = loadFashionMnist("test");

  it("parses the shipped test split: 10,000 28×28 images, 1,000 per class", () => {
    expect([test.count, test.rows, test.cols, test.images.length]).toEqual([10000, 28, 28, 10000 * 784]);
    const counts = new Array(10).fill(0);
    test.labels.forEach((l) => counts[l]++);
    expect(counts).toEqual(new Array(10).fill(1000));
  });

  it("parseIdx reads the header and rejects other files", () => {
    const buf = Buffer.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    expect(parseIdx(buf)).toEqual({ dims: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    expect(() => parseIdx(Buffer.from([0, 0, 9, 1]))).toThrow(/not an IDX file of unsigned bytes/);
    expect(() => parseIdx(Buffer.from([0, 0, 8, 1, 0, 0, 0, 5, 1]))).toThrow(/header says 5 values, file holds 1/);
  });

  it("batches are [B, 1024] pixels/255 centred in a zero border, with int32 class labels", () => {
    const { x, y } = imageBatch(test, [0, 9999]);
    expect(x.shape).toEqual([2, 1024]);
    const px = x.dataSync();
    expect(px[0]).toBe(0); // border
    expect(px[2 * 32 + 2 + 14]).toBeCloseTo(test.images[14] / 255, 7); // row 0, column 14 of image 0
    expect(Array.from(y.dataSync())).toEqual([test.labels[0], test.labels[9999]]);
    expect(() => imageBatch(test, [10000])).toThrow(/index 10000 outside \[0, 10000\)/);
    expect(() => loadFashionMnist("val" as never)).toThrow(/split must be "train" or "test"/);
    tf.dispose([x, y]);
  });

  it("the classifier learns, deterministically, without leaking tensors", () => {
    const set = sliceImages(test, 0, 1000);
    const run = () => {
      seed(1);
      const model = new MlpClassifier({ hidden: [16] });
      const losses = trainClassifier(model, set, { steps: 25, batchSize: 32, learningRate: 1e-2, seed: 2 });
      return { model, losses };
    };
    const a = run();
    const before = tf.memory().numTensors;
    const b = run();
    b.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(b.losses).toEqual(a.losses);
    expect(a.losses.slice(-5).reduce((s, v) => s + v) / 5).toBeLessThan(0.7 * a.losses[0]);
    const { accuracy } = evaluateClassifier(a.model, sliceImages(test, 2000, 3000));
    expect(accuracy).toBeGreaterThan(0.3); // chance is 0.1
    a.model.dispose();
  });
});
