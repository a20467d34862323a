// The lab's one optimizer, AdamW (Adam = no weight decay), with a fused native update: on the native backend each
// float32 parameter takes one pass of the addon's adamStep (native/src/adam.cc) instead of ~10 elementwise kernels;
// elsewhere the same update runs as tf ops.
// The arithmetic (float32 rounding at every step, the accumulated beta powers, epsilon added after the square root) is
// that of tf.train.adam, so both give the same parameters. AdamW decays each parameter by (1 − lr·λ) before the Adam
// step (torch.optim.AdamW's order). Reference: tfjs-core optimizers/adam_optimizer.js; Kingma & Ba, "Adam" (2015),
// Algorithm 1; Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019), Algorithm 2.
import * as tf from "@tensorflow/tfjs";
import { withDefaults } from "../check";
import type { NativeBackend } from "../native/native-backend";

/**
 * The optimizer's one config: AdamW's hyper-parameters. Adam is the same optimizer with weightDecay 0. Resolved and
 * checked once by adamwConfig; every loop (fit, the RL trainers, the experiment harnesses, the benchmarks) takes it.
 */
export interface AdamWConfig {
  /** Step size (a loop with a schedule sets it before each step). Default 1e-3. */
  learningRate: number;
  /** Decay rate of the first-moment (mean) estimate. Default 0.9. */
  beta1: number;
  /** Decay rate of the second-moment (uncentred variance) estimate. Default 0.999. */
  beta2: number;
  /** Added to the root of the second moment; null takes the backend's epsilon, as tf.train.adam does. Default 1e-8. */
  epsilon: number | null;
  /** Decoupled weight decay λ: each step multiplies a decayed parameter by (1 − lr·λ) before the Adam update. Default 0.01. */
  weightDecay: number;
  /** Decay only parameters of at least this rank (2: matrices and embeddings, not biases or norm gains). Default 0 (all). */
  decayMinRank: number;
}

/** torch.optim.AdamW's defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter). */
export const DEFAULT_ADAMW: Readonly<AdamWConfig> = Object.freeze({
  learningRate: 0.001,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0.01,
  decayMinRank: 0,
});

/** tf.train.adam's defaults as an AdamW config: no weight decay, the backend's epsilon. */
export const DEFAULT_ADAM: Readonly<AdamWConfig> = Object.freeze({ ...DEFAULT_ADAMW, epsilon: null, weightDecay: 0 });

/** Merges `config` over `defaults` and checks every field; errors name the caller `fn` and the field. */
export function adamwConfig(
  config: Partial<AdamWConfig> = {},
  defaults: Readonly<AdamWConfig> = DEFAULT_ADAMW,
  fn = "adamw(config)",
): AdamWConfig {
  const c: AdamWConfig = withDefaults(fn, defaults, config);
  if (!(Number.isFinite(c.learningRate) && c.learningRate >= 0))
    throw new Error(`${fn}.learningRate must be a finite number ≥ 0, got ${c.learningRate}`);
  if (!(c.beta1 >= 0 && c.beta1 < 1)) throw new Error(`${fn}.beta1 must be in [0, 1), got ${c.beta1}`);
  if (!(c.beta2 >= 0 && c.beta2 < 1)) throw new Error(`${fn}.beta2 must be in [0, 1), got ${c.beta2}`);
  if (c.epsilon !== null && !(c.epsilon > 0 && Number.isFinite(c.epsilon)))
    throw new Error(`${fn}.epsilon must be a finite number > 0 or null, got ${c.epsilon}`);
  if (!(Number.isFinite(c.weightDecay) && c.weightDecay >= 0))
    throw new Error(`${fn}.weightDecay must be a finite number ≥ 0, got ${c.weightDecay}`);
  if (!(Number.isSafeInteger(c.decayMinRank) && c.decayMinRank >= 0))
    throw new Error(`${fn}.decayMinRank must be an integer ≥ 0, got ${c.decayMinRank}`);
  return c;
}

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

/**
 * AdamW, the lab's optimizer: on the native backend each float32 parameter takes one pass of the addon's adamStep
 * (native/src/adam.cc); elsewhere the same update runs as tf ops. With weightDecay 0 it is tf.train.adam.
 */
export class AdamW extends tf.Optimizer {
  /** Serialization name. */
  static get className(): string {
    return "AdamW";
  }

