// The RL tests' task and policy: the arithmetic task and a one-layer LM over its tokenizer (V from the task,
// d 16, 2 heads, context 16, SwiGLU 32), built fresh (seed first for reproducible weights).
import { TransformerLM } from "../../lib/model";
import { ArithmeticTask } from "../../lib/rl";

export const task = new ArithmeticTask();

/** A fresh tiny LM over the arithmetic task's vocabulary. */
export function tinyArithmeticModel(): TransformerLM {
  return new TransformerLM({
    vocabSize: task.tokenizer.vocabSize,
    dim: 16,
    nLayers: 1,
    nHeads: 2,
    contextLen: 16,
    ffnHidden: 32,
  });
}
