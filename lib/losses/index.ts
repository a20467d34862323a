// Losses (PPO, GRPO): pure functions from tensors to scalar tensors plus metrics. Public API `lab.losses`.
export { DEFAULT_PPO_LOSS, checkPpoLossConfig, normalizeAdvantages, ppo, valueLoss } from "./ppo";
export type { PpoLossConfig, PpoLossInputs, PpoLossOutput, PpoRatio } from "./ppo";
export {
  DEFAULT_GRPO_ADVANTAGE,
  DEFAULT_GRPO_LOSS,
  aggregateTokens,
  checkGrpoLossConfig,
  grpo,
  grpoAdvantages,
  k3Kl,
} from "./grpo";
export type { GrpoAdvantageConfig, GrpoAggregation, GrpoLossConfig, GrpoLossInputs, GrpoLossOutput } from "./grpo";
