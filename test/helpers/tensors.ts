// Test helpers shared by the model, adapter and serving tests: seeded random tokens and normals, and the directional
// finite-difference gradient check (central difference along a random direction against gradient · direction).
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
import { Rng } from "../../lib/random";

/** [B, T] int32 tokens drawn uniformly from [0, V). */
export function randomTokens(rng: Rng, B: number, T: number, V: number): tf.Tensor2D {
  return tf.tensor2d(
    Int32Array.from({ length: B * T }, () => rng.int(V)),
    [B, T],
    "int32",
  );
}

/** A tensor of standard normals of `shape`. */
export function randn(rng: Rng, shape: number[]): tf.Tensor {
  return tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );
}

/** Settings of expectDirectionalGradients. */
export interface GradientCheck {
  /** Step of the central difference, fixed or per parameter. Default 1e-2. */
  eps?: number | ((p: tf.Variable) => number);
  /** Each |analytic| must exceed this (a gradient that never arrives fails). Default 0: not checked. */
  minAnalytic?: number;
  /** Tolerance 2e-2 · max(floor, |numeric|). Default 1. */
  floor?: number;
  /** The name shown when a parameter fails. Default its variable name. */
  name?: (p: tf.Variable) => string;
}

/**
 * For each variable p of `params`, the analytic derivative of `objective` along a random direction u (Σ grad·u)
 * against the central difference (f(p + εu) − f(p − εu)) / 2ε, in float32. Returns how many had |analytic| > 1e-6.
 */
export function expectDirectionalGradients(
  objective: () => tf.Scalar,
  params: tf.Variable[],
  rng: Rng,
  check: GradientCheck = {},
): number {
  const { eps = 1e-2, minAnalytic = 0, floor = 1, name = (p: tf.Variable) => p.name } = check;
  const { grads } = tf.variableGrads(objective, params);
  let touched = 0;
  for (const p of params) {
    const step = typeof eps === "number" ? eps : eps(p);
    const u = randn(rng, p.shape);
    const analytic = tf.tidy(() => tf.sum(tf.mul(grads[p.name], u)).dataSync()[0]);
    const base = p.clone();
    const at = (s: number) => {
      tf.tidy(() => p.assign(tf.add(base, tf.mul(u, s))));
      return tf.tidy(() => objective().dataSync()[0]);
    };
    const numeric = (at(step) - at(-step)) / (2 * step);
    p.assign(base);
    if (Math.abs(analytic) > 1e-6) touched++;
    if (minAnalytic > 0) expect(Math.abs(analytic), name(p)).toBeGreaterThan(minAnalytic);
    expect(Math.abs(analytic - numeric), `${name(p)}: ${analytic} vs ${numeric}`).toBeLessThan(
      2e-2 * Math.max(floor, Math.abs(numeric)),
    );
    tf.dispose([u, base]);
  }
  tf.dispose(Object.values(grads));
  return touched;
}
