// Reinforcement learning: environments (CartPole, bandit, arithmetic), rollouts, GAE, the PPO and GRPO losses (pure
// functions from tensors to scalar tensors plus metrics) and training loops. Public API `lab.rl`.
export { DEFAULT_GAE, gae, gaeArrays } from "./gae";
export type { GaeConfig, GaeInputs, GaeOutput } from "./gae";
export { VecEnv } from "./vec-env";
export type { EpisodeStat, VecEnvConfig, VecStep } from "./vec-env";
export { CartPole, DEFAULT_CARTPOLE } from "./cartpole";
export type { CartPoleConfig } from "./cartpole";
export { Bandit, DEFAULT_BANDIT } from "./bandit";
export type { BanditConfig } from "./bandit";
export { orthogonal } from "./orthogonal";
export { ActorCritic, DEFAULT_ACTOR_CRITIC, TanhMlp } from "./actor-critic";
export type { ActEvaluation, ActSample, ActorCriticConfig } from "./actor-critic";
export { DEFAULT_PPO_LOSS, checkPpoLossConfig, normalizeAdvantages, ppo, valueLoss } from "./ppo-loss";
export type { PpoLossConfig, PpoLossInputs, PpoLossOutput, PpoRatio } from "./ppo-loss";
export {
  DEFAULT_GRPO_ADVANTAGE,
  DEFAULT_GRPO_LOSS,
  aggregateTokens,
  checkGrpoLossConfig,
  grpo,
  grpoAdvantages,
  k3Kl,
} from "./grpo-loss";
export type { GrpoAdvantageConfig, GrpoAggregation, GrpoLossConfig, GrpoLossInputs, GrpoLossOutput } from "./grpo-loss";
export { DEFAULT_PPO, meanLastReturns, ppoConfig, smoothedReturns, trainPpo } from "./ppo";
export type { EpisodeRecord, PpoConfig, PpoIteration, PpoOptions, PpoResult, PpoSettings, PpoValueTarget } from "./ppo";
export { ArithmeticTask, DEFAULT_ARITHMETIC_TASK, supervisedLoss } from "./arithmetic-task";
export type { ArithmeticBatch, ArithmeticTaskConfig, TaskPrompt } from "./arithmetic-task";
export { sampleCompletions, tokenLogProbs } from "./lm-sampling";
export type { Completions, TokenLogProbs } from "./lm-sampling";
export { DEFAULT_THREE_LEVEL_REWARD, threeLevelReward } from "./three-level-reward";
export type { BatchReward, RewardBatch, ThreeLevelRewardConfig, ThreeLevelScores } from "./three-level-reward";
export { DEFAULT_LM_RL, LogitValueHead, greedyAccuracy, lmRlConfig, trainLmRl } from "./lm-rl";
export type { LmRlConfig, LmRlEval, LmRlMethod, LmRlOptions, LmRlResult, LmRlSettings, LmRlStep } from "./lm-rl";
