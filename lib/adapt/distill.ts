// Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network" §2): the student
// matches the teacher's temperature-softened distribution, KL(softmax(t/T) ‖ softmax(s/T)) scaled by T² (so its gradient
// keeps its size as T changes), mixed with the hard-label cross-entropy: α·T²·KL + (1 − α)·CE.
import * as tf from "@tensorflow/tfjs";
import { softmaxCrossEntropy } from "../ops/cross-entropy";
import { stopGradient } from "../ops/stop-gradient";
import { checkRange } from "../check";

/** Distillation settings. */
export interface DistillConfig {
  /** Temperature T > 0 of both softmaxes. Default 2. */
  temperature: number;
  /** Weight α ∈ [0, 1] of the soft (KL) term; 1 − α goes to the hard labels. Default 0.5. */
  alpha: number;
}

export const DEFAULT_DISTILL: Readonly<DistillConfig> = Object.freeze({ temperature: 2, alpha: 0.5 });

/** The loss and its two parts (scalars). */
export interface DistillLoss {
  loss: tf.Scalar;
  /** Mean over rows of KL(teacher_T ‖ student_T) (not yet scaled by T²). */
  kl: tf.Scalar;
  /** Hard-label cross-entropy of the student at T = 1. */
  ce: tf.Scalar;
}

/**
 * α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·CE(student, targets). student, teacher [N, V] logits,
 * targets [N] int32. No gradient flows into the teacher's logits.
 */
export function distillationLoss(
  student: tf.Tensor2D,
  teacher: tf.Tensor2D,
  targets: tf.Tensor1D,
  config: Partial<DistillConfig> = {},
): DistillLoss {
  const fn = "distillationLoss(student, teacher, targets, config)";
  const c = { ...DEFAULT_DISTILL, ...config };
  if (!(c.temperature > 0 && Number.isFinite(c.temperature)))
    throw new Error(`${fn}: config.temperature must be a finite number > 0, got ${c.temperature}`);
  checkRange(fn, "config.alpha", c.alpha, 0, 1);
  if (student.rank !== 2 || !tf.util.arraysEqual(student.shape, teacher.shape)) {
    throw new Error(
      `${fn}: student and teacher must be logits of one shape [N, V], got [${student.shape}] and [${teacher.shape}]`,
    );
  }
  return tf.tidy(() => {
    const logPs = tf.logSoftmax(tf.div(student, c.temperature)); // [N, V]
    const logPt = tf.logSoftmax(tf.div(stopGradient(teacher), c.temperature)); // [N, V]
    const kl = tf.mean(tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), -1)) as tf.Scalar; // KL per row, mean over N
    const ce = softmaxCrossEntropy(student, targets);
    const loss = tf.add(tf.mul(kl, c.alpha * c.temperature * c.temperature), tf.mul(ce, 1 - c.alpha)) as tf.Scalar;
    return { loss, kl, ce };
  });
}
