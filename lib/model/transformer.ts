// Decoder-only transformer language model: token embedding (+ learned positions, or RoPE in attention) → blocks
// (causal attention, dense or MoE FFN) → norm → tied or untied head; next-token cross-entropy plus the MoE layers'
// auxiliary losses, plus the multi-token-prediction loss when mtpDepth > 0 (lib/model/mtp.ts). References: nanoGPT
// model.py `GPT`, DeepSeek-V3 inference/model.py `Transformer`, DeepSeek-V3 report §2.2 (MTP).
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { Linear } from "../nn/linear";
import { checkBf16, linearProduct, withMatmulPrecision } from "../nn/precision";
import { MoELayer } from "../moe";
import { softmaxCrossEntropy } from "../ops/cross-entropy";
import { Block, type BlockOutput } from "./block";
import { checkpointedBlock, type CheckpointedOutput } from "./checkpointing";
import { countParams, lmConfig, LMConfig, ParamCounts } from "./config";
import { Embedding } from "./embedding";
import { KVCache } from "./kv-cache";
import { LayerNorm, makeNorm, RMSNorm } from "./norm";
import { ropeFor, rowRopeFor, slidingWindow } from "./attention-kind";
import { checkParamsFit, freeOnThrow } from "../nn/construction";
import { MTPModules } from "./mtp";
import { checkPositions, clampedPositions, rowMask } from "./row-positions";

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
  /** Sum of the MoE layers' coefficient-weighted auxiliary losses (0 for a dense model, and when decoding with a cache
   * or per-row positions: inference computes no training loss). */
  auxLoss: tf.Scalar;
  /** Per MoE layer (in order), tokens routed to each expert [E]. */
  loads: tf.Tensor1D[];
  /** Per MoE layer, the experts each token was sent to [B·T, topK] int32. */
  indices: tf.Tensor2D[];
}

/** forward's outputs and the final hidden states (after the last norm: what the head and the first MTP module read). */
export interface LMHiddenOutput extends LMOutput {
  hidden: tf.Tensor3D; // [B, T, d]
}

/** The training objective and its parts. */
export interface LMLoss extends Omit<LMOutput, "logits"> {
  /** ce + auxLoss + mtpLoss: what the optimizer minimises. */
  loss: tf.Scalar;
  /** Mean next-token cross-entropy of the main model (nats). */
  ce: tf.Scalar;
  /** λ/D·Σ_k L_k over the D MTP modules (0 when mtpDepth is 0). */
  mtpLoss: tf.Scalar;
  /** L_k per MTP module: mean cross-entropy of the token k + 1 ahead over the positions that have one. */
  mtpCe: tf.Scalar[];
  /** Per MTP module with an MoE FFN, tokens routed to each expert [E] (their aux losses are in auxLoss). */
  mtpLoads: tf.Tensor1D[];
}

/** The loss in lab.train.fit's form: the objective, its parts to log, and the expert loads for afterStep. */
export interface LMStepLoss {
  loss: tf.Scalar;
  /** "ce" and "aux" (the parts of loss), and with MTP "mtp" (λ/D·Σ L_k) and "mtp.<k>" (L_k, k = 1 … D). */
  metrics: Record<string, tf.Scalar>;
  /** "load.<i>": tokens routed to each expert [E] in the i-th MoE layer (empty for a dense model); "mtp.load.<k>"
   * the same for MTP module k's MoE block. */
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
  /** The mtpDepth multi-token-prediction modules (null when mtpDepth is 0). */
  readonly mtp: MTPModules | null;

