// Learning-rate schedules as pure functions of the step: linear warmup, then constant, cosine, linear decay, step or
// exponential decay. Reference: nanoGPT train.py get_lr (warmup lr·(s+1)/(w+1), cosine to min_lr), torch.optim.lr_scheduler
// StepLR (lr·γ^⌊t/size⌋) and ExponentialLR (lr·γ^t), with t = steps since warmup ended.

/** Fields every schedule has. */
interface ScheduleBase {
  /** Peak learning rate (reached at the end of warmup). */
  lr: number;
  /** Steps of linear warmup from lr/(w+1) to lr; 0 = none. */
  warmupSteps: number;
}

/** lr after warmup. */
export interface ConstantSchedule extends ScheduleBase {
  kind: "constant";
}
/** Half a cosine from lr to minLr at totalSteps, then minLr. */
export interface CosineSchedule extends ScheduleBase {
  kind: "cosine";
  /** Step at which the decay reaches minLr (warmup included). */
  totalSteps: number;
  /** Final learning rate. */
  minLr: number;
}
/** A straight line from lr to minLr at totalSteps, then minLr. */
export interface LinearSchedule extends ScheduleBase {
  kind: "linear";
  /** Step at which the decay reaches minLr (warmup included). */
  totalSteps: number;
  /** Final learning rate. */
  minLr: number;
}
/** lr·γ^⌊t/stepSize⌋: drops by γ every stepSize steps after warmup. */
export interface StepSchedule extends ScheduleBase {
  kind: "step";
  /** Steps between two drops. */
  stepSize: number;
  /** Factor of each drop, in (0, 1]. */
  gamma: number;
}
/** lr·γ^t: decays by γ every step after warmup. */
export interface ExponentialSchedule extends ScheduleBase {
  kind: "exponential";
  /** Factor per step, in (0, 1]. */
  gamma: number;
}

/** A learning-rate schedule (plain data: it goes into checkpoints' config JSON). */
export type LrSchedule = ConstantSchedule | CosineSchedule | LinearSchedule | StepSchedule | ExponentialSchedule;

/** The kinds, in the order the notebooks compare them. */
export const SCHEDULE_KINDS = Object.freeze(["constant", "cosine", "linear", "step", "exponential"] as const);

/** Constant 1e-3, no warmup. */
export const DEFAULT_SCHEDULE: Readonly<ConstantSchedule> = Object.freeze({
  kind: "constant",
  lr: 1e-3,
  warmupSteps: 0,
});

function fail(what: string, value: unknown): never {
  throw new Error(`learningRate(schedule, step): schedule.${what}, got ${JSON.stringify(value)}`);
}

/** Throws a named error unless `s` is a well-formed schedule. */
export function checkSchedule(s: LrSchedule): void {
  if (s === null || typeof s !== "object" || !SCHEDULE_KINDS.includes(s.kind))
    fail(`kind must be one of ${SCHEDULE_KINDS.join(", ")}`, s?.kind);
  if (!(Number.isFinite(s.lr) && s.lr >= 0)) fail("lr must be a finite number ≥ 0", s.lr);
  if (!(Number.isSafeInteger(s.warmupSteps) && s.warmupSteps >= 0))
    fail("warmupSteps must be an integer ≥ 0", s.warmupSteps);
  if (s.kind === "cosine" || s.kind === "linear") {
    if (!(Number.isSafeInteger(s.totalSteps) && s.totalSteps > s.warmupSteps))
      fail(`totalSteps must be an integer > warmupSteps (${s.warmupSteps})`, s.totalSteps);
    if (!(Number.isFinite(s.minLr) && s.minLr >= 0 && s.minLr <= s.lr))
      fail(`minLr must be in [0, lr = ${s.lr}]`, s.minLr);
  }
  if (s.kind === "step" && !(Number.isSafeInteger(s.stepSize) && s.stepSize >= 1))
    fail("stepSize must be an integer ≥ 1", s.stepSize);
  if ((s.kind === "step" || s.kind === "exponential") && !(s.gamma > 0 && s.gamma <= 1))
    fail("gamma must be in (0, 1]", s.gamma);
}

