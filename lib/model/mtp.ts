// Multi-token prediction (DeepSeek-V3 technical report §2.2): D sequential modules on top of the main model; module k
// combines the previous depth's hidden state at position i with the embedding of token i + k and predicts token
// i + k + 1 through one transformer block and the shared output head. References: the V3 report (eqs. 21–25); the HF
// checkpoint's layer n_layers (enorm, hnorm, eh_proj, shared_head.norm, a full decoder block) as vLLM's
// deepseek_mtp.py reads it: the projection's input is [enorm(embedding); hnorm(hidden)], embedding first.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { Linear } from "../nn/linear";
import { Block } from "./block";
import type { CacheSlot } from "./attention";
import { checkpointedBlock, type CheckpointedOutput } from "./checkpointing";
import type { LMConfig } from "./config";
import { LayerNorm, makeNorm, RMSNorm } from "./norm";
import type { RopeTables } from "./rope";

/** One MTP module: h' = M·[norm(Emb(t_{i+k})); norm(h_i^{k−1})] → Block → (its own norm, then the shared head). */
export class MTPModule extends Module {
  /** RMSNorm of the embedding of token i + k (HF `enorm`). */
  readonly enorm: RMSNorm | LayerNorm;
  /** RMSNorm of the previous depth's hidden state (HF `hnorm`). */
  readonly hnorm: RMSNorm | LayerNorm;
  /** The projection M [d, 2d] (HF `eh_proj`), embedding half first. */
  readonly ehProj: Linear;
  /** One transformer block, built as the main model's last block (dense or MoE FFN alike). */
  readonly block: Block;
  /** The norm before the shared output head (HF `shared_head.norm`). */
  readonly norm: RMSNorm | LayerNorm;

  /** Weights drawn from the global seeded stream, like the main model's. */
  constructor(readonly config: LMConfig) {
    super();
    const { dim: d, norm, normEps } = config;
    this.enorm = this.child("enorm", makeNorm(norm, d, normEps));
    this.hnorm = this.child("hnorm", makeNorm(norm, d, normEps));
    this.ehProj = this.child("eh_proj", new Linear(2 * d, d));
    this.block = this.child("block", new Block(config, config.nLayers - 1));
    this.norm = this.child("norm", makeNorm(norm, d, normEps));
  }

  /**
   * hidden [B, T, d] (the previous depth's states at positions i) and nextEmb [B, T, d] (the embeddings of tokens
   * i + k) → this depth's states [B, T, d] (before `norm`) and the block's routing outputs. `rope` covers the T
   * positions; `slot` appends to a one-layer KV cache (decoding); config.checkpoint recomputes the block in backward.
   */
  apply(hidden: tf.Tensor3D, nextEmb: tf.Tensor3D, rope: RopeTables | null, slot?: CacheSlot): CheckpointedOutput {
    if (!tf.util.arraysEqual(hidden.shape, nextEmb.shape) || hidden.shape[2] !== this.config.dim) {
      throw new Error(
        `MTPModule.apply(hidden, nextEmb): expected both [B, T, ${this.config.dim}], got [${hidden.shape}] and [${nextEmb.shape}]`,
      );
    }
    const [B, T, d] = hidden.shape;
    return tf.tidy(() => {
      const joined = tf.concat([this.enorm.apply(nextEmb), this.hnorm.apply(hidden)], 2); // [B, T, 2d]
      const x = tf.reshape(this.ehProj.apply(tf.reshape(joined, [B * T, 2 * d]) as tf.Tensor2D), [
        B,
        T,
        d,
      ]) as tf.Tensor3D; // [B, T, d]
      const out =
        this.config.checkpoint && !slot ? checkpointedBlock(this.block, x, rope) : this.block.apply(x, rope, slot);
      return out as unknown as tf.TensorContainer;
    }) as unknown as CheckpointedOutput;
  }
}

/** The D modules as numbered children ("mtp.0.eh_proj.weight" ...). */
export class MTPModules extends Module {
  readonly modules: readonly MTPModule[];

  constructor(config: LMConfig) {
    super();
    this.modules = Array.from({ length: config.mtpDepth }, (_, k) => this.child(String(k), new MTPModule(config)));
  }
}
