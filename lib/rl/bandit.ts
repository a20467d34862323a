// The k-armed Gaussian bandit, vectorised: arm means q*(a) ~ N(0, meanStd²) drawn once; pulling arm a pays
// N(q*(a), rewardStd²); every episode is one pull, and the N copies are parallel pulls of the same arms. The teaching example of exploration vs
// exploitation. Reference: Sutton & Barto, "Reinforcement Learning: An Introduction" (2nd ed.), §2.3 (10-armed testbed).
import { checkPositiveInt, checkRange, withDefaults } from "../check";
import { VecEnv, VecEnvConfig } from "./vec-env";

/** Bandit settings. */
export interface BanditConfig extends VecEnvConfig {
  /** Number of arms k. */
  arms: number;
  /** Std of the arm means q*(a) around 0. */
  meanStd: number;
  /** Std of a pull's reward around its arm's mean. */
  rewardStd: number;
}

/** One problem of Sutton & Barto's 10-armed testbed, 4 pulls per step, one pull per episode. */
export const DEFAULT_BANDIT: Readonly<BanditConfig> = Object.freeze({
  numEnvs: 4,
  maxEpisodeSteps: 1,
  seed: null,
  arms: 10,
  meanStd: 1,
  rewardStd: 1,
});

/** One k-armed bandit pulled N times per step. The observation is the constant [1]: there is no state to see. */
export class Bandit extends VecEnv {
  readonly observationSize = 1;
  readonly numActions: number;
  readonly config: Readonly<BanditConfig>;
  /** Arm means q*(a) [k]. */
  readonly means: Float64Array;

  constructor(config: Partial<BanditConfig> = {}) {
    const cfg = withDefaults("Bandit(config)", DEFAULT_BANDIT, config);
    super("Bandit", cfg);
    checkPositiveInt("Bandit", "config.arms", cfg.arms);
    checkRange("Bandit", "config.meanStd", cfg.meanStd, 0, Number.MAX_VALUE);
    checkRange("Bandit", "config.rewardStd", cfg.rewardStd, 0, Number.MAX_VALUE);
    this.config = Object.freeze(cfg);
    this.numActions = cfg.arms;
    this.means = Float64Array.from({ length: cfg.arms }, () => cfg.meanStd * this.rootRng.normal());
  }

  /** The best arm (argmax of the means). */
  optimalArm(): number {
    let best = 0;
    for (let a = 1; a < this.numActions; a++) if (this.means[a] > this.means[best]) best = a;
    return best;
  }

  protected resetEnv(): void {}

  protected stepEnv(i: number, action: number): { reward: number; terminated: boolean } {
    const reward = this.means[action] + this.config.rewardStd * this.rngs[i].normal();
    return { reward, terminated: true };
  }

  protected observe(_i: number, out: Float32Array, offset: number): void {
    out[offset] = 1;
  }
}
