// Arithmetic problems ("12+7=19"): a seeded generator for the multi-domain mix and for verifiable-reward RL tasks
// (the answer is checkable). Reference: the arithmetic tasks of DeepSeekMath/R1-style RL (exact-match reward).
import { withDefaults } from "../check";
import { linesWithin } from "./generated-text";
import { Rng } from "../random";

/** An arithmetic operator. */
export type ArithmeticOp = "+" | "-" | "*";

/** Generator settings. */
export interface ArithmeticConfig {
  /** Operands are integers in [0, maxOperand]. */
  maxOperand: number;
  /** Operators to draw from, uniformly. */
  ops: readonly ArithmeticOp[];
  /** Allow a negative result for "-"; false swaps the operands so that a ≥ b. */
  allowNegative: boolean;
}

/** Two-digit operands, + − ×, no negative results. */
export const DEFAULT_ARITHMETIC: Readonly<ArithmeticConfig> = Object.freeze({
  maxOperand: 99,
  ops: Object.freeze(["+", "-", "*"] as ArithmeticOp[]),
  allowNegative: false,
});

/** One problem. */
export interface ArithmeticProblem {
  a: number;
  b: number;
  op: ArithmeticOp;
  /** The question with its equals sign: "12+7=". */
  prompt: string;
  /** The exact answer as text: "19". */
  answer: string;
  /** prompt + answer: "12+7=19". */
  text: string;
}

const OPS: readonly ArithmeticOp[] = ["+", "-", "*"];

function checkConfig(fn: string, cfg: ArithmeticConfig): void {
  if (!Number.isSafeInteger(cfg.maxOperand) || cfg.maxOperand < 0) {
    throw new Error(`${fn}: config.maxOperand must be an integer ≥ 0, got ${cfg.maxOperand}`);
  }
  if (!Array.isArray(cfg.ops) || cfg.ops.length === 0 || !cfg.ops.every((op) => OPS.includes(op))) {
    throw new Error(
      `${fn}: config.ops must be a non-empty list of ${OPS.map((o) => `"${o}"`).join(", ")}, got ${JSON.stringify(cfg.ops)}`,
    );
  }
}

/** The value of `a op b`. */
export function evaluateArithmetic(a: number, op: ArithmeticOp, b: number): number {
  return op === "+" ? a + b : op === "-" ? a - b : a * b;
}

/** One problem drawn from `rng`. */
export function arithmeticProblem(rng: Rng, config: Partial<ArithmeticConfig> = {}): ArithmeticProblem {
  const cfg = withDefaults("arithmeticProblem(rng, config)", DEFAULT_ARITHMETIC, config);
  checkConfig("arithmeticProblem(rng, config)", cfg);
  let a = rng.int(cfg.maxOperand + 1);
  let b = rng.int(cfg.maxOperand + 1);
  const op = cfg.ops[rng.int(cfg.ops.length)];
  if (op === "-" && !cfg.allowNegative && a < b) [a, b] = [b, a];
  const prompt = `${a}${op}${b}=`;
  const answer = String(evaluateArithmetic(a, op, b));
  return { a, b, op, prompt, answer, text: prompt + answer };
}

/** Problems "a op b=c", one per line, from a stream seeded with `seed`: as many whole lines as fit in `bytes`. */
export function arithmeticText(seed: number, bytes: number, config: Partial<ArithmeticConfig> = {}): string {
  const rng = new Rng(seed);
  return linesWithin("arithmeticText(seed, bytes)", bytes, () => arithmeticProblem(rng, config).text + "\n");
}

/** Parses a model's completion of `prompt` and says whether it is the exact answer (digits up to the first non-digit). */
export function checkArithmeticAnswer(problem: ArithmeticProblem, completion: string): boolean {
  const match = /^-?\d+/.exec(completion);
  return match !== null && match[0] === problem.answer;
}
