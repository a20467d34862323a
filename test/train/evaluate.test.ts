// The eval loop and the JSONL metrics log: hand-computed means, tensors freed, non-finite numbers kept readable.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { evaluateLoss, evaluateSets } from "../../lib/train/evaluate";
import { MetricsLog, readMetrics } from "../../lib/train/metrics-log";

type B = { x: tf.Tensor1D };
const set = (values: number[][]) => ({
  count: values.length,
  batch: (i: number): B => ({ x: tf.tensor1d(values[i]) }),
});

describe("evaluateLoss", () => {
  it("averages the per-batch losses and frees every batch and loss tensor", () => {
    const before = tf.memory().numTensors;
    const mean = (b: B) => tf.mean(b.x) as tf.Scalar;
    expect(
      evaluateLoss(
        mean,
        set([
          [1, 3],
          [10, 20],
          [0, 0],
        ]),
      ),
    ).toBeCloseTo((2 + 15 + 0) / 3, 6);
    const withMetrics = (b: B) => ({
      loss: tf.max(b.x) as tf.Scalar,
      metrics: { n: tf.scalar(1) },
      aux: { x: tf.ones([2]) },
    });
    expect(
      evaluateSets(withMetrics, {
        a: set([[1, 5]]),
        b: set([
          [-1, -2],
          [3, 0],
        ]),
      }),
    ).toEqual({ a: 5, b: 1 });
    expect(tf.memory().numTensors).toBe(before);
  });
  it("rejects an empty set", () => {
    expect(() => evaluateLoss((b: B) => tf.mean(b.x) as tf.Scalar, set([]))).toThrow(
      "evaluateLoss(loss, set): set.count must be an integer ≥ 1, got 0",
    );
  });
});

describe("MetricsLog", () => {
  it("appends JSON lines, writes non-finite numbers as strings, and empties or appends on open", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "moelab-log-"));
    const file = path.join(dir, "sub", "m.jsonl");
    const log = new MetricsLog(file);
    log.append({ step: 0, loss: 2.5 });
    log.append({ step: 1, loss: NaN, note: "diverged" });
    expect(readFileSync(file, "utf8")).toBe('{"step":0,"loss":2.5}\n{"step":1,"loss":"NaN","note":"diverged"}\n');
    new MetricsLog(file, true).append({ step: 2, loss: 1 });
    expect(readMetrics(file).map((r) => r.step)).toEqual([0, 1, 2]);
    new MetricsLog(file);
    expect(readMetrics(file)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
