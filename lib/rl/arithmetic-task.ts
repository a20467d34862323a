// A verifiable arithmetic task for language-model RL: prompts "07+45=" (operands zero-padded so every prompt has the
// same length and a batch needs no padding), completions ending in "\n", reward 1 for the exact answer, else 0.
// Problems come from lib/data's seeded generator and answers are checked by its exact-match parser. Reference: the
// rule-based accuracy reward of DeepSeek-R1 (§2.2.2) and DeepSeekMath's outcome supervision, at toy scale.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, withDefaults } from "../check";
import {
  ArithmeticConfig,
  ArithmeticProblem,
  DEFAULT_ARITHMETIC,
  arithmeticProblem,
  checkArithmeticAnswer,
  evaluateArithmetic,
} from "../data/arithmetic-problems";
import { CharTokenizer } from "../data/tokenizer";
import type { TransformerLM } from "../model/transformer";
import { Rng } from "../random";
import { tokenLogProbs } from "./lm-sampling";

/** Task settings. */
export interface ArithmeticTaskConfig {
  /** Operands are integers in [0, maxOperand]. */
  maxOperand: number;
  /** Operators drawn uniformly. */
  ops: ArithmeticConfig["ops"];
  /** The character that ends an answer. */
  endChar: string;
}

/** Two-digit addition and subtraction (non-negative results). */
export const DEFAULT_ARITHMETIC_TASK: Readonly<ArithmeticTaskConfig> = Object.freeze({
  maxOperand: 99,
  ops: Object.freeze(["+", "-"] as ArithmeticConfig["ops"]),
  endChar: "\n",
});

/** One prompt of the task. */
export interface TaskPrompt {
  /** The problem (operands, operator, exact answer) as lib/data generates it. */
  problem: ArithmeticProblem;
  /** The fixed-width prompt text, "07+45=". */
  text: string;
  /** Its token ids. */
  ids: Int32Array;
}

/** Supervised examples: prompt + answer + end, padded with the end token (a type, so it is a tf.TensorContainer). */
export type ArithmeticBatch = {
  /** Token ids [B, L] int32 (L = promptLength + answerLength). */
  tokens: tf.Tensor2D;
  /** 1 where the next token tokens[:, t + 1] is part of the answer (digits and end token), else 0 [B, L − 1]. */
  mask: tf.Tensor2D;
};

/** The arithmetic task: prompts, exact-match rewards, supervised batches. Its vocabulary: digits, + - * = and the end. */
export class ArithmeticTask {
  readonly config: Readonly<ArithmeticTaskConfig>;
  readonly tokenizer: CharTokenizer;
  /** Digits of the widest operand. */
  readonly width: number;
  /** Tokens in every prompt. */
  readonly promptLength: number;
  /** Tokens in the longest answer including the end token: the completion budget that never cuts an answer short. */
  readonly answerLength: number;
  /** Id of the end token. */
  readonly endId: number;

  constructor(config: Partial<ArithmeticTaskConfig> = {}) {
    const cfg = withDefaults("ArithmeticTask(config)", DEFAULT_ARITHMETIC_TASK, config);
    checkPositiveInt("ArithmeticTask", "config.maxOperand", cfg.maxOperand);
    arithmeticProblem(new Rng(0), this.generatorConfig(cfg)); // checks ops
    if ([...cfg.endChar].length !== 1 || /[0-9+\-*=]/.test(cfg.endChar)) {
      throw new Error(
        `ArithmeticTask: config.endChar must be one character other than digits and + - * =, got ${JSON.stringify(cfg.endChar)}`,
      );
    }
    this.config = Object.freeze({ ...cfg });
    this.tokenizer = new CharTokenizer(`0123456789+-*=${cfg.endChar}`);
    this.width = String(cfg.maxOperand).length;
    this.promptLength = 2 * this.width + 2;
    const m = cfg.maxOperand;
    const largest = cfg.ops.map((op) => (op === "-" ? m : evaluateArithmetic(m, op, m))); // answers are never negative
    this.answerLength = Math.max(...largest.map((v) => String(v).length)) + 1;
    this.endId = this.tokenizer.encode(cfg.endChar)[0];
  }

  private generatorConfig(cfg: ArithmeticTaskConfig): Partial<ArithmeticConfig> {
    return { ...DEFAULT_ARITHMETIC, maxOperand: cfg.maxOperand, ops: cfg.ops, allowNegative: false };
  }

  /** `n` prompts drawn from `rng`. */
  prompts(n: number, rng: Rng): TaskPrompt[] {
    checkPositiveInt("ArithmeticTask.prompts", "n", n);
    const pad = (v: number) => String(v).padStart(this.width, "0");
    return Array.from({ length: n }, () => {
      const problem = arithmeticProblem(rng, this.generatorConfig(this.config));
      const text = `${pad(problem.a)}${problem.op}${pad(problem.b)}=`;
      return { problem, text, ids: this.tokenizer.encode(text) };
    });
  }

  /** 1 when `completion` (decoded text) starts with the exact answer followed by the end character, else 0. */
  reward(prompt: TaskPrompt, completion: string): number {
    const answered = checkArithmeticAnswer(prompt.problem, completion);
    return answered && completion.startsWith(prompt.problem.answer + this.config.endChar) ? 1 : 0;
  }

  /** A supervised batch of `n` solved prompts from `rng` (answers end with the end token, padded with it). */
  supervisedBatch(n: number, rng: Rng): ArithmeticBatch {
    const length = this.promptLength + this.answerLength;
    const rows = new Int32Array(n * length).fill(this.endId);
    const mask = new Float32Array(n * (length - 1));
    this.prompts(n, rng).forEach((p, i) => {
      const answer = this.tokenizer.encode(p.problem.answer + this.config.endChar);
      rows.set(p.ids, i * length);
      rows.set(answer, i * length + this.promptLength);
      mask.fill(1, i * (length - 1) + this.promptLength - 1, i * (length - 1) + this.promptLength - 1 + answer.length);
    });
    return { tokens: tf.tensor2d(rows, [n, length], "int32"), mask: tf.tensor2d(mask, [n, length - 1]) };
  }
}

/** Supervised fine-tuning loss: mean negative log-likelihood of the answer tokens only (prompt and padding masked). */
export function supervisedLoss(model: TransformerLM, batch: ArithmeticBatch): tf.Scalar {
  return tf.tidy(() => {
    const { logProbs } = tokenLogProbs(model, batch.tokens, 1); // [B, L − 1]
    return tf.neg(tf.div(tf.sum(tf.mul(logProbs, batch.mask)), tf.maximum(tf.sum(batch.mask), 1))) as tf.Scalar;
  });
}
