// Cooperative yielding for long synchronous training loops: a notebook kernel sends display updates (progress bars)
// only when the event loop runs. Every training loop (lab.train.fit, the RL trainers) yields through it.

/** A function to call once per iteration; it yields to the event loop when `ms` have passed since it last did. */
export function yielder(ms: number): () => Promise<void> {
  if (!(ms >= 0)) throw new Error(`yielder(ms): ms must be a number ≥ 0, got ${ms}`);
  let last = performance.now();
  return async () => {
    if (performance.now() - last < ms) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    last = performance.now();
  };
}
