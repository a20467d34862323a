// Losses (PPO, GRPO) — public API of this area (filled in by its issue).
export {};
