// Experiment harnesses: the machinery notebooks run (models, loops, sweeps) above the domain folders, `lab.experiments`.
export { balanceRun } from "./balance";
export type { BalanceRun } from "./balance";
export { DEFAULT_CLASSIFIER, DEFAULT_TRAIN_CLASSIFIER, MlpClassifier, evaluateClassifier, trainClassifier } from "./classifier";
export type { ClassifierConfig, TrainClassifierConfig } from "./classifier";
