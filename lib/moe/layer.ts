// The MoE layer: y = Σ_selected w·E_i(x) + shared(x) with SwiGLU experts, a DeepSeek/Switch/Mixtral/expert-choice
// router, optional capacity with token dropping, and the configured balance loss. Reference: DeepSeek-V3 model.py `MoE`
// (gate, experts, shared_experts); DeepSeekMoE (shared + fine-grained experts).
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { SwiGLU } from "../nn/swiglu";
import { checkPositiveInt, checkShape } from "../check";
import { auxFreeBiasUpdate, groupBalanceLoss, mseLoss, sequenceWiseLoss, switchLoss, zLoss } from "./balance";
import { moeConfig, moeParamCounts, type MoEConfig } from "./config";
import { RoutedExperts } from "./experts";
import type { RoutingPlan } from "./plan";
import { Router, type Route } from "./router";

/** What one MoE layer call returns. */
export interface MoEOutput {
  /** Layer output (routed + shared; dropped tokens get only the shared part: the residual carries them), [N, dim]. */
  y: tf.Tensor2D;
  /** Coefficient-weighted balance loss + group loss + z-loss (0 when none); add it to the training loss. */
  auxLoss: tf.Scalar;
  /** Tokens routed to each expert before capacity (float32, not differentiable), [E]. */
  load: tf.Tensor1D;
  /** Selected experts, [N, topK] int32 (expert-choice: the experts that chose the token, −1 padded). */
  indices: tf.Tensor2D;
  /** Share of selected (token, expert) pairs dropped by capacity. */
  droppedFraction: number;
  /** The routing plan (slot layout per expert) of this call. */
  plan: RoutingPlan;
}

/** Per-call options. */
export interface MoEForwardOptions {
  /** Sequence length for the sequence-wise loss (rows are row-major by sequence); default: all N rows are one sequence. */
  seqLen?: number;
  /** Compute the balance / z-loss terms (training); false gives auxLoss 0 and skips that work (decoding). Default true. */
  auxLoss?: boolean;
}

export class MoELayer extends Module {
  readonly config: MoEConfig;
  /** Hidden width of one routed expert. */
  readonly hidden: number;
  readonly gate: Router;
  readonly experts: RoutedExperts;
  /** The nShared shared experts as one SwiGLU of width nShared·hidden, or null. */
  readonly shared: SwiGLU | null;

  constructor(
    readonly dim: number,
    config: Partial<MoEConfig> = {},
  ) {
    super();
    checkPositiveInt("MoELayer", "dim", dim);
    this.config = moeConfig(config); // a resolved config (e.g. from lmConfig) is taken as given
    const cfg = this.config;
    this.hidden = cfg.expertHidden ?? dim;
    this.gate = this.child("gate", new Router(dim, cfg));
    this.experts = this.child("experts", new RoutedExperts(cfg.nRouted, dim, this.hidden, cfg.initStd));
    this.shared =
      cfg.nShared > 0
        ? this.child("shared", new SwiGLU(dim, cfg.nShared * this.hidden, { initStd: cfg.initStd }))
        : null;
  }

  /** The layer's call (lab.nn.Module's convention): x [N, dim] → y [N, dim]; forward() adds the aux loss and statistics. */
  apply(x: tf.Tensor2D, opts: MoEForwardOptions = {}): tf.Tensor2D {
    const { y, auxLoss, load, indices } = this.forward(x, opts);
    tf.dispose([auxLoss, load, indices]);
    return y; // [N, dim]
  }

  /** x [N, dim] → y [N, dim] plus the auxiliary loss and routing statistics. */
  forward(x: tf.Tensor2D, opts: MoEForwardOptions = {}): MoEOutput {
    checkShape("MoELayer.forward", "x", x.shape, ["tokens", { dim: this.dim }]);
    checkPositiveInt("MoELayer.forward", "x.shape[0] (tokens N)", x.shape[0]);
    const route = this.gate.route(x);
    try {
      const tensors = tf.tidy(() => {
        const routed =
          this.config.impl === "naive"
            ? this.experts.applyNaive(x, route.slotWeights, route.plan)
            : this.experts.apply(x, route.slotWeights, route.plan); // [N, dim]
        const y = (this.shared ? tf.add(routed, this.shared.apply(x)) : routed) as tf.Tensor2D; // [N, dim]
        const load = tf.tensor1d(Float32Array.from(route.plan.routed)); // [E]
        const auxLoss = opts.auxLoss === false ? tf.scalar(0) : this.auxLoss(route, opts.seqLen ?? x.shape[0]);
        return { y, auxLoss, load, indices: tf.clone(route.indices) };
      });
      const selected = x.shape[0] * this.config.topK;
      const droppedFraction = this.config.routing === "token-choice" ? route.plan.dropped / selected : 0;
      return { ...tensors, droppedFraction, plan: route.plan };
    } finally {
      tf.dispose([route.slotWeights, route.indices, route.scores, route.logits]);
    }
  }

  /** The weighted auxiliary loss of one routing (expert-choice is balanced by construction: z-loss only). */
  private auxLoss(route: Route, seqLen: number): tf.Scalar {
    const cfg = this.config;
    const terms: tf.Scalar[] = [tf.scalar(0)];
    if (cfg.routing === "token-choice") {
      const { scores, indices } = route;
      if (cfg.balance === "switch") terms.push(tf.mul(switchLoss(scores, indices).loss, cfg.balanceCoef));
      if (cfg.balance === "sequence")
        terms.push(tf.mul(sequenceWiseLoss(scores, indices, seqLen).loss, cfg.balanceCoef));
      if (cfg.balance === "mse") terms.push(tf.mul(mseLoss(scores).loss, cfg.balanceCoef));
      if (cfg.groupBalanceCoef > 0)
        terms.push(tf.mul(groupBalanceLoss(scores, indices, cfg.nGroups).loss, cfg.groupBalanceCoef));
    }
    if (cfg.zLossCoef > 0) terms.push(tf.mul(zLoss(route.logits), cfg.zLossCoef));
    return tf.addN(terms) as tf.Scalar;
  }

  /** Aux-loss-free bias update from a step's load [E] (no-op unless balance === "auxfree"); call after the optimizer step. */
  updateBias(load: tf.Tensor1D): void {
    const bias = this.gate.bias;
    if (!bias) return;
    checkShape("MoELayer.updateBias", "load", load.shape, [{ nRouted: this.config.nRouted }]);
    const next = auxFreeBiasUpdate(bias as tf.Tensor1D, load, this.config.biasUpdateRate);
    bias.assign(next);
    next.dispose();
  }

  /** Parameters one token uses: the gate, the shared experts and topK routed experts (vs numParams() in total). */
  activeParams(): number {
    return moeParamCounts(this.dim, this.config).active;
  }
}
