// Teaching labs in the notebook: lab.teach.check and the exercises it knows. Public API `lab.teach`.
// Release and grading (Node, kernels) live in lib/teach/release.ts and lib/teach/grade.ts (scripts/teach.ts).
export { CheckFailedError, DEFAULT_CHECK_OPTIONS, EXERCISES, TEACH_MIME, check, runCheck } from "./check";
export type { CaseResult, CheckOptions, CheckResult, CheckSuite } from "./check";
export type { Exercise, ExerciseCase, Mistake, Plain } from "./exercise";
export type { GateExerciseConfig } from "./routing";
export type { ExerciseCache } from "./attention";
