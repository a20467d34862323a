// Gradient checkpointing's trade-off measured on the lab's own models: peak tensor memory of a training step and
// median step time, with and without `checkpoint`, on the same weights and batches (rounds alternate the two so
// machine load hits both alike). Reference: Chen et al. 2016 (memory ↓, one extra forward ≈ +33% compute).
import type { Batch } from "../data/batch";
import { seed as seedAll } from "../random";
import { stepMemory } from "../model/checkpointing";
import type { StepMemory } from "../model/checkpointing";
import type { LMConfig } from "../model/config";
import { trainThroughput } from "./lm-run";
import { TransformerLM } from "../model/transformer";

/** One side of the comparison. */
export interface CheckpointSide {
  /** Peak tensor bytes of one step above the weights (tf.profile). */
  peakBytes: number;
  /** Median step time over the rounds (each round: trainThroughput's median after a warm-up step). */
  msPerStep: number;
  /** Loss of the profiled step. */
  loss: number;
}

/** Measures `config` with checkpoint off and on: `steps` training steps per round, `rounds` alternating rounds. */
export async function checkpointTradeoff(
  config: Partial<LMConfig>,
  batches: (step: number) => Batch,
  steps: number,
  rounds: number,
  seed = 0,
): Promise<{ plain: CheckpointSide; checkpointed: CheckpointSide }> {
  if (!(Number.isSafeInteger(rounds) && rounds >= 1))
    throw new Error(`checkpointTradeoff: rounds must be an integer ≥ 1, got ${rounds}`);
  const sides = [false, true].map((checkpoint) => {
    seedAll(seed);
    return new TransformerLM({ ...config, checkpoint });
  });
  const probe = batches(0);
  const memory: StepMemory[] = [];
  for (const model of sides) memory.push(await stepMemory(model, probe.inputs, probe.targets));
  probe.inputs.dispose();
  probe.targets.dispose();
  const times: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 2; i++) times[i].push((await trainThroughput(sides[i], batches, steps)).msPerStep);
  }
  sides.forEach((m) => m.dispose());
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const side = (i: number): CheckpointSide => ({
    peakBytes: memory[i].peakBytes,
    msPerStep: median(times[i]),
    loss: memory[i].loss,
  });
  return { plain: side(0), checkpointed: side(1) };
}
