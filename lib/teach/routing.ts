// Routing-and-balance exercises: DeepSeek-V3's group-limited top-k gate and the Switch Transformer balance loss,
// checked against lab.moe.gate and lab.moe.switchLoss. Reference: DeepSeek-V3 inference/model.py `Gate.forward`;
// Fedus et al. 2021 (Switch Transformer) eq. 4; DESIGN.md §3.
import * as tf from "@tensorflow/tfjs";
import { gate } from "../moe/gate";
import { switchLoss } from "../moe/balance";
import type { ScoreFunc } from "../moe/config";
import { Rng } from "../random";
import { field, plain, type Exercise, type Plain } from "./exercise";

/** The gate settings the student's function receives. */
export interface GateExerciseConfig {
  topK: number;
  scoreFunc: ScoreFunc;
  nGroups: number;
  topkGroups: number;
  routeScale: number;
}

type GateArgs = [logits: tf.Tensor2D, bias: tf.Tensor1D | null, cfg: GateExerciseConfig];
type GateResult = { weights: tf.Tensor2D; indices: tf.Tensor2D };

function normals(seed: number, n: number, scale = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => scale * rng.normal());
}

function gateCase(
  name: string,
  T: number,
  E: number,
  bias: number[] | null,
  cfg: GateExerciseConfig,
  seed: number,
  hidden = false,
) {
  return {
    name,
    hidden,
    args: (): GateArgs => [tf.tensor2d(normals(seed, T * E, 2), [T, E]), bias ? tf.tensor1d(bias) : null, { ...cfg }],
  };
}

/** The selected experts of each row in ascending order with their weights: order-free comparison. */
function gatePlain(output: unknown): Plain {
  const fn = "your gate";
  const weights = plain(field(output, "weights", fn), `${fn}: weights`) as number[][];
  const indices = plain(field(output, "indices", fn), `${fn}: indices`) as number[][];
  if (!Array.isArray(weights) || !Array.isArray(indices) || weights.length !== indices.length) {
    throw new Error(`${fn}: weights and indices must both have shape [T, k]`);
  }
  const rows = indices.map((row, t) =>
    (Array.isArray(row) ? row : [row])
      .map((e, j) => [e, (weights[t] as number[])?.[j]] as [number, number])
      .sort((a, b) => a[0] - b[0]),
  );
  return { experts: rows.map((r) => r.map((p) => p[0])), weights: rows.map((r) => r.map((p) => p[1])) };
}

/** A gate written with one deliberate change, for the known mistakes. */
function variantGate(
  logits: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  cfg: GateExerciseConfig,
  change: { softmaxAxis?: number; maskValue?: number; biasedWeights?: boolean },
): GateResult {
  const [T, E] = logits.shape;
  const scores =
    cfg.scoreFunc === "softmax"
      ? tf
          .softmax(change.softmaxAxis === 0 ? logits.transpose() : logits)
          .transpose(change.softmaxAxis === 0 ? [1, 0] : [0, 1])
      : tf.sigmoid(logits); // [T, E]
  let sel = bias ? tf.add(scores, bias) : scores; // [T, E]
  if (cfg.nGroups > 1) {
    const S = E / cfg.nGroups;
    const grouped = sel.reshape([T, cfg.nGroups, S]); // [T, G, S]
    const groupScores = bias ? tf.sum(tf.topk(grouped, 2).values, -1) : tf.max(grouped, -1); // [T, G]
    const kept = tf.oneHot(tf.topk(groupScores, cfg.topkGroups).indices, cfg.nGroups).sum(1); // [T, G]
    const keep = tf.greater(tf.tile(kept.expandDims(2), [1, 1, S]).reshape([T, E]), 0); // [T, E]
    sel = tf.where(keep, sel, tf.fill([T, E], change.maskValue ?? -Infinity)); // [T, E]
  }
  const indices = tf.topk(sel, cfg.topK).indices as tf.Tensor2D; // [T, k]
  const source = change.biasedWeights && bias ? tf.add(scores, bias) : scores; // [T, E]
  let weights = tf.sum(tf.mul(tf.oneHot(indices, E), source.expandDims(1)), -1) as tf.Tensor2D; // [T, k]
  if (cfg.scoreFunc === "sigmoid") weights = tf.div(weights, tf.sum(weights, -1, true));
  return { weights: tf.mul(weights, cfg.routeScale) as tf.Tensor2D, indices };
}

const V3_LIKE: GateExerciseConfig = { topK: 2, scoreFunc: "sigmoid", nGroups: 4, topkGroups: 2, routeScale: 2.5 };

