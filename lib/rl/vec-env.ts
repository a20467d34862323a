// Vectorised environments with discrete actions: N copies stepped together, reset automatically when an episode
// ends (the returned observation is then the new episode's first), a time limit that truncates, and per-episode
// return/length statistics. Reference: gymnasium 0.29 SyncVectorEnv (autoreset), TimeLimit and
// RecordEpisodeStatistics wrappers, as cleanrl's ppo.py uses them.
import { checkPositiveInt } from "../check";
import { Rng, rng as globalRng } from "../random";

/** One finished episode. */
export interface EpisodeStat {
  /** Index of the environment it ran in. */
  env: number;
  /** Sum of its rewards. */
  return: number;
  /** Number of steps. */
  length: number;
}

/** What one vectorised step returns; arrays are fresh and owned by the caller. */
export interface VecStep {
  /** Observations after the step [N, observationSize] (a new episode's first one where an episode ended). */
  observations: Float32Array;
  /** Rewards of the step [N]. */
  rewards: Float32Array;
  /** 1 where the episode ended in a terminal state [N]. */
  terminated: Uint8Array;
  /** 1 where the time limit cut the episode [N]. */
  truncated: Uint8Array;
  /** Episodes that ended at this step. */
  episodes: EpisodeStat[];
}

/** Settings every vectorised environment shares. */
export interface VecEnvConfig {
  /** Number of environment copies N. */
  numEnvs: number;
  /** Steps after which an episode is truncated. */
  maxEpisodeSteps: number;
  /** Seed of the environments' random stream; null = a stream forked from the global one (lab.seed). */
  seed: number | null;
}

/** N environments with discrete actions, stepped together. Subclasses define one environment's dynamics. */
export abstract class VecEnv {
  readonly numEnvs: number;
  readonly maxEpisodeSteps: number;
  /** Length of one observation vector. */
  abstract readonly observationSize: number;
  /** Number of discrete actions (actions are 0 … numActions − 1). */
  abstract readonly numActions: number;
  /** One independent stream per environment copy. */
  protected readonly rngs: Rng[];
  /** The stream the copies' streams were forked from (for state all copies share). */
  protected readonly rootRng: Rng;
  private readonly episodeReturn: Float64Array;
  private readonly episodeLength: Int32Array;
  private started = false;

  protected constructor(
    private readonly name: string,
    config: VecEnvConfig,
  ) {
    checkPositiveInt(name, "config.numEnvs", config.numEnvs);
    checkPositiveInt(name, "config.maxEpisodeSteps", config.maxEpisodeSteps);
    this.numEnvs = config.numEnvs;
    this.maxEpisodeSteps = config.maxEpisodeSteps;
    this.rootRng = config.seed === null ? globalRng().fork() : new Rng(config.seed);
    this.rngs = Array.from({ length: this.numEnvs }, () => this.rootRng.fork());
    this.episodeReturn = new Float64Array(this.numEnvs);
    this.episodeLength = new Int32Array(this.numEnvs);
  }

  /** Starts a new episode in environment i. */
  protected abstract resetEnv(i: number): void;
  /** Applies `action` to environment i; returns the reward and whether a terminal state was reached. */
  protected abstract stepEnv(i: number, action: number): { reward: number; terminated: boolean };
  /** Writes environment i's observation at out[offset … offset + observationSize). */
  protected abstract observe(i: number, out: Float32Array, offset: number): void;

  /** Starts a new episode everywhere; returns the observations [N, observationSize]. */
  reset(): Float32Array {
    for (let i = 0; i < this.numEnvs; i++) this.resetEnv(i);
    this.episodeReturn.fill(0);
    this.episodeLength.fill(0);
    this.started = true;
    return this.observations();
  }

  /** Steps every environment with its action (integers in [0, numActions)); ended episodes restart. */
  step(actions: ArrayLike<number>): VecStep {
    const fn = `${this.name}.step(actions)`;
    if (!this.started) throw new Error(`${fn}: call reset() before the first step`);
    if (actions.length !== this.numEnvs)
      throw new Error(`${fn}: expected ${this.numEnvs} actions (one per environment), got ${actions.length}`);
    for (let i = 0; i < this.numEnvs; i++) {
      const a = actions[i];
      if (!Number.isInteger(a) || a < 0 || a >= this.numActions) {
        throw new Error(`${fn}: actions[${i}] is ${a}; expected an integer in [0, ${this.numActions})`);
      }
    }
    const rewards = new Float32Array(this.numEnvs);
    const terminated = new Uint8Array(this.numEnvs);
    const truncated = new Uint8Array(this.numEnvs);
    const episodes: EpisodeStat[] = [];
    for (let i = 0; i < this.numEnvs; i++) {
      const { reward, terminated: term } = this.stepEnv(i, actions[i]);
      rewards[i] = reward;
      this.episodeReturn[i] += reward;
      this.episodeLength[i] += 1;
      terminated[i] = term ? 1 : 0;
      truncated[i] = this.episodeLength[i] >= this.maxEpisodeSteps ? 1 : 0;
      if (terminated[i] || truncated[i]) {
        episodes.push({ env: i, return: this.episodeReturn[i], length: this.episodeLength[i] });
        this.episodeReturn[i] = 0;
        this.episodeLength[i] = 0;
        this.resetEnv(i);
      }
    }
    return { observations: this.observations(), rewards, terminated, truncated, episodes };
  }

  private observations(): Float32Array {
    const out = new Float32Array(this.numEnvs * this.observationSize);
    for (let i = 0; i < this.numEnvs; i++) this.observe(i, out, i * this.observationSize);
    return out;
  }
}
