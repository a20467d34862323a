// Router module: holds the gate weight [E, d] (and the aux-loss-free selection bias [E], a buffer updated by rule)
// and turns tokens into a routing plan plus differentiable slot weights. Reference: DeepSeek-V3 model.py `Gate`
// (parameter names gate.weight, gate.bias).
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { randomNormal } from "../random";
import { expertCapacity, gateFields, type MoEConfig } from "./config";
import { expertChoice, gate } from "./gate";
import { gatherRows } from "./rows";
import { expertChoicePlan, tokenChoicePlan, type RoutingPlan } from "./plan";

/** One routing decision. */
export interface Route {
  plan: RoutingPlan;
  /** Combine weight of each slot, [M] (differentiable to x and the gate weight). */
  slotWeights: tf.Tensor1D;
  /** Selected experts per token, [T, k] int32 (expert-choice: the experts that chose the token, −1 padded). */
  indices: tf.Tensor2D;
  /** Unbiased affinities, [T, E]. */
  scores: tf.Tensor2D;
  /** Router logits, [T, E]. */
  logits: tf.Tensor2D;
}

/** Experts that chose each token (expert-choice), in slot order, first k kept, −1 padded: [T·k]. */
function chosenExperts(plan: RoutingPlan, k: number): Int32Array {
  const out = new Int32Array(plan.nTokens * k).fill(-1);
  const expertOfSlot = new Int32Array(plan.nSlots);
  for (let e = 0; e < plan.nExperts; e++) expertOfSlot.fill(e, plan.offsets[e], plan.offsets[e + 1]);
  for (let t = 0; t < plan.nTokens; t++) {
    const n = Math.min(k, plan.tokenStart[t + 1] - plan.tokenStart[t]);
    for (let j = 0; j < n; j++) out[t * k + j] = expertOfSlot[plan.tokenSlots[plan.tokenStart[t] + j]];
  }
  return out;
}

export class Router extends Module {
  readonly weight: tf.Variable; // [E, d]
  /** Aux-loss-free selection bias [E] (balance "auxfree" only). */
  readonly bias: tf.Variable | null;

  constructor(
    readonly dim: number,
    readonly config: MoEConfig,
  ) {
    super();
    this.weight = this.param("weight", randomNormal([config.nRouted, dim], 0, config.initStd ?? 1 / Math.sqrt(dim)));
    this.bias = config.balance === "auxfree" ? this.buffer("bias", tf.zeros([config.nRouted])) : null;
  }

  /** The router's call (lab.nn.Module's convention): route(x). */
  apply(x: tf.Tensor2D): Route {
    return this.route(x);
  }

  /** Routes x [T, d]: gate or expert choice, capacity, plan. Reads the selected indices back to the host. */
  route(x: tf.Tensor2D): Route {
    const cfg = this.config;
    const T = x.shape[0];
    const E = cfg.nRouted;
    let plan = null as RoutingPlan | null; // host arrays stay out of tidy (it would walk them looking for tensors)
    const tensors = tf.tidy(() => {
      const weight = this.weight as tf.Tensor2D;
      if (cfg.routing === "expert-choice") {
        const capacity = Math.min(T, expertCapacity(T, E, cfg.topK, cfg.capacityFactor ?? 1, cfg.minCapacity));
        const ec = expertChoice(x, weight, capacity);
        const p = expertChoicePlan(ec.tokens.dataSync() as Int32Array, T, E, capacity);
        plan = p;
        const indices = tf.tensor2d(chosenExperts(p, cfg.topK), [T, cfg.topK], "int32"); // [T, k]
        return {
          slotWeights: ec.weights.reshape([E * capacity]) as tf.Tensor1D,
          indices,
          scores: ec.scores,
          logits: ec.logits,
        };
      }
      const g = gate(x, weight, this.bias as tf.Tensor1D | null, gateFields(cfg));
      const capacity =
        cfg.capacityFactor === null ? null : expertCapacity(T, E, cfg.topK, cfg.capacityFactor, cfg.minCapacity);
      const p = tokenChoicePlan(g.indices.dataSync() as Int32Array, T, cfg.topK, E, capacity);
      plan = p;
      const slotWeights = gatherRows(g.weights.reshape([T * cfg.topK]), p.slotPair) as tf.Tensor1D; // [M]
      return { slotWeights, indices: g.indices, scores: g.scores, logits: g.logits };
    });
    return { plan: plan!, ...tensors };
  }
}
