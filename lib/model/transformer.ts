// Decoder-only transformer language model: token embedding (+ learned positions, or RoPE in attention) → blocks
// (causal attention, dense or MoE FFN) → norm → tied or untied head; next-token cross-entropy plus the MoE layers'
// auxiliary losses. References: nanoGPT model.py `GPT`, DeepSeek-V3 inference/model.py `Transformer`.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { Linear } from "../nn/linear";
import { checkBf16, linearProduct, withMatmulPrecision } from "../nn/precision";
import { MoELayer } from "../moe";
import { softmaxCrossEntropy } from "../ops/cross-entropy";
import { Block } from "./block";
import { checkpointedBlock } from "./checkpointing";
import { countParams, lmConfig, LMConfig, ParamCounts } from "./config";
import { Embedding } from "./embedding";
import { KVCache } from "./kv-cache";
import { LayerNorm, makeNorm, RMSNorm } from "./norm";
import { ropeFor } from "./attention-kind";

/** The blocks as numbered children ("layers.0.attn.wqkv.weight" ...). */
class Layers extends Module {
  constructor(readonly blocks: readonly Block[]) {
    super();
    blocks.forEach((block, i) => this.child(String(i), block));
  }
}

/** A forward pass's outputs. */
export interface LMOutput {
  logits: tf.Tensor3D; // [B, T, V]
  /** Sum of the MoE layers' coefficient-weighted auxiliary losses (0 for a dense model). */
  auxLoss: tf.Scalar;
  /** Per MoE layer (in order), tokens routed to each expert [E]. */
  loads: tf.Tensor1D[];
  /** Per MoE layer, the experts each token was sent to [B·T, topK] int32. */
  indices: tf.Tensor2D[];
}

/** The training objective and its parts. */
export interface LMLoss extends Omit<LMOutput, "logits"> {
  /** ce + auxLoss: what the optimizer minimises. */
  loss: tf.Scalar;
  /** Mean next-token cross-entropy (nats). */
  ce: tf.Scalar;
}

/** The loss in lab.train.fit's form: the objective, its parts to log, and the expert loads for afterStep. */
export interface LMStepLoss {
  loss: tf.Scalar;
  /** "ce" and "aux" (the parts of loss). */
  metrics: Record<string, tf.Scalar>;
  /** "load.<i>": tokens routed to each expert [E] in the i-th MoE layer (empty for a dense model). */
  aux: Record<string, tf.Tensor>;
}

export class TransformerLM extends Module {
  readonly config: LMConfig;
  readonly embed: Embedding;
  /** The learned position table [contextLen, d] (positions "learned"), else null (RoPE). */
  readonly pos: Embedding | null;
  readonly blocks: readonly Block[];
  readonly norm: RMSNorm | LayerNorm;
  readonly head: Linear | null;

  /** Weights drawn from the global seeded stream: call lab.seed(n) first for a reproducible model. */
  constructor(config: Partial<LMConfig> = {}) {
    super();
    this.config = lmConfig(config);
    const { vocabSize: V, dim: d, nLayers, contextLen, norm, normEps, initStd } = this.config;
    this.embed = this.child("embed", new Embedding(V, d, initStd));
    this.pos = this.config.positions === "learned" ? this.child("pos", new Embedding(contextLen, d, initStd)) : null;
    this.blocks = this.child("layers", new Layers(Array.from({ length: nLayers }, (_, l) => new Block(this.config, l)))).blocks;
    this.norm = this.child("norm", makeNorm(norm, d, normEps));
    this.head = this.config.tiedHead ? null : this.child("head", new Linear(d, V, { initStd }));
    if (this.config.precision === "bf16") checkBf16("TransformerLM(config.precision)");
  }

  /** The MoE layers, in block order. */
  moeLayers(): MoELayer[] {
    return this.blocks.map((b) => b.ffn).filter((f): f is MoELayer => f instanceof MoELayer);
  }

  /** Total and active parameter counts (config.countParams). */
  counts(): ParamCounts {
    return countParams(this.config);
  }

  /** An empty KV cache for incremental decoding with forward(tokens, cache). */
  newCache(): KVCache {
    return new KVCache(this.config.nLayers);
  }

