// Reinforcement learning (environments, rollouts, GAE, training loops) — public API of this area (filled in by its issue).
export {};
