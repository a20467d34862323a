// One pre-norm decoder block: x + attn(norm(x)), then + ffn(norm(x)) with a dense SwiGLU or an MoE layer as FFN.
// Reference: DeepSeek-V3 inference/model.py `Block` (attn_norm, ffn_norm; MoE from layer n_dense_layers on).
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { SwiGLU } from "../nn/swiglu";
import { addRmsNorm } from "../ops/add-rms-norm";
import { MoELayer } from "../moe";
import type { MoEOutput } from "../moe";
import type { CacheSlot } from "./attention";
import { makeAttention, SelfAttention } from "./attention-kind";
import { isMoELayer, LMConfig, moeSettings } from "./config";
import { LayerNorm, makeNorm, RMSNorm } from "./norm";
import { RopeTables } from "./rope";

/** A block's output: the new residual stream and, for an MoE block, the layer's routing outputs. */
export interface BlockOutput {
  x: tf.Tensor3D; // [B, T, d]
  moe: MoEOutput | null;
  /** chain.next applied to x (fused with the last residual add), or null without a chain.next. */
  normed: tf.Tensor3D | null; // [B, T, d]
}

/** How a block fuses its norms with its neighbours' residual adds (a stack of blocks, TransformerLM.forward). */
export interface BlockChain {
  /** attnNorm(x), already computed by the previous block's fused residual add; null = computed here. */
  normed: tf.Tensor3D | null; // [B, T, d]
  /** The RMSNorm applied to this block's output next (the next block's attnNorm or the final norm): the last residual
   * add runs fused with it (one kernel on native) and BlockOutput.normed holds its output; null = plain add. */
  next: RMSNorm | null;
}

export class Block extends Module {
  readonly attnNorm: RMSNorm | LayerNorm;
  readonly attn: SelfAttention;
  readonly ffnNorm: RMSNorm | LayerNorm;
  readonly ffn: SwiGLU | MoELayer;

  /** Block `layer` of the model `config` describes (MoE FFN when isMoELayer(config, layer)). */
  constructor(config: LMConfig, layer: number) {
    super();
    const d = config.dim;
    this.attnNorm = this.child("attn_norm", makeNorm(config.norm, d, config.normEps));
    this.attn = this.child("attn", makeAttention(config));
    this.ffnNorm = this.child("ffn_norm", makeNorm(config.norm, d, config.normEps));
    this.ffn = this.child(
      "ffn",
      isMoELayer(config, layer) ? new MoELayer(d, moeSettings(config)) : new SwiGLU(d, config.ffnHidden),
    );
  }

  /**
   * x [B, T, d] → [B, T, d]; `rope` covers the T positions (null: learned positions); `slot` appends to a KV cache;
   * `rowMask` [B, 1, T, S] is the per-row attention mask of a ragged batch (lab.model.rowMask); `chain` fuses the
   * norms with the residual adds of the neighbouring blocks.
   */
  apply(
    x: tf.Tensor3D,
    rope: RopeTables | null,
    slot?: CacheSlot,
    rowMask?: tf.Tensor4D,
    chain?: BlockChain,
  ): BlockOutput {
    const [B, T, d] = x.shape;
    // tidy keeps every tensor of the returned object (null entries are skipped); its type wants index signatures.
    return tf.tidy(() => {
      const inNormed = chain?.normed ?? (this.attnNorm.apply(x) as tf.Tensor3D); // [B, T, d]
      const attended = this.attn.apply(inNormed, rope, slot, rowMask); // [B, T, d]
      const norm = this.ffnNorm;
      const [h, hNormed] =
        norm instanceof RMSNorm ? addRmsNorm(x, attended, norm.weight, norm.eps) : [tf.add(x, attended), null]; // [B, T, d] each (fused)
      const normed = tf.reshape(hNormed ?? norm.apply(h), [B * T, d]) as tf.Tensor2D; // [N, d]
      const moe =
        this.ffn instanceof SwiGLU ? null : this.ffn.forward(normed, { seqLen: T, auxLoss: !slot && !rowMask }); // decoding pays for no balance loss
      const y = tf.reshape(moe ? moe.y : this.ffn.apply(normed), [B, T, d]) as tf.Tensor3D; // [B, T, d]
      const next = chain?.next;
      const [out, outNormed] = next ? addRmsNorm(h, y, next.weight, next.eps) : [tf.add(h, y), null]; // [B, T, d] each
      return { x: out, moe, normed: outNormed } as unknown as tf.TensorContainer;
    }) as unknown as BlockOutput;
  }
}