/** The learning rate at `step` (0-based) under `schedule`. */
export function learningRate(schedule: LrSchedule, step: number): number {
  checkSchedule(schedule);
  if (!(Number.isSafeInteger(step) && step >= 0))
    throw new Error(`learningRate(schedule, step): step must be an integer ≥ 0, got ${step}`);
  const { lr, warmupSteps: w } = schedule;
  if (step < w) return (lr * (step + 1)) / (w + 1);
  const t = step - w;
  switch (schedule.kind) {
    case "constant":
      return lr;
    case "cosine":
    case "linear": {
      const ratio = Math.min(1, t / (schedule.totalSteps - w));
      const coeff = schedule.kind === "cosine" ? 0.5 * (1 + Math.cos(Math.PI * ratio)) : 1 - ratio;
      return schedule.minLr + coeff * (lr - schedule.minLr);
    }
    case "step":
      return lr * schedule.gamma ** Math.floor(t / schedule.stepSize);
    case "exponential":
      return lr * schedule.gamma ** t;
  }
}

/** The learning rates of steps 0 … steps−1 (for plots). */
export function scheduleCurve(schedule: LrSchedule, steps: number): number[] {
  return Array.from({ length: steps }, (_, s) => learningRate(schedule, s));
}

/** Settings shared by the four decay schedules of comparableSchedules. */
export interface DecaySettings {
  /** Peak learning rate. */
  lr: number;
  /** Learning rate at the last step. */
  minLr: number;
  /** Warmup steps (the same for all four). */
  warmupSteps: number;
  /** Length of the run. */
  totalSteps: number;
  /** Drops of the step schedule, evenly spaced over the decay. */
  drops: number;
}

/**
 * Cosine, linear, step and exponential schedules with the same warmup, the same peak, and the same final learning
 * rate at totalSteps − 1: step drops every ⌊decay/drops⌋ steps (`drops` times, a few more when the decay length
 * is not a multiple) by the γ that ends at minLr, exponential decays by
 * γ = (minLr/lr)^(1/(totalSteps − 1 − warmupSteps)) per step.
 */
export function comparableSchedules(
  settings: DecaySettings,
): Record<"cosine" | "linear" | "step" | "exponential", LrSchedule> {
  const { lr, minLr, warmupSteps, totalSteps, drops } = settings;
  const fn = "comparableSchedules(settings)";
  if (!(minLr > 0 && minLr <= lr)) throw new Error(`${fn}: minLr must be in (0, lr = ${lr}], got ${minLr}`);
  if (!(Number.isSafeInteger(drops) && drops >= 1))
    throw new Error(`${fn}: drops must be an integer ≥ 1, got ${drops}`);
  const decaySteps = totalSteps - 1 - warmupSteps; // steps from the peak to the last step
  if (!(Number.isSafeInteger(decaySteps) && decaySteps >= drops)) {
    throw new Error(`${fn}: totalSteps (${totalSteps}) must exceed warmupSteps (${warmupSteps}) + drops (${drops})`);
  }
  const stepSize = Math.floor(decaySteps / drops);
  const stepDrops = Math.floor(decaySteps / stepSize); // drops by the last step: `drops`, or a few more when uneven
  const schedules = {
    cosine: { kind: "cosine", lr, warmupSteps, totalSteps: totalSteps - 1, minLr },
    linear: { kind: "linear", lr, warmupSteps, totalSteps: totalSteps - 1, minLr },
    step: { kind: "step", lr, warmupSteps, stepSize, gamma: (minLr / lr) ** (1 / stepDrops) },
    exponential: { kind: "exponential", lr, warmupSteps, gamma: (minLr / lr) ** (1 / decaySteps) },
  } as const;
  for (const s of Object.values(schedules)) checkSchedule(s);
  return schedules;
}
