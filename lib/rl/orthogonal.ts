// Orthogonal weight initialisation (rows or columns orthonormal, times a gain), as cleanrl's layer_init uses for
// policy and value networks. Reference: torch.nn.init.orthogonal_ (QR of a normal matrix, signs fixed so R's
// diagonal is positive); Saxe et al., "Exact solutions to the nonlinear dynamics of learning" (2014).
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkRange } from "../check";
import { Rng } from "../random";

/**
 * A [rows, cols] matrix with orthonormal columns (rows ≥ cols) or rows (rows < cols), times `gain`: modified
 * Gram–Schmidt in float64 on normals from `rng` (Gram–Schmidt's R has a positive diagonal, torch's sign fix).
 */
export function orthogonal(rows: number, cols: number, gain: number, rng: Rng): tf.Tensor2D {
  checkPositiveInt("orthogonal", "rows", rows);
  checkPositiveInt("orthogonal", "cols", cols);
  checkRange("orthogonal", "gain", gain, 0, Number.MAX_VALUE);
  const [tall, narrow] = rows >= cols ? [rows, cols] : [cols, rows];
  const q = Array.from({ length: narrow }, () => Float64Array.from({ length: tall }, () => rng.normal()));
  for (let j = 0; j < narrow; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < tall; i++) dot += q[j][i] * q[k][i];
      for (let i = 0; i < tall; i++) q[j][i] -= dot * q[k][i];
    }
    let norm = 0;
    for (let i = 0; i < tall; i++) norm += q[j][i] * q[j][i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < tall; i++) q[j][i] /= norm;
  }
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < narrow; j++) {
    for (let i = 0; i < tall; i++) out[rows >= cols ? i * cols + j : j * cols + i] = gain * q[j][i];
  }
  return tf.tensor2d(out, [rows, cols]);
}