/** DeepSeek-V3's gate: affinities, optional selection bias, group-limited masking with −inf, top-k, weights. */
export const topkGate: Exercise<GateArgs> = {
  id: "moe.topkGate",
  signature: "(logits: tf.Tensor2D, bias: tf.Tensor1D | null, cfg) => { weights: tf.Tensor2D; indices: tf.Tensor2D }",
  cases: [
    gateCase(
      "softmax, 3 tokens × 4 experts, top-2",
      3,
      4,
      null,
      { topK: 2, scoreFunc: "softmax", nGroups: 1, topkGroups: 1, routeScale: 1 },
      1,
    ),
    gateCase(
      "softmax, 2 tokens × 6 experts, top-3, route scale 2",
      2,
      6,
      null,
      { topK: 3, scoreFunc: "softmax", nGroups: 1, topkGroups: 1, routeScale: 2 },
      2,
    ),
    gateCase("sigmoid, 4 groups keep 2, no bias", 3, 8, null, { ...V3_LIKE, topK: 3 }, 3),
    gateCase(
      "sigmoid + negative bias, 4 groups keep 2",
      2,
      8,
      [-1, -0.8, -1.2, -0.9, -1.1, -1, -0.7, -1.3],
      V3_LIKE,
      4,
    ),
    gateCase(
      "sigmoid + bias: weights from unbiased scores",
      2,
      8,
      [0.5, -0.5, 0.3, 0, -0.2, 0.4, 0.1, -0.1],
      { ...V3_LIKE, topkGroups: 4 },
      5,
    ),
    gateCase(
      "hidden: V3-like, 8 tokens × 16 experts, top-4",
      8,
      16,
      normals(7, 16, 0.5),
      { topK: 4, scoreFunc: "sigmoid", nGroups: 4, topkGroups: 2, routeScale: 2.5 },
      6,
      true,
    ),
  ],
  reference: (logits, bias, cfg) => {
    const E = logits.shape[1];
    return gate(logits, tf.eye(E) as tf.Tensor2D, bias, { ...cfg, renormalize: null }); // x·Iᵀ = the logits
  },
  toPlain: gatePlain,
  tolerance: 1e-4,
  mistakes: [
    {
      name: "mask with 0",
      hint: "the groups you drop must be masked with -Infinity, not 0: with a negative bias the kept experts score below 0, so a 0 mask picks dropped experts",
      impl: (l, b, c) => variantGate(l, b, c, { maskValue: 0 }),
    },
    {
      name: "softmax over tokens",
      hint: "the softmax runs over the wrong axis: each token's scores must sum to 1 over the experts (the last axis, tf.softmax(logits, -1))",
      impl: (l, b, c) => variantGate(l, b, c, { softmaxAxis: 0 }),
    },
    {
      name: "weights from biased scores",
      hint: "the bias only chooses experts; the weights come from the unbiased scores (then renormalised for sigmoid, times routeScale)",
      impl: (l, b, c) => variantGate(l, b, c, { biasedWeights: true }),
    },
  ],
};

type SwitchArgs = [probs: tf.Tensor2D, indices: tf.Tensor2D];

function switchCase(name: string, T: number, E: number, k: number, seed: number, hidden = false) {
  return {
    name,
    hidden,
    args: (): SwitchArgs => {
      const logits = tf.tensor2d(normals(seed, T * E, 1.5), [T, E]); // [T, E]
      const probs = tf.softmax(logits) as tf.Tensor2D; // [T, E]
      return [probs, tf.topk(probs, k).indices as tf.Tensor2D];
    },
  };
}

/** Switch loss with one deliberate change, for the known mistakes. */
function variantSwitch(
  probs: tf.Tensor2D,
  indices: tf.Tensor2D,
  change: { perToken?: boolean; noE?: boolean },
): tf.Scalar {
  const [T, E] = probs.shape;
  const k = indices.shape[1];
  const counts = tf.sum(tf.oneHot(indices, E), [0, 1]); // [E]
  const f = tf.div(counts, change.perToken ? T : T * k); // [E]
  const P = tf.mean(probs, 0); // [E]
  const loss = tf.sum(tf.mul(f, P)); // []
  return (change.noE ? loss : tf.mul(loss, E)) as tf.Scalar;
}

/** The Switch Transformer load-balancing loss α·E·Σ fᵢPᵢ (here without α): 1 under perfectly uniform routing. */
export const switchBalanceLoss: Exercise<SwitchArgs> = {
  id: "moe.switchLoss",
  signature: "(probs: tf.Tensor2D, indices: tf.Tensor2D) => tf.Scalar",
  cases: [
    {
      name: "uniform routing: 4 tokens, 4 experts, top-1 (loss 1)",
      args: (): SwitchArgs => [
        tf.fill([4, 4], 0.25) as tf.Tensor2D,
        tf.tensor2d([[0], [1], [2], [3]], [4, 1], "int32"),
      ],
    },
    {
      name: "all tokens to expert 0: 4 tokens, 4 experts, top-1",
      args: (): SwitchArgs => [
        tf.tensor2d([
          [0.7, 0.1, 0.1, 0.1],
          [0.4, 0.2, 0.2, 0.2],
          [0.5, 0.3, 0.1, 0.1],
          [0.9, 0.05, 0.03, 0.02],
        ]),
        tf.zeros([4, 1], "int32") as tf.Tensor2D,
      ],
    },
    switchCase("softmax router, 6 tokens × 4 experts, top-2", 6, 4, 2, 11),
    switchCase("hidden: 32 tokens × 8 experts, top-2", 32, 8, 2, 12, true),
  ],
  reference: (probs, indices) => switchLoss(probs, indices).loss,
  toPlain: (output) => {
    if (!(output instanceof tf.Tensor) || output.rank !== 0)
      throw new Error("your switch loss must return a scalar tensor (tf.Scalar)");
    return output.dataSync()[0];
  },
  tolerance: 1e-5,
  mistakes: [
    {
      name: "f per token",
      hint: "fᵢ is the fraction of the T·k selections that went to expert i: divide the counts by T·k, not by T",
      impl: (p, i) => variantSwitch(p, i, { perToken: true }),
    },
    {
      name: "no E factor",
      hint: "multiply Σ fᵢPᵢ by the number of experts E, so that perfectly uniform routing gives 1",
      impl: (p, i) => variantSwitch(p, i, { noE: true }),
    },
  ],
};