  /** Weights drawn from the global seeded stream: call lab.seed(n) first for a reproducible model. */
  constructor(config: Partial<LMConfig> = {}) {
    super();
    this.config = lmConfig(config);
    checkParamsFit("TransformerLM(config)", countParams(this.config).total);
    const { vocabSize: V, dim: d, nLayers, contextLen, norm, normEps, initStd } = this.config;
    if (this.config.precision === "bf16") checkBf16("TransformerLM(config.precision)");
    const parts = freeOnThrow(() => {
      const embed = this.child("embed", new Embedding(V, d, initStd));
      const pos = this.config.positions === "learned" ? this.child("pos", new Embedding(contextLen, d, initStd)) : null;
      const blocks = this.child(
        "layers",
        new Layers(Array.from({ length: nLayers }, (_, l) => new Block(this.config, l))),
      ).blocks;
      const normLayer = this.child("norm", makeNorm(norm, d, normEps));
      const head = this.config.tiedHead ? null : this.child("head", new Linear(d, V, { initStd }));
      const mtp = this.config.mtpDepth > 0 ? this.child("mtp", new MTPModules(this.config)) : null;
      return { embed, pos, blocks, normLayer, head, mtp };
    });
    this.embed = parts.embed;
    this.pos = parts.pos;
    this.blocks = parts.blocks;
    this.norm = parts.normLayer;
    this.head = parts.head;
    this.mtp = parts.mtp;
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
   *
   * `positions` [B·T] (row-major; lab.model.PAD_POSITION = −1 marks padding) gives every row its own absolute
   * positions — a ragged batch (left-padded prompts, rows that joined a running batch): RoPE angles or learned
   * positions are taken per token and each row attends only to its own real, earlier keys (rowMask). With a cache, the
   * cache is then in row mode (KVCache.keySlots / addRows / selectRows / compact); every position must be < contextLen.
   */
  forward(tokens: tf.Tensor2D, cache?: KVCache, positions?: Int32Array): LMOutput {
    return tf.tidy(() => {
      const { hidden, ...out } = this.forwardHidden(tokens, cache, positions);
      return out as unknown as tf.TensorContainer;
    }) as unknown as LMOutput;
  }

  /** forward(tokens, cache, positions) that also returns the final hidden states [B, T, d] (normed; the head's input). */
  forwardHidden(tokens: tf.Tensor2D, cache?: KVCache, positions?: Int32Array): LMHiddenOutput {
    const fn = "TransformerLM.forward(tokens)";
    if (tokens.rank !== 2 || tokens.dtype !== "int32")
      throw new Error(`${fn}: expected int32 [B, T], got ${tokens.dtype} [${tokens.shape}]`);
    const [B, T] = tokens.shape;
    const { vocabSize: V, dim: d, contextLen } = this.config;
    const offset = cache ? cache.length : 0;
    if (positions) {
      checkPositions(fn, positions, B, T);
      const last = positions.reduce((m, p) => Math.max(m, p), 0);
      if (last >= contextLen) throw new Error(`${fn}: position ${last} is outside contextLen ${contextLen}`);
    } else if (offset + T > contextLen) {
      throw new Error(
        `${fn}: sequence length ${offset + T}${cache ? ` (${offset} cached + ${T})` : ""} exceeds contextLen ${contextLen}`,
      );
    }
    this.checkVocab(fn, tokens);
    const window = slidingWindow(this.config);
    const step = cache ? cache.stepPositions(B, T, window, positions) : null; // where the queries and cached keys sit
    const keys = positions ? (step ? step.keys : positions) : null; // [B·S] per-row key positions
    return withMatmulPrecision(this.config.precision, () =>
      tf.tidy(() => {
        const at = positions ? clampedPositions(positions) : null;
        const rope = this.pos ? null : at ? rowRopeFor(this.config, at, B, T) : ropeFor(this.config, offset, T); // [B, 1, T, ropeDim/2] or [T, ropeDim/2] each
        let x = this.embed.apply(tokens) as tf.Tensor3D; // [B, T, d]
        if (this.pos) {
          const rows = at
            ? tf.reshape(tf.gather(this.pos.weight, tf.tensor1d(at, "int32")), [B, T, d])
            : tf.slice(this.pos.weight, [offset, 0], [T, d]); // [B, T, d] or [T, d]
          x = tf.add(x, rows); // [B, T, d]
        }
        const mask =
          keys && !cache ? rowMask({ B, T, S: keys.length / B, query: positions!, keys }, window) : undefined; // [B, 1, T, S]
        const stepAt = step
          ? {
              query: tf.tensor2d(step.query, [B, T], "int32"),
              keys: tf.tensor2d(step.keys, [B, step.keys.length / B], "int32"),
            }
          : undefined; // [B, T], [B, S]
        const aux: tf.Scalar[] = [];
        const loads: tf.Tensor1D[] = [];
        const indices: tf.Tensor2D[] = [];
        let normed: tf.Tensor3D | null = null; // the next norm of x, fused with the last block's residual add
        this.blocks.forEach((block, layer) => {
          const slot = cache ? { cache, layer, positions: stepAt, shared: !positions } : undefined;
          const next = layer + 1 < this.blocks.length ? this.blocks[layer + 1].attnNorm : this.norm;
          const chain = { normed, next: next instanceof RMSNorm ? next : null };
          const out =
            this.config.checkpoint && !cache && !mask
              ? checkpointedBlock(block, x, rope)
              : block.apply(x, rope, slot, mask, chain);
          x = out.x;
          normed = (out as Partial<BlockOutput>).normed ?? null; // (a checkpointed block has none)
          if (out.moe) {
            aux.push(out.moe.auxLoss);
            loads.push(out.moe.load);
            indices.push(out.moe.indices);
          }
        });
        cache?.advance(T, keys ?? undefined);
        if (cache && keys && window) cache.evictOutside(window); // rows drop what their window no longer sees
        const hidden = normed ?? (this.norm.apply(x) as tf.Tensor3D); // [B, T, d]
        const logits = this.headLogits(tf.reshape(hidden, [B * T, d]) as tf.Tensor2D); // [N, V]
        const auxLoss = (aux.length ? tf.addN(aux) : tf.scalar(0)) as tf.Scalar;
        return { logits: tf.reshape(logits, [B, T, V]) as tf.Tensor3D, auxLoss, loads, indices, hidden };
      }),
    );
  }

  /** The output head (shared by the main model and every MTP module): h [N, d] → logits [N, V]. */
  headLogits(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(
      () => (this.head ? this.head.apply(h) : linearProduct(h, this.embed.weight as tf.Tensor2D)) as tf.Tensor2D,
    ); // [N, V] (bf16 in withMatmulPrecision)
  }

  /** The model's call (lab.nn.Module's convention): tokens [B, T] → logits [B, T, V]; forward() adds aux loss, loads. */
  apply(tokens: tf.Tensor2D, cache?: KVCache): tf.Tensor3D {
    const { logits, auxLoss, loads, indices } = this.forward(tokens, cache);
    tf.dispose([auxLoss, ...loads, ...indices]);
    return logits; // [B, T, V]
  }

  /**
   * Next-token loss of inputs [B, T] against targets [B, T] (both int32): cross-entropy + the MoE aux losses, plus with
   * mtpDepth = D > 0 the MTP loss λ/D·Σ_k L_k (DeepSeek-V3 eq. 25). Module k reads the previous depth's hidden state at
   * positions i < T − k (the main model's final hidden state for k = 1) with the embedding of token i + k
   * (inputs[:, k:]) and predicts token i + k + 1 (targets[:, k:]); T must exceed D.
   */
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): LMLoss {
    const fn = "TransformerLM.loss(inputs, targets)";
    if (!tf.util.arraysEqual(inputs.shape, targets.shape) || targets.dtype !== "int32") {
      throw new Error(`${fn}: targets must be int32 [${inputs.shape}], got ${targets.dtype} [${targets.shape}]`);
    }
    const D = this.config.mtpDepth;
    if (D > 0 && inputs.shape[1] <= D)
      throw new Error(
        `${fn}: sequence length ${inputs.shape[1]} must exceed mtpDepth ${D} (module k needs a target k + 1 ahead)`,
      );
    if (D > 0) this.checkVocab(fn, targets);
    return tf.tidy(() => {
      const { logits, auxLoss, loads, indices, hidden } = this.forwardHidden(inputs);
      const [B, T, V] = logits.shape;
      const ce = softmaxCrossEntropy(
        tf.reshape(logits, [B * T, V]) as tf.Tensor2D,
        tf.reshape(targets, [B * T]) as tf.Tensor1D,
      ); // []
      const mtpCe: tf.Scalar[] = [];
      const mtpLoads: tf.Tensor1D[] = [];
      const mtpAux: tf.Scalar[] = [];
      this.mtpHeads(hidden, inputs).forEach(({ logits: logitsK, moe }, i) => {
        const k = i + 1;
        const n = T - k; // positions with a target k + 1 ahead
        mtpCe.push(softmaxCrossEntropy(logitsK, tf.reshape(tf.slice(targets, [0, k], [B, n]), [B * n]) as tf.Tensor1D)); // []
        if (moe) {
          mtpAux.push(moe.auxLoss);
          mtpLoads.push(moe.load);
          moe.indices.dispose();
        }
      });
      const mtpLoss = (D > 0 ? tf.mul(tf.addN(mtpCe), this.config.mtpLambda / D) : tf.scalar(0)) as tf.Scalar; // []
      const allAux = (mtpAux.length ? tf.addN([auxLoss, ...mtpAux]) : auxLoss) as tf.Scalar;
      return {
        loss: tf.addN([ce, allAux, mtpLoss]) as tf.Scalar,
        ce,
        auxLoss: allAux,
        loads,
        indices,
        mtpLoss,
        mtpCe,
        mtpLoads,
      } as unknown as tf.TensorContainer;
    }) as unknown as LMLoss;
  }

