// The engine's clocks: a deterministic logical clock for tests (each batched step takes a fixed time) and the wall
// clock for measurements, which skips the idle gaps between arrivals instead of sleeping through them (the engine
// runs nothing then, so the skipped time would be pure waiting). Reference: vLLM benchmark_serving's timestamps.

/** A clock the engine reads after each step. */
export interface Clock {
  /** Current time (seconds on the wall clock, step units on the logical one). */
  now(): number;
  /** Called after every batched forward step. */
  step(): void;
  /** Jumps to `t` when the engine has nothing to run until then. */
  idleUntil(t: number): void;
}

/** Which clock drives the engine. */
export type ClockKind = "logical" | "wall";

/** A clock that advances by `stepTime` per step and nothing else. */
export class LogicalClock implements Clock {
  private t = 0;
  constructor(readonly stepTime = 1) {}
  now(): number {
    return this.t;
  }
  step(): void {
    this.t += this.stepTime;
  }
  idleUntil(t: number): void {
    this.t = Math.max(this.t, t);
  }
}

/** Wall time since construction (performance.now), plus the idle gaps skipped. */
export class WallClock implements Clock {
  private readonly t0 = performance.now();
  private skipped = 0;
  now(): number {
    return (performance.now() - this.t0) / 1000 + this.skipped;
  }
  step(): void {}
  idleUntil(t: number): void {
    this.skipped += Math.max(0, t - this.now());
  }
}

/** A fresh clock of `kind`. */
export function makeClock(kind: ClockKind, stepTime = 1): Clock {
  if (kind === "logical") return new LogicalClock(stepTime);
  if (kind === "wall") return new WallClock();
  throw new Error(`makeClock(kind): expected "logical" or "wall", got ${String(kind)}`);
}
