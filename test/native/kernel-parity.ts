// Shared helpers of the native kernel parity tests: run an op on a backend and read it back, compare native with cpu
// (NaN matches NaN, ±Inf exactly), and count addon calls to prove the native code ran rather than a cpu fallback.
import { expect } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "../../lib/native/addon";

/** A tensor read back: shape, dtype and values. */
export interface Result {
  shape: number[];
  dtype: string;
  values: number[];
}

/** Runs f on a backend inside tidy and reads its result back (inputs built inside f belong to that backend). */
export async function on(backend: "cpu" | "native", f: () => tf.Tensor): Promise<Result> {
  await tf.setBackend(backend);
  const t = tf.tidy(f);
  const result = { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) };
  t.dispose();
  return result;
}

/** Asserts equal shape and dtype and |a − e| ≤ atol + rtol·|e| per element (NaN matches NaN, ±Inf exactly). */
export function expectClose(actual: Result, expected: Result, what: string, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.shape, what).toEqual(expected.shape);
  expect(actual.dtype, what).toBe(expected.dtype);
  for (let i = 0; i < expected.values.length; i++) {
    const a = actual.values[i],
      e = expected.values[i];
    const close = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Number.isFinite(e) ? close : a === e;
    if (!ok) expect.fail(`${what}: element ${i} is ${a}, cpu gives ${e}`);
  }
}

/** Asserts f gives the same result on native as on cpu (exactly with rtol = atol = 0). */
export async function expectParity(f: () => tf.Tensor, what: string, rtol?: number, atol?: number): Promise<void> {
  expectClose(await on("native", f), await on("cpu", f), what, rtol, atol);
}

/** How many times `run` called each named addon function. */
export async function addonCalls(names: string[], run: () => Promise<unknown>): Promise<Record<string, number>> {
  const addon = nativeAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = names.map((name) => addon[name]);
  const calls: Record<string, number> = {};
  names.forEach((name, i) => {
    calls[name] = 0;
    addon[name] = (...args) => {
      calls[name]++;
      return originals[i](...args);
    };
  });
  try {
    await run();
  } finally {
    names.forEach((name, i) => (addon[name] = originals[i]));
  }
  return calls;
}

/** `n` float32 normal samples scaled by `scale`. */
export function normals(rng: { normal(): number }, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

export const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
