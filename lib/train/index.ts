// Training (optimizers, schedules, checkpoints, loop) — public API of this area (filled in by its issue).
export {};
