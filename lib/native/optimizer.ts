// Adam with a fused native update: on the native backend each float32 parameter takes one pass of the addon's
// adamStep (native/src/adam.cc) instead of ~10 elementwise kernels; elsewhere the same update runs as tf ops. The
// arithmetic (float32 rounding at every step, the accumulated beta powers, epsilon added after the square root) is
// that of tf.train.adam, so both give the same parameters. Reference: tfjs-core optimizers/adam_optimizer.js,
// Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015), Algorithm 1.
import * as tf from "@tensorflow/tfjs";
import type { NativeBackend } from "./backend";

/** Adam hyper-parameters (tf.train.adam's arguments). */
export interface NativeAdamConfig {
  /** Step size. */
  learningRate: number;
  /** Decay rate of the first-moment (mean) estimate. */
  beta1: number;
  /** Decay rate of the second-moment (uncentred variance) estimate. */
  beta2: number;
  /** Added to the root of the second moment; null takes the backend's epsilon, as tf.train.adam does. */
  epsilon: number | null;
}

/** tf.train.adam's defaults. */
export const DEFAULT_NATIVE_ADAM: Readonly<NativeAdamConfig> = Object.freeze({
  learningRate: 0.001,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: null,
});

/** The addon function the fused update calls. */
interface AdamAddon {
  /** Writes the new param, m and v; `consts` = [β1, 1−β1, β2, 1−β2, 1−β1^t, 1−β2^t, ε, −lr] as float32. */
  adamStep(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    paramOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    consts: Float32Array,
  ): void;
}

/** A parameter's moment estimates. */
interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

/** A tensor with a name (tfjs-core's NamedTensor, which the tfjs bundle does not re-export). */
type NamedTensor = { name: string; tensor: tf.Tensor };

const f32 = Math.fround;

/** tf.train.adam's optimizer with a fused native update on the native backend (float32 parameters). */
export class NativeAdamOptimizer extends tf.Optimizer {
  /** Serialization name. */
  static get className(): string {
    return "NativeAdam";
  }

  readonly epsilon: number;
  /** β1^t and β2^t as float32, t = the step about to be taken (tfjs keeps them in float32 scalar variables). */
  private accBeta1: number;
  private accBeta2: number;
  private readonly moments = new Map<string, Moments>();

  constructor(
    readonly learningRate: number,
    readonly beta1: number,
    readonly beta2: number,
    epsilon: number | null = null,
  ) {
    super();
    for (const [key, v] of [["learningRate", learningRate], ["beta1", beta1], ["beta2", beta2]] as const) {
      if (!Number.isFinite(v)) throw new TypeError(`NativeAdamOptimizer: ${key} must be a finite number, got ${v}`);
    }
    this.epsilon = epsilon ?? tf.backend().epsilon();
    this.accBeta1 = f32(beta1);
    this.accBeta2 = f32(beta2);
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const consts = Float32Array.of(
      this.beta1,
      1 - this.beta1,
      this.beta2,
      1 - this.beta2,
      f32(1 - this.accBeta1),
      f32(1 - this.accBeta2),
      this.epsilon,
      -this.learningRate,
    );
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        if (!value) throw new Error(`NativeAdamOptimizer.applyGradients: no variable named "${name}"`);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const moments = this.momentsOf(name, value);
        if (!this.fusedStep(value, gradient, moments, consts)) this.opsStep(value, gradient, moments, consts);
      });
    });
    this.accBeta1 = f32(this.accBeta1 * f32(this.beta1));
    this.accBeta2 = f32(this.accBeta2 * f32(this.beta2));
    this.incrementIterations();
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }

  async getWeights(): Promise<NamedTensor[]> {
    const entries = [...this.moments.entries()];
    return [
      await this.saveIterations(),
      ...entries.map(([name, { m }]) => ({ name: `${name}/m`, tensor: m })),
      ...entries.map(([name, { v }]) => ({ name: `${name}/v`, tensor: v })),
    ];
  }

  async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const weights = await this.extractIterations(weightValues);
    const t = this.iterations + 1;
    this.accBeta1 = f32(Math.pow(f32(this.beta1), t));
    this.accBeta2 = f32(Math.pow(f32(this.beta2), t));
    const count = weights.length / 2;
    this.dispose();
    for (let i = 0; i < count; i++) {
      const name = weights[i].name.replace(/\/m$/, "");
      this.moments.set(name, { m: weights[i].tensor.variable(false), v: weights[count + i].tensor.variable(false) });
    }
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  private momentsOf(name: string, value: tf.Variable): Moments {
    let moments = this.moments.get(name);
    if (!moments) {
      moments = tf.tidy(() => ({ m: tf.zerosLike(value).variable(false), v: tf.zerosLike(value).variable(false) }));
      this.moments.set(name, moments);
    }
    return moments;
  }

  /** The update in one native pass into fresh tensors; false when it does not apply (backend, dtype, shape). */
  private fusedStep(value: tf.Variable, gradient: tf.Tensor, { m, v }: Moments, consts: Float32Array): boolean {
    if (tf.getBackend() !== "native" || value.dtype !== "float32" || gradient.dtype !== "float32") return false;
    if (!tf.util.arraysEqual(value.shape, gradient.shape)) return false;
    const backend = tf.backend() as NativeBackend;
    const values = [value, gradient, m, v].map((t) => backend.data.get(t.dataId)?.values);
    if (!values.every((a): a is Float32Array => a instanceof Float32Array)) return false;
    const n = value.size;
    const [paramOut, mOut, vOut] = [0, 1, 2].map(() => backend.buffers.float32(n));
    (backend.addon as unknown as AdamAddon).adamStep(values[0], values[1], values[2], values[3], paramOut, mOut, vOut, consts);
    const tensor = (out: Float32Array) =>
      tf.engine().makeTensorFromTensorInfo(backend.makeTensorInfo(value.shape, "float32", out), backend);
    m.assign(tensor(mOut));
    v.assign(tensor(vOut));
    value.assign(tensor(paramOut));
    return true;
  }

  /** The update as tf ops, in tf.train.adam's order (any backend, any float dtype). */
  private opsStep(value: tf.Variable, gradient: tf.Tensor, { m, v }: Moments, consts: Float32Array): void {
    const [b1, , b2, , c1, c2] = consts;
    const newM = tf.add(tf.mul(m, b1), tf.mul(gradient, 1 - this.beta1));
    const newV = tf.add(tf.mul(v, b2), tf.mul(tf.square(gradient), 1 - this.beta2));
    const mHat = tf.div(newM, c1);
    const vHat = tf.div(newV, c2);
    m.assign(newM);
    v.assign(newV);
    value.assign(tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate), value));
  }
}

/** An Adam optimizer like tf.train.adam(learningRate, beta1, beta2, epsilon), fused on the native backend. */
export function adam(config: Partial<NativeAdamConfig> = {}): NativeAdamOptimizer {
  const { learningRate, beta1, beta2, epsilon } = { ...DEFAULT_NATIVE_ADAM, ...config };
  return new NativeAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
