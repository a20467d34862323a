// Actor-critic for discrete actions: two separate tanh MLPs, a policy head (logits) and a value head, with
// cleanrl's orthogonal initialisation (gain √2 in hidden layers, 0.01 on the logits, 1 on the value; zero biases).
// Reference: cleanrl ppo.py `Agent` and `layer_init`.
import * as tf from "@tensorflow/tfjs";
import { Linear, Module } from "../nn";
import { checkPositiveInt, withDefaults } from "../check";
import { Rng, rng as globalRng } from "../random";
import { orthogonal } from "./orthogonal";

/** Network sizes and initial gains. */
export interface ActorCriticConfig {
  /** Widths of the hidden layers of each network. */
  hidden: number[];
  /** Orthogonal gain of the hidden layers. */
  hiddenGain: number;
  /** Orthogonal gain of the policy's output layer (small: near-uniform initial policy). */
  policyGain: number;
  /** Orthogonal gain of the value output layer. */
  valueGain: number;
}

export const DEFAULT_ACTOR_CRITIC: Readonly<ActorCriticConfig> = Object.freeze({
  hidden: [64, 64],
  hiddenGain: Math.SQRT2,
  policyGain: 0.01,
  valueGain: 1,
});

/** Linear layers with tanh between them (none after the last). */
export class TanhMlp extends Module {
  private readonly layers: Linear[];

  constructor(sizes: number[], gains: number[], rng: Rng) {
    super();
    this.layers = sizes.slice(1).map((out, k) => {
      const layer = this.child(`l${k}`, new Linear(sizes[k], out, { bias: true }));
      tf.tidy(() => layer.weight.assign(orthogonal(out, sizes[k], gains[k], rng)));
      return layer;
    });
  }

  /** x [B, in] → [B, out]; each layer is one fused matmul + bias (fewer kernels than Linear.apply on tiny batches). */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      this.layers.reduce<tf.Tensor>((h, layer, k) => {
        const a = (k === 0 ? h : tf.tanh(h)) as tf.Tensor2D; // [B, in_k]
        return tf.fused.matMul({ a, b: layer.weight as tf.Tensor2D, transposeB: true, bias: layer.bias! }); // [B, out_k]
      }, x),
    );
  }
}

/** What the policy chose for a batch of observations (rollout side, plain arrays). */
export interface ActSample {
  /** Sampled actions [B]. */
  actions: Int32Array;
  /** log π(a|s) of the sampled actions [B]. */
  logProbs: Float32Array;
  /** V(s) [B]. */
  values: Float32Array;
}

/** Log-probabilities, entropies and values of given actions (training side, tensors with gradients). */
export interface ActEvaluation {
  /** log π_θ(a|s) [B]. */
  logProb: tf.Tensor;
  /** Entropy of π_θ(·|s) [B]. */
  entropy: tf.Tensor;
  /** V_θ(s) [B]. */
  values: tf.Tensor;
}

/** cleanrl's Agent: a policy MLP (`actor`) and a value MLP (`critic`) over the same observation. */
export class ActorCritic extends Module {
  readonly actor: TanhMlp;
  readonly critic: TanhMlp;
  readonly config: Readonly<ActorCriticConfig>;

  constructor(
    readonly observationSize: number,
    readonly numActions: number,
    config: Partial<ActorCriticConfig> = {},
  ) {
    super();
    checkPositiveInt("ActorCritic", "observationSize", observationSize);
    checkPositiveInt("ActorCritic", "numActions", numActions);
    const cfg = withDefaults("ActorCritic(observationSize, numActions, config)", DEFAULT_ACTOR_CRITIC, config);
    cfg.hidden.forEach((h, k) => checkPositiveInt("ActorCritic", `config.hidden[${k}]`, h));
    this.config = Object.freeze({ ...cfg, hidden: [...cfg.hidden] });
    const gains = cfg.hidden.map(() => cfg.hiddenGain);
    const rng = globalRng();
    this.critic = this.child(
      "critic",
      new TanhMlp([observationSize, ...cfg.hidden, 1], [...gains, cfg.valueGain], rng),
    );
    this.actor = this.child(
      "actor",
      new TanhMlp([observationSize, ...cfg.hidden, numActions], [...gains, cfg.policyGain], rng),
    );
  }

  /** The policy's call (lab.nn.Module's convention): action log-probabilities [B, A]; forward() adds values. */
  apply(obs: tf.Tensor): tf.Tensor {
    const { logProbs, values } = this.forward(obs);
    values.dispose();
    return logProbs; // [B, A]
  }

  /** Log-probabilities of every action [B, A] and values [B] for observations [B, obs]. */
  forward(obs: tf.Tensor): { logProbs: tf.Tensor; values: tf.Tensor } {
    if (obs.rank !== 2 || obs.shape[1] !== this.observationSize) {
      throw new Error(`ActorCritic.forward(obs): expected shape [B, ${this.observationSize}], got [${obs.shape}]`);
    }
    return tf.tidy(() => ({
      logProbs: tf.logSoftmax(this.actor.apply(obs)), // [B, A]
      values: tf.reshape(this.critic.apply(obs), [-1]), // [B]
    }));
  }

  /** Samples one action per observation (obs: [B·obs] row-major) from π with `rng`; one read-back from the backend. */
  act(obs: Float32Array, rng: Rng): ActSample {
    const b = obs.length / this.observationSize;
    const a = this.numActions;
    const out = tf.tidy(() => {
      const { logProbs, values } = this.forward(tf.tensor2d(obs, [b, this.observationSize]));
      return tf.concat([logProbs, tf.expandDims(values, 1)], 1); // [B, A + 1]
    });
    const data = out.dataSync() as Float32Array;
    out.dispose();
    const actions = new Int32Array(b);
    const logProbs = new Float32Array(b);
    const values = new Float32Array(b);
    for (let i = 0; i < b; i++) {
      const row = i * (a + 1);
      const u = rng.uniform();
      let cum = 0;
      let choice = a - 1;
      for (let k = 0; k < a; k++) {
        cum += Math.exp(data[row + k]);
        if (u < cum) {
          choice = k;
          break;
        }
      }
      actions[i] = choice;
      logProbs[i] = data[row + choice];
      values[i] = data[row + a];
    }
    return { actions, logProbs, values };
  }

  /** V(s) for observations [B·obs] row-major. */
  value(obs: Float32Array): Float32Array {
    const b = obs.length / this.observationSize;
    const v = tf.tidy(() => tf.reshape(this.critic.apply(tf.tensor2d(obs, [b, this.observationSize])), [-1]));
    const data = v.dataSync() as Float32Array;
    v.dispose();
    return data;
  }

  /** log π_θ(a|s), entropy and V_θ(s) for observations [B, obs] and one-hot actions [B, A] (float). */
  evaluate(obs: tf.Tensor, actionsOneHot: tf.Tensor): ActEvaluation {
    return tf.tidy(() => {
      const { logProbs, values } = this.forward(obs);
      const logProb = tf.sum(tf.mul(logProbs, actionsOneHot), 1); // [B]
      const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logProbs), logProbs), 1)); // [B]
      return { logProb, entropy, values };
    });
  }
}