  /**
   * The MTP modules' predictions for inputs [B, T] (int32): module k's logits [B, T − k, V] of token i + k + 1 at
   * positions i < T − k, and its MoE block's expert choices [B·(T − k), topK] (null for a dense block).
   */
  mtpLogits(inputs: tf.Tensor2D): { logits: tf.Tensor3D; indices: tf.Tensor2D | null }[] {
    const fn = "TransformerLM.mtpLogits(inputs)";
    if (!this.mtp) throw new Error(`${fn}: the model has no MTP module (config.mtpDepth is 0)`);
    if (inputs.rank !== 2 || inputs.shape[1] <= this.config.mtpDepth)
      throw new Error(`${fn}: expected int32 [B, T] with T > mtpDepth ${this.config.mtpDepth}, got [${inputs.shape}]`);
    const [B, T] = inputs.shape;
    return tf.tidy(
      () =>
        this.mtpHeads(this.forwardHidden(inputs).hidden, inputs).map(({ logits, moe }, i) => ({
          logits: tf.reshape(logits, [B, T - i - 1, this.config.vocabSize]) as tf.Tensor3D, // [B, T − k, V]
          indices: moe ? moe.indices : null,
        })) as unknown as tf.TensorContainer,
    ) as unknown as { logits: tf.Tensor3D; indices: tf.Tensor2D | null }[];
  }