  readonly beta1: number;
  readonly beta2: number;
  /** The epsilon in use (the backend's when the config says null). */
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly decayMinRank: number;
  /** Step size of the next step (a schedule may change it between steps). */
  learningRate: number;
  /** β1^t and β2^t as float32, t = the step about to be taken (tfjs keeps them in float32 scalar variables). */
  private accBeta1: number;
  private accBeta2: number;
  private readonly moments = new Map<string, Moments>();
  private readonly undecayed = new Set<string>();

  /** `config` merged over `defaults` (DEFAULT_ADAMW; DEFAULT_ADAM for Adam) and checked; errors name `fn`. */
  constructor(
    config: Partial<AdamWConfig> = {},
    defaults: Readonly<AdamWConfig> = DEFAULT_ADAMW,
    fn = "AdamW(config)",
  ) {
    super();
    const c = adamwConfig(config, defaults, fn);
    this.learningRate = c.learningRate;
    this.beta1 = c.beta1;
    this.beta2 = c.beta2;
    this.epsilon = c.epsilon ?? tf.backend().epsilon();
    this.weightDecay = c.weightDecay;
    this.decayMinRank = c.decayMinRank;
    this.accBeta1 = f32(c.beta1);
    this.accBeta2 = f32(c.beta2);
  }

  /** Leaves the named variables (tf.Variable.name) out of weight decay, beside those below decayMinRank. */
  excludeFromDecay(names: Iterable<string>): void {
    for (const name of names) this.undecayed.add(name);
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
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
        if (!value) throw new Error(`AdamW.applyGradients: no variable named "${name}"`);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const moments = this.momentsOf(name, value);
        consts[8] = this.decayFactor(name, value);
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

  /** The multiplier applied to `value` before the Adam step: 1 − lr·λ, or 1 when it is not decayed. */
  private decayFactor(name: string, value: tf.Variable): number {
    if (this.weightDecay === 0 || value.rank < this.decayMinRank || this.undecayed.has(name)) return 1;
    return f32(1 - this.learningRate * this.weightDecay);
  }

  /** The current state; the moment tensors are the optimizer's own (read them, do not dispose them). */
  state(): AdamState {
    return {
      iterations: this.iterations,
      accBeta1: this.accBeta1,
      accBeta2: this.accBeta2,
      moments: new Map(this.moments),
    };
  }

  /** Replaces the state with copies of `state`'s tensors; the next step continues exactly where `state` left off. */
  setState(state: AdamState): void {
    const fn = "AdamW.setState(state)";
    if (!(Number.isSafeInteger(state.iterations) && state.iterations >= 0))
      throw new Error(`${fn}: iterations must be an integer ≥ 0, got ${state.iterations}`);
    for (const key of ["accBeta1", "accBeta2"] as const) {
      if (!(state[key] >= 0 && state[key] <= 1)) throw new Error(`${fn}: ${key} must be in [0, 1], got ${state[key]}`);
    }
    for (const [name, { m, v }] of state.moments) {
      if (!tf.util.arraysEqual(m.shape, v.shape))
        throw new Error(`${fn}: moments of "${name}" have shapes [${m.shape}] and [${v.shape}]`);
    }
    this.dispose();
    for (const [name, { m, v }] of state.moments)
      this.moments.set(name, { m: tf.variable(m, false), v: tf.variable(v, false) });
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
    const { learningRate, beta1, beta2, epsilon, weightDecay, decayMinRank } = this;
    return { learningRate, beta1, beta2, epsilon, weightDecay, decayMinRank };
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
    (backend.addon as unknown as AdamAddon).adamStep(
      values[0],
      values[1],
      values[2],
      values[3],
      paramOut,
      mOut,
      vOut,
      consts,
    );
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

/** AdamW (decoupled weight decay) over DEFAULT_ADAMW: fused on the native backend, tf ops elsewhere. */
export function adamw(config: Partial<AdamWConfig> = {}): AdamW {
  return new AdamW(config, DEFAULT_ADAMW, "adamw(config)");
}

/** Adam like tf.train.adam(learningRate, beta1, beta2, epsilon): AdamW over DEFAULT_ADAM (no weight decay). */
export function adam(config: Partial<AdamWConfig> = {}): AdamW {
  return new AdamW(config, DEFAULT_ADAM, "adam(config)");
}
