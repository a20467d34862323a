// Seeded randomness for every experiment path: one global stream set by seed(n), from which tensors, shuffles
// and sub-streams draw. sfc32 generator (PractRand-clean, 128-bit state) seeded through splitmix32.
import * as tf from "@tensorflow/tfjs";

/** The seed used before any call to seed(). */
export const DEFAULT_SEED = 0;

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function checkSeed(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name}: expected a non-negative safe integer, got ${value}`);
  }
}

/** A seeded pseudo-random stream. Same seed, same numbers, on every platform. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    checkSeed("Rng(seed)", seed);
    // Fold the high bits in so seeds above 2^32 differ too.
    const init = splitmix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32));
    this.a = init();
    this.b = init();
    this.c = init();
    this.d = 1;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniform integer in [0, 2^32). */
  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  uniform(): number {
    return (this.uint32() * 2 ** 21 + (this.uint32() >>> 11)) / 2 ** 53;
  }

  /** A standard normal sample (Box–Muller, no cached spare so the stream position is simple). */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]: log is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`Rng.int(n): expected a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A seed for tfjs random ops (they take an integer seed) drawn from this stream. */
  tfSeed(): number {
    return this.uint32();
  }

  /** An independent child stream (e.g. one for data order, one for initialisation). */
  fork(): Rng {
    return new Rng(this.uint32() * 2 ** 21 + (this.uint32() >>> 11));
  }
}

let current = DEFAULT_SEED;
let stream = new Rng(DEFAULT_SEED);

/** Seeds every random source the library uses. Two runs with the same seed give bit-identical tensors. */
export function seed(n: number): void {
  checkSeed("seed(n)", n);
  current = n;
  stream = new Rng(n);
}

/** The seed given to the last seed() call. */
export function currentSeed(): number {
  return current;
}

/** The global seeded stream. */
export function rng(): Rng {
  return stream;
}

/**
 * The tensor type of a shape given as a literal: [] → tf.Scalar, [a] → tf.Tensor1D, [a, b] → tf.Tensor2D, … up to
 * rank 6; tf.Tensor for a shape whose length the compiler does not know (a number[] variable). So
 * `lab.randomNormal([10, 16])` is a Tensor2D that `layer.forward(x)` accepts without a cast.
 */
export type TensorOfShape<S extends readonly number[]> = number[] extends S
  ? tf.Tensor
  : S extends readonly []
    ? tf.Scalar
    : S extends readonly [number]
      ? tf.Tensor1D
      : S extends readonly [number, number]
        ? tf.Tensor2D
        : S extends readonly [number, number, number]
          ? tf.Tensor3D
          : S extends readonly [number, number, number, number]
            ? tf.Tensor4D
            : S extends readonly [number, number, number, number, number]
              ? tf.Tensor5D
              : S extends readonly [number, number, number, number, number, number]
                ? tf.Tensor<tf.Rank.R6>
                : tf.Tensor;

/** Normal samples [shape] from the global stream. */
export function randomNormal<const S extends readonly number[]>(shape: S, mean = 0, std = 1): TensorOfShape<S> {
  return tf.randomNormal([...shape], mean, std, "float32", stream.tfSeed()) as TensorOfShape<S>;
}

/** Uniform samples in [min, max) [shape] from the global stream. */
export function randomUniform<const S extends readonly number[]>(shape: S, min = 0, max = 1): TensorOfShape<S> {
  return tf.randomUniform([...shape], min, max, "float32", stream.tfSeed()) as TensorOfShape<S>;
}

/** Normal samples re-drawn beyond two standard deviations [shape] (weight initialisation). */
export function truncatedNormal<const S extends readonly number[]>(shape: S, mean = 0, std = 1): TensorOfShape<S> {
  return tf.truncatedNormal([...shape], mean, std, "float32", stream.tfSeed()) as TensorOfShape<S>;
}