  /** Runs the MTP modules in sequence on the main model's final hidden states [B, T, d] and inputs [B, T]: module k's
   * logits [B·(T − k), V] (positions i < T − k, reading the embedding of inputs[:, i + k]) and its routing outputs. */
  private mtpHeads(
    hidden: tf.Tensor3D,
    inputs: tf.Tensor2D,
  ): { logits: tf.Tensor2D; moe: CheckpointedOutput["moe"] }[] {
    const [B, T] = inputs.shape;
    let h = hidden; // [B, T − k + 1, d] at depth k − 1
    return (this.mtp?.modules ?? []).map((module, i) => {
      const k = i + 1;
      const n = T - k;
      const prev = tf.slice(h, [0, 0, 0], [B, n, -1]) as tf.Tensor3D; // [B, n, d]
      const nextEmb = this.embed.apply(tf.slice(inputs, [0, k], [B, n])) as tf.Tensor3D; // [B, n, d]
      const out = module.apply(prev, nextEmb, this.pos ? null : ropeFor(this.config, 0, n));
      h = out.x; // [B, n, d]
      return { logits: this.headLogits(tf.reshape(module.norm.apply(h), [B * n, -1]) as tf.Tensor2D), moe: out.moe }; // [B·n, V]
    });
  }

  /** loss(inputs, targets) as lab.train.fit's loss function returns it: `loss: (b) => model.stepLoss(b.inputs, b.targets)`. */
  stepLoss(inputs: tf.Tensor2D, targets: tf.Tensor2D): LMStepLoss {
    return tf.tidy(() => {
      const out = this.loss(inputs, targets);
      const aux: Record<string, tf.Tensor> = Object.fromEntries(out.loads.map((load, i) => [`load.${i}`, load]));
      out.mtpLoads.forEach((load, k) => (aux[`mtp.load.${k}`] = load));
      const metrics: Record<string, tf.Scalar> = { ce: out.ce, aux: out.auxLoss };
      if (this.mtp) {
        metrics.mtp = out.mtpLoss;
        out.mtpCe.forEach((l, k) => (metrics[`mtp.${k + 1}`] = l));
      }
      return { loss: out.loss, metrics, aux } as unknown as tf.TensorContainer;
    }) as unknown as LMStepLoss;
  }

  /**
   * After an optimizer step (fit's afterStep: `(info) => model.afterStep(info.aux)`): applies each MoE layer's
   * aux-loss-free bias update (a no-op unless its balance is "auxfree") from stepLoss's loads, and returns the loads
   * as numbers, one [E] array per MoE layer (the main blocks', then the MTP modules' MoE blocks).
   */
  afterStep(aux: Record<string, tf.Tensor>): number[][] {
    const layers = [
      ...this.moeLayers().map((layer, i) => [layer, `load.${i}`] as const),
      ...this.mtpMoELayers().map((layer, k) => [layer, `mtp.load.${k}`] as const),
    ];
    return layers.map(([layer, key]) => {
      const load = aux[key];
      if (!load) throw new Error(`TransformerLM.afterStep(aux): missing "${key}" (pass the aux of stepLoss)`);
      layer.updateBias(load as tf.Tensor1D);
      return Array.from(load.dataSync());
    });
  }

  /** The MTP modules' MoE layers, in module order (empty without MTP or with a dense last block). */
  mtpMoELayers(): MoELayer[] {
    return (this.mtp?.modules ?? []).map((m) => m.block.ffn).filter((f): f is MoELayer => f instanceof MoELayer);
  }

  private checkVocab(fn: string, ids: tf.Tensor): void {
    const values = ids.dataSync();
    const V = this.config.vocabSize;
    for (let i = 0; i < values.length; i++) {
      if (!(values[i] >= 0 && values[i] < V))
        throw new Error(`${fn}: token id ${values[i]} at index ${i} is outside the vocabulary [0, ${V})`);
    }
  }
}
