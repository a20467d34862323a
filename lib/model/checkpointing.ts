// Gradient checkpointing (full activation recomputation per block): the forward keeps only each block's input, and
// backward runs the block again under a tape to get its gradients. References: Chen et al. 2016, "Training Deep Nets
// with Sublinear Memory Cost"; torch.utils.checkpoint; Korthikanti et al. 2022 §4 ("full" recomputation stores 2sbh
// bytes per layer, the layer's input).
import * as tf from "@tensorflow/tfjs";
import type { Block } from "./block";
import type { MoEOutput } from "../moe";
import type { RopeTables } from "./rope";

/** What the transformer loop reads from a block: the new residual stream and, for an MoE block, its routing outputs. */
export interface CheckpointedOutput {
  x: tf.Tensor3D; // [B, T, d]
  moe: Pick<MoEOutput, "auxLoss" | "load" | "indices"> | null;
}

/** The engine's tape, which a nested gradients() call inside a backward pass would otherwise reset (tfjs 4.x). */
interface EngineTape {
  state: { activeTape: unknown };
}

/**
 * block.apply(x, rope) whose intermediates are not kept for backward: one custom-gradient op over [x, ...the block's
 * trainable variables]; its gradient recomputes the block from the saved input. The differentiable outputs (x and,
 * for an MoE block, the auxiliary loss) travel packed in one tensor, since a tfjs custom gradient has one output.
 * Training only (no KV cache). Gradients equal block.apply's (same ops in the same order).
 */
export function checkpointedBlock(block: Block, x: tf.Tensor3D, rope: RopeTables | null): CheckpointedOutput {
  const [B, T, d] = x.shape;
  const params = block.trainableVariables();
  let routing: { load: tf.Tensor1D; indices: tf.Tensor2D } | null = null;
  const pack = (input: tf.Tensor3D, tables: RopeTables | null, keepRouting: boolean): tf.Tensor1D => {
    const out = block.apply(input, tables);
    if (!out.moe) return tf.reshape(out.x, [B * T * d]); // [B·T·d]
    if (keepRouting) routing = { load: tf.keep(out.moe.load), indices: tf.keep(out.moe.indices) };
    return tf.concat([tf.reshape(out.x, [B * T * d]), tf.reshape(out.moe.auxLoss, [1])]); // [B·T·d + 1]
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor3D;
    (args[args.length - 1] as tf.GradSaveFunc)(rope ? [input, rope.cos, rope.sin] : [input]);
    return {
      value: pack(input, rope, true),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, cos, sin] = saved as [tf.Tensor3D, tf.Tensor2D?, tf.Tensor2D?];
        const tables = rope && cos && sin ? { ...rope, cos, sin } : null; // the saved copies of the tables
        const engine = tf.engine() as unknown as EngineTape;
        const outerTape = engine.state.activeTape;
        try {
          const { value, grads } = tf.engine().gradients(() => pack(xs, tables, false), [xs, ...params], dy, true);
          value.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(i === 0 ? xs : params[i - 1]));
        } finally {
          engine.state.activeTape = outerTape;
        }
      },
    };
  });
  const packed = op(x, ...params) as tf.Tensor1D; // [B·T·d (+ 1)]
  const y = tf.reshape(tf.slice(packed, [0], [B * T * d]), [B, T, d]) as tf.Tensor3D; // [B, T, d]
  if (!routing) return { x: y, moe: null };
  const kept = routing as { load: tf.Tensor1D; indices: tf.Tensor2D };
  const moe = {
    auxLoss: tf.reshape(tf.slice(packed, [B * T * d], [1]), []) as tf.Scalar,
    load: tf.clone(kept.load),
    indices: tf.clone(kept.indices),
  };
  tf.dispose([kept.load, kept.indices]);
  return { x: y, moe };
}

/** Peak tensor memory of one training step's forward + backward, as tfjs's profiler tracks it. */
export interface StepMemory {
  /** Largest bytes held by tensors during the step, minus those held before it (weights, batch). */
  peakBytes: number;
  /** The loss of the step (to check that both runs did the same work). */
  loss: number;
}

/**
 * Runs loss + gradients of `model` on one batch under tf.profile and returns the peak of tensor bytes held during
 * the step above what was held before it. Leaves no tensors behind. The profiler snapshots memory after every
 * kernel, including kernels run inside a checkpointed block's recomputation.
 */
export async function stepMemory(
  model: { trainableVariables(): tf.Variable[]; loss(i: tf.Tensor2D, t: tf.Tensor2D): { loss: tf.Scalar } },
  inputs: tf.Tensor2D,
  targets: tf.Tensor2D,
): Promise<StepMemory> {
  const before = tf.memory().numBytes;
  let loss = NaN;
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => model.loss(inputs, targets).loss, model.trainableVariables());
    loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
  });
  return { peakBytes: info.peakBytes - before, loss };
}
