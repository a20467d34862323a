// The articles' own MoE code, ported literally from Python (bugs kept) so a notebook can run it and show what it does.
// References: "大模型巅峰对决：DeepSeek vs GPT-4/Claude/PaLM-2 全面对比与核心差异揭秘" §1.2 `DynamicMoE`;
// "DeepSeek-V3技术全解析：性能、架构与GPT-4o的深度对比" §二.1 `dynamic_routing`. The working layer is lab.moe.MoELayer.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkShape } from "../check";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import { SwiGLU } from "../nn/swiglu";
import { randomNormal } from "../random";

/** Python's `list[tensor]`: only a one-element integer tensor converts to an index (torch's TypeError otherwise). */
function pyListIndex<T>(list: readonly T[], index: tf.Tensor): T {
  if (index.size !== 1) throw new TypeError("only integer tensors of a single element can be converted to an index");
  return list[index.dataSync()[0]];
}

/**
 * `DynamicMoE` as the article writes it. The article leaves `Expert` and `d_model` to the reader: here an expert is
 * the lab's SwiGLU(dModel, expertHidden) and dModel is a constructor argument. Kept as written:
 * - `capacity = int(capacity_factor * (d_model / num_experts))`: a function of the width, not of the tokens, and
 *   never used by `forward`;
 * - `self.k` is never set: `forward` fails with Python's AttributeError until a caller sets `k`;
 * - with `k` set, `expert_outputs[exp_idx]` indexes a Python list with a tensor of N indices: torch raises a
 *   TypeError unless N = 1;
 * - `_create_mask` returns zeros, so the output (for one token, the only case that runs) is always 0;
 * - every expert runs on every token (`[expert(x) for expert in self.experts]`), selected or not.
 */
export class DynamicMoE extends Module {
  readonly experts: SwiGLU[];
  /** nn.Linear(d_model, num_experts): a bias, as torch's default. */
  readonly gate: Linear;
  /** int(capacity_factor · d_model / num_experts), Python's truncation. */
  readonly capacity: number;
  private kValue: number | undefined = undefined;

  constructor(
    readonly dModel: number,
    readonly numExperts = 64,
    readonly capacityFactor = 1.2,
    readonly expertHidden = 4 * dModel,
  ) {
    super();
    const fn = "articleSnippets.DynamicMoE(dModel, numExperts, capacityFactor, expertHidden)";
    checkPositiveInt(fn, "dModel", dModel);
    checkPositiveInt(fn, "numExperts", numExperts);
    checkPositiveInt(fn, "expertHidden", expertHidden);
    if (!(Number.isFinite(capacityFactor) && capacityFactor > 0))
      throw new Error(`${fn}: capacityFactor must be a finite number > 0, got ${capacityFactor}`);
    this.experts = Array.from({ length: numExperts }, (_, e) =>
      this.child(`experts_${e}`, new SwiGLU(dModel, expertHidden)),
    );
    this.gate = this.child("gate", new Linear(dModel, numExperts, { bias: true }));
    this.capacity = Math.trunc(capacityFactor * (dModel / numExperts));
  }

  /** `self.k`: the article reads it and never sets it. Reading it before a caller sets it fails as Python does. */
  get k(): number {
    if (this.kValue === undefined) throw new Error("AttributeError: 'DynamicMoE' object has no attribute 'k'");
    return this.kValue;
  }

  /** Sets what the article forgot (a reader's patch, to see how far the code then gets). */
  set k(value: number) {
    checkPositiveInt("articleSnippets.DynamicMoE.k", "k", value);
    if (value > this.numExperts)
      throw new Error(`DynamicMoE.k: k must be ≤ numExperts (${this.numExperts}), got ${value}`);
    this.kValue = value;
  }

  /** `forward(x)`, x [N, dModel] → [N, dModel], line by line as the article writes it. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    checkShape("DynamicMoE.forward(x)", "x", x.shape, ["N", this.dModel]);
    return tf.tidy(() => {
      const logits = this.gate.apply(x); // [N, E]
      const routingWeights = tf.softmax(logits, -1); // [N, E]
      const topK = tf.topk(routingWeights, this.k); // values, indices [N, k]
      const selectedExperts = topK.indices as tf.Tensor2D; // [N, k]
      const mask = this.createMask(selectedExperts); // [N, k]
      const expertOutputs = this.experts.map((expert) => expert.apply(x)); // E × [N, dModel]
      let output: tf.Tensor = tf.zerosLike(x); // [N, dModel]
      for (let i = 0; i < this.k; i++) {
        const expIdx = tf.squeeze(tf.slice(selectedExperts, [0, i], [-1, 1]), [1]); // [N]
        const maskI = tf.slice(mask, [0, i], [-1, 1]); // [N, 1] = mask[:, i].unsqueeze(-1)
        output = tf.add(output, tf.mul(pyListIndex(expertOutputs, expIdx), maskI)); // [N, dModel]
      }
      return output as tf.Tensor2D;
    });
  }

  /** `_create_mask(indices)`: the article's "capacity control mask", zeros of [N, k] (its logic is left as "..."). */
  createMask(indices: tf.Tensor2D): tf.Tensor2D {
    return tf.zeros([indices.shape[0], this.k]); // [N, k]
  }
}

/** What `dynamic_routing` asks of an expert: a score for the token and its output. */
export interface ScoringExpert {
  /** `expert.compute_score(input_token)`: one number. */
  computeScore(inputToken: tf.Tensor1D): number;
  /** `expert.forward(input_token)`: [dModel]. */
  forward(inputToken: tf.Tensor1D): tf.Tensor1D;
}

/** An expert for `dynamicRouting`: score = s·x with its own vector s [dModel], output = SwiGLU(x). */
export class ScoredExpert extends Module implements ScoringExpert {
  readonly scoreVector: tf.Variable; // [dModel]
  readonly ffn: SwiGLU;

  constructor(
    readonly dModel: number,
    hidden = 4 * dModel,
  ) {
    super();
    this.ffn = this.child("ffn", new SwiGLU(dModel, hidden));
    this.scoreVector = this.param("score", randomNormal([dModel], 0, 1 / Math.sqrt(dModel)));
  }

  computeScore(inputToken: tf.Tensor1D): number {
    return tf.tidy(() => tf.sum(tf.mul(this.scoreVector, inputToken)).dataSync()[0]);
  }

  forward(inputToken: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.squeeze(this.ffn.apply(tf.expandDims(inputToken, 0)), [0]) as tf.Tensor1D); // [dModel]
  }
}

/**
 * `dynamic_routing(input_token, experts)` as the article writes it: every expert scores the token, the two best
 * (`np.argsort(scores)[-2:]`, ascending) run, and their outputs are averaged with equal weight 1/2. Kept as written:
 * the scores only rank (no gate weight reaches the output, so a router trained through it gets no gradient), one
 * token per call, and with a single expert its output is halved. Ties rank by position (a stable sort; NumPy's default
 * quicksort does not promise an order).
 */
export function dynamicRouting(inputToken: tf.Tensor1D, experts: readonly ScoringExpert[]): tf.Tensor1D {
  checkShape("articleSnippets.dynamicRouting(inputToken, experts)", "inputToken", inputToken.shape, ["D"]);
  if (experts.length === 0) throw new Error("articleSnippets.dynamicRouting: experts must be a non-empty array");
  const scores = experts.map((expert) => expert.computeScore(inputToken));
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b] || a - b); // np.argsort
  const topKIndices = order.slice(-2);
  return tf.tidy(() => tf.div(tf.addN(topKIndices.map((i) => experts[i].forward(inputToken))), 2)); // [D]
}
