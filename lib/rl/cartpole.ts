// CartPole-v1, vectorised: a pole on a cart, push left (action 0) or right (1), reward 1 per step until the pole
// leans past 12° or the cart leaves ±2.4, truncated at 500 steps. Reference: gymnasium
// envs/classic_control/cartpole.py (Barto, Sutton & Anderson 1983 equations with Florian's 2007 correction), v1
// registration (max_episode_steps 500, reward threshold 475).
import { checkRange, withDefaults } from "../check";
import { VecEnv, VecEnvConfig } from "./vec-env";

/** Physical constants and limits of CartPole. */
export interface CartPoleConfig extends VecEnvConfig {
  /** Gravitational acceleration (m/s²). */
  gravity: number;
  /** Mass of the cart (kg). */
  massCart: number;
  /** Mass of the pole (kg). */
  massPole: number;
  /** Half the pole's length (m). */
  length: number;
  /** Magnitude of the push (N). */
  forceMag: number;
  /** Seconds between state updates. */
  tau: number;
  /** "euler" (gymnasium's default) or "semi-implicit-euler" (velocities first). */
  kinematics: "euler" | "semi-implicit-euler";
  /** The episode terminates when |θ| exceeds this angle (rad). */
  thetaThreshold: number;
  /** The episode terminates when |x| exceeds this position (m). */
  xThreshold: number;
  /** A reset draws every state variable uniformly from [−resetBound, resetBound]. */
  resetBound: number;
}

/** CartPole-v1 as registered in gymnasium, 4 copies (cleanrl's num_envs). */
export const DEFAULT_CARTPOLE: Readonly<CartPoleConfig> = Object.freeze({
  numEnvs: 4,
  maxEpisodeSteps: 500,
  seed: null,
  gravity: 9.8,
  massCart: 1.0,
  massPole: 0.1,
  length: 0.5,
  forceMag: 10.0,
  tau: 0.02,
  kinematics: "euler",
  thetaThreshold: (12 * 2 * Math.PI) / 360,
  xThreshold: 2.4,
  resetBound: 0.05,
});

/** N CartPole-v1 environments. Observations [x, ẋ, θ, θ̇] as float32; the state itself is kept in float64. */
export class CartPole extends VecEnv {
  readonly observationSize = 4;
  readonly numActions = 2;
  readonly config: Readonly<CartPoleConfig>;
  /** [N, 4] float64 states (x, ẋ, θ, θ̇). */
  readonly state: Float64Array;

  constructor(config: Partial<CartPoleConfig> = {}) {
    const cfg = withDefaults("CartPole(config)", DEFAULT_CARTPOLE, config);
    super("CartPole", cfg);
    for (const key of [
      "gravity",
      "massCart",
      "massPole",
      "length",
      "forceMag",
      "tau",
      "thetaThreshold",
      "xThreshold",
    ] as const) {
      checkRange("CartPole", `config.${key}`, cfg[key], Number.MIN_VALUE, Number.MAX_VALUE);
    }
    checkRange("CartPole", "config.resetBound", cfg.resetBound, 0, Number.MAX_VALUE);
    if (cfg.kinematics !== "euler" && cfg.kinematics !== "semi-implicit-euler") {
      throw new Error(
        `CartPole: config.kinematics must be "euler" or "semi-implicit-euler", got ${JSON.stringify(cfg.kinematics)}`,
      );
    }
    this.config = Object.freeze(cfg);
    this.state = new Float64Array(cfg.numEnvs * 4);
  }

  protected resetEnv(i: number): void {
    const b = this.config.resetBound;
    for (let k = 0; k < 4; k++) this.state[i * 4 + k] = -b + 2 * b * this.rngs[i].uniform();
  }

  protected stepEnv(i: number, action: number): { reward: number; terminated: boolean } {
    const c = this.config;
    const s = this.state;
    const o = i * 4;
    const [x, xDot, theta, thetaDot] = [s[o], s[o + 1], s[o + 2], s[o + 3]];
    const force = action === 1 ? c.forceMag : -c.forceMag;
    const totalMass = c.massCart + c.massPole;
    const poleMassLength = c.massPole * c.length;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / totalMass;
    const thetaAcc = (c.gravity * sin - cos * temp) / (c.length * (4 / 3 - (c.massPole * cos * cos) / totalMass));
    const xAcc = temp - (poleMassLength * thetaAcc * cos) / totalMass;
    if (c.kinematics === "euler") {
      s[o] = x + c.tau * xDot;
      s[o + 1] = xDot + c.tau * xAcc;
      s[o + 2] = theta + c.tau * thetaDot;
      s[o + 3] = thetaDot + c.tau * thetaAcc;
    } else {
      s[o + 1] = xDot + c.tau * xAcc;
      s[o] = x + c.tau * s[o + 1];
      s[o + 3] = thetaDot + c.tau * thetaAcc;
      s[o + 2] = theta + c.tau * s[o + 3];
    }
    const terminated = Math.abs(s[o]) > c.xThreshold || Math.abs(s[o + 2]) > c.thetaThreshold;
    return { reward: 1, terminated };
  }

  protected observe(i: number, out: Float32Array, offset: number): void {
    for (let k = 0; k < 4; k++) out[offset + k] = this.state[i * 4 + k];
  }
}