  /**
   * tokens [B, T] int32 in [0, vocabSize) → logits [B, T, V]. With `cache`, the tokens continue the cached sequence
   * (positions cache.length …) and are appended to it; cache.length + T must not exceed contextLen. Cached and
   * full passes agree for dense and dropless MoE models; with an MoE capacity factor, which tokens are dropped
   * depends on how many are routed together, so they can differ.
   */
  forward(tokens: tf.Tensor2D, cache?: KVCache): LMOutput {
    const fn = "TransformerLM.forward(tokens)";
    if (tokens.rank !== 2 || tokens.dtype !== "int32") throw new Error(`${fn}: expected int32 [B, T], got ${tokens.dtype} [${tokens.shape}]`);
    const [B, T] = tokens.shape;
    const { vocabSize: V, dim: d, contextLen } = this.config;
    const offset = cache ? cache.length : 0;
    if (offset + T > contextLen) {
      throw new Error(`${fn}: sequence length ${offset + T}${cache ? ` (${offset} cached + ${T})` : ""} exceeds contextLen ${contextLen}`);
    }
    this.checkVocab(fn, tokens);
    return withMatmulPrecision(this.config.precision, () => tf.tidy(() => {
      const rope = this.pos ? null : ropeFor(this.config, offset, T); // [T, ropeDim/2] each, or none with learned positions
      let x = this.embed.apply(tokens) as tf.Tensor3D; // [B, T, d]
      if (this.pos) x = tf.add(x, tf.slice(this.pos.weight, [offset, 0], [T, d])); // [B, T, d] + [T, d]
      const aux: tf.Scalar[] = [];
      const loads: tf.Tensor1D[] = [];
      const indices: tf.Tensor2D[] = [];
      this.blocks.forEach((block, layer) => {
        const out = this.config.checkpoint && !cache ? checkpointedBlock(block, x, rope) : block.apply(x, rope, cache ? { cache, layer } : undefined);
        x = out.x;
        if (out.moe) {
          aux.push(out.moe.auxLoss);
          loads.push(out.moe.load);
          indices.push(out.moe.indices);
        }
      });
      cache?.advance(T);
      const h = tf.reshape(this.norm.apply(x), [B * T, d]) as tf.Tensor2D; // [N, d]
      const logits = this.head ? this.head.apply(h) : linearProduct(h, this.embed.weight as tf.Tensor2D); // [N, V]
      const auxLoss = (aux.length ? tf.addN(aux) : tf.scalar(0)) as tf.Scalar;
      return { logits: tf.reshape(logits, [B, T, V]) as tf.Tensor3D, auxLoss, loads, indices };
    }));
  }

  /** The model's call (lab.nn.Module's convention): tokens [B, T] → logits [B, T, V]; forward() adds aux loss, loads. */
  apply(tokens: tf.Tensor2D, cache?: KVCache): tf.Tensor3D {
    const { logits, auxLoss, loads, indices } = this.forward(tokens, cache);
    tf.dispose([auxLoss, ...loads, ...indices]);
    return logits; // [B, T, V]
  }

  /** Next-token loss of inputs [B, T] against targets [B, T] (both int32): cross-entropy + the MoE aux losses. */
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): LMLoss {
    if (!tf.util.arraysEqual(inputs.shape, targets.shape) || targets.dtype !== "int32") {
      throw new Error(`TransformerLM.loss(inputs, targets): targets must be int32 [${inputs.shape}], got ${targets.dtype} [${targets.shape}]`);
    }
    return tf.tidy(() => {
      const { logits, auxLoss, loads, indices } = this.forward(inputs);
      const [B, T, V] = logits.shape;
      const ce = softmaxCrossEntropy(tf.reshape(logits, [B * T, V]) as tf.Tensor2D, tf.reshape(targets, [B * T]) as tf.Tensor1D); // []
      return { loss: tf.add(ce, auxLoss) as tf.Scalar, ce, auxLoss, loads, indices };
    });
  }

  /** loss(inputs, targets) as lab.train.fit's loss function returns it: `loss: (b) => model.stepLoss(b.inputs, b.targets)`. */
  stepLoss(inputs: tf.Tensor2D, targets: tf.Tensor2D): LMStepLoss {
    return tf.tidy(() => {
      const out = this.loss(inputs, targets);
      const aux = Object.fromEntries(out.loads.map((load, i) => [`load.${i}`, load]));
      return { loss: out.loss, metrics: { ce: out.ce, aux: out.auxLoss }, aux };
    });
  }

  /**
   * After an optimizer step (fit's afterStep: `(info) => model.afterStep(info.aux)`): applies each MoE layer's
   * aux-loss-free bias update (a no-op unless its balance is "auxfree") from stepLoss's loads, and returns the loads
   * as numbers, one [E] array per MoE layer.
   */
  afterStep(aux: Record<string, tf.Tensor>): number[][] {
    return this.moeLayers().map((layer, i) => {
      const load = aux[`load.${i}`];
      if (!load) throw new Error(`TransformerLM.afterStep(aux): missing "load.${i}" (pass the aux of stepLoss)`);
      layer.updateBias(load as tf.Tensor1D);
      return Array.from(load.dataSync());
    });
  }

  private checkVocab(fn: string, ids: tf.Tensor): void {
    const values = ids.dataSync();
    const V = this.config.vocabSize;
    for (let i = 0; i < values.length; i++) {
      if (!(values[i] >= 0 && values[i] < V)) throw new Error(`${fn}: token id ${values[i]} at index ${i} is outside the vocabulary [0, ${V})`);
    }
  }
}
