// Adam and AdamW with a fused native update: on the native backend each float32 parameter takes one pass of the
// addon's adamStep (native/src/adam.cc) instead of ~10 elementwise kernels; elsewhere the same update runs as tf ops.
// The arithmetic (float32 rounding at every step, the accumulated beta powers, epsilon added after the square root) is
// that of tf.train.adam, so both give the same parameters. AdamW decays each parameter by (1 − lr·λ) before the Adam
// step (torch.optim.AdamW's order). Reference: tfjs-core optimizers/adam_optimizer.js; Kingma & Ba, "Adam" (2015),
// Algorithm 1; Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019), Algorithm 2.
import * as tf from "@tensorflow/tfjs";
import type { NativeBackend } from "./backend";
import { withDefaults } from "../check";

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
  /** Writes the new param, m and v; `consts` = [β1, 1−β1, β2, 1−β2, 1−β1^t, 1−β2^t, ε, −lr, 1−lr·λ] as float32. */
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

/** Everything an Adam optimizer carries from step to step (what a checkpoint saves). */
export interface AdamState {
  /** Steps taken. */
  iterations: number;
  /** β1^t and β2^t as float32 for the next step t (the running products, not recomputed powers). */
  accBeta1: number;
  accBeta2: number;
  /** Moment estimates by variable name. */
  moments: ReadonlyMap<string, { m: tf.Tensor; v: tf.Tensor }>;
}

/** tf.train.adam's optimizer with a fused native update on the native backend (float32 parameters). */
export class NativeAdamOptimizer extends tf.Optimizer {
  /** Serialization name. */
  static get className(): string {
    return "NativeAdam";
  }

  readonly epsilon: number;
  /** Step size of the next step (a schedule may change it between steps). */
  learningRate: number;
  /** β1^t and β2^t as float32, t = the step about to be taken (tfjs keeps them in float32 scalar variables). */
  private accBeta1: number;
  private accBeta2: number;
  private readonly moments = new Map<string, Moments>();

  constructor(
    learningRate: number,
    readonly beta1: number,
    readonly beta2: number,
    epsilon: number | null = null,
  ) {
    super();
    for (const [key, v] of [["learningRate", learningRate], ["beta1", beta1], ["beta2", beta2]] as const) {
      if (!Number.isFinite(v)) throw new TypeError(`NativeAdamOptimizer: ${key} must be a finite number, got ${v}`);
    }
    this.learningRate = learningRate;
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
      1,
    );
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        if (!value) throw new Error(`NativeAdamOptimizer.applyGradients: no variable named "${name}"`);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const moments = this.momentsOf(name, value);
        consts[8] = this.decayFactor(name);
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

  /** The multiplier applied to variable `name` before the Adam step: 1 (no weight decay). */
  protected decayFactor(_name: string): number {
    return 1;
  }

  /** The current state; the moment tensors are the optimizer's own (read them, do not dispose them). */
  state(): AdamState {
    return { iterations: this.iterations, accBeta1: this.accBeta1, accBeta2: this.accBeta2, moments: new Map(this.moments) };
  }

  /** Replaces the state with copies of `state`'s tensors; the next step continues exactly where `state` left off. */
  setState(state: AdamState): void {
    const fn = "NativeAdamOptimizer.setState(state)";
    if (!(Number.isSafeInteger(state.iterations) && state.iterations >= 0)) throw new Error(`${fn}: iterations must be an integer ≥ 0, got ${state.iterations}`);
    for (const key of ["accBeta1", "accBeta2"] as const) {
      if (!(state[key] >= 0 && state[key] <= 1)) throw new Error(`${fn}: ${key} must be in [0, 1], got ${state[key]}`);
    }
    for (const [name, { m, v }] of state.moments) {
      if (!tf.util.arraysEqual(m.shape, v.shape)) throw new Error(`${fn}: moments of "${name}" have shapes [${m.shape}] and [${v.shape}]`);
    }
    this.dispose();
    for (const [name, { m, v }] of state.moments) this.moments.set(name, { m: tf.variable(m, false), v: tf.variable(v, false) });
    this.iterations_ = state.iterations;
    this.accBeta1 = f32(state.accBeta1);
    this.accBeta2 = f32(state.accBeta2);
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
    const [b1, , b2, , c1, c2, , , decay] = consts;
    const newM = tf.add(tf.mul(m, b1), tf.mul(gradient, 1 - this.beta1));
    const newV = tf.add(tf.mul(v, b2), tf.mul(tf.square(gradient), 1 - this.beta2));
    const mHat = tf.div(newM, c1);
    const vHat = tf.div(newV, c2);
    m.assign(newM);
    v.assign(newV);
    const update = tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate);
    value.assign(tf.add(update, decay === 1 ? value : tf.mul(value, decay)));
  }
}

/** An Adam optimizer like tf.train.adam(learningRate, beta1, beta2, epsilon), fused on the native backend. */
export function adam(config: Partial<NativeAdamConfig> = {}): NativeAdamOptimizer {
  const { learningRate, beta1, beta2, epsilon } = withDefaults("adam(config)", DEFAULT_NATIVE_ADAM, config);
  return new NativeAdamOptimizer(learningRate, beta1, beta2, epsilon);
}

/** AdamW hyper-parameters: Adam's plus the decoupled weight decay. */
export interface AdamWConfig extends NativeAdamConfig {
  /** Decoupled weight decay λ: each step multiplies a decayed parameter by (1 − lr·λ) before the Adam update. */
  weightDecay: number;
}

/** torch.optim.AdamW's defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01). */
export const DEFAULT_ADAMW: Readonly<AdamWConfig> = Object.freeze({
  learningRate: 0.001,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0.01,
});

/** Adam with decoupled weight decay (AdamW), fused on the native backend; some variables can be left undecayed. */
export class NativeAdamWOptimizer extends NativeAdamOptimizer {
  /** Serialization name. */
  static get className(): string {
    return "NativeAdamW";
  }

  private readonly undecayed = new Set<string>();

  constructor(learningRate: number, beta1: number, beta2: number, epsilon: number | null, readonly weightDecay: number) {
    super(learningRate, beta1, beta2, epsilon);
    if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
      throw new TypeError(`NativeAdamWOptimizer: weightDecay must be a finite number ≥ 0, got ${weightDecay}`);
    }
  }

  /** Leaves the named variables (tf.Variable.name) out of weight decay, as nanoGPT does for biases, norms and embeddings. */
  excludeFromDecay(names: Iterable<string>): void {
    for (const name of names) this.undecayed.add(name);
  }

  protected decayFactor(name: string): number {
    return this.undecayed.has(name) ? 1 : f32(1 - this.learningRate * this.weightDecay);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), weightDecay: this.weightDecay };
  }
}

/** An AdamW optimizer (decoupled weight decay), fused on the native backend, tf ops elsewhere. */
export function adamw(config: Partial<AdamWConfig> = {}): NativeAdamWOptimizer {
  const { learningRate, beta1, beta2, epsilon, weightDecay } = withDefaults("adamw(config)", DEFAULT_ADAMW, config);
  return new NativeAdamWOptimizer(learningRate, beta1, beta2, epsilon, weightDecay);
}
