// tf.variableGrads that cleans up after a loss function that throws: tfjs keeps clones of the tensors each op saves
// for its backward pass on the gradient tape, and frees them only after a successful backward pass, so every failing
// call leaked its whole forward pass. Reference: tfjs-core engine.ts (gradients, startTape, saveTensorsForBackwardMode).
import * as tf from "@tensorflow/tfjs";

/** The engine's tape state (tfjs-core internals, not in its public types). */
interface TapeState {
  state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null };
}

/** The value of `f` and its gradients with respect to `variables`, as tf.variableGrads; on a throw, nothing leaks. */
export function variableGrads(
  f: () => tf.Scalar,
  variables: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const engine = tf.engine() as unknown as TapeState;
  const nested = engine.state.gradientDepth > 0; // inside an outer gradient: the outer call owns the tape
  try {
    return tf.variableGrads(f, variables);
  } catch (e) {
    if (!nested && engine.state.activeTape) {
      for (const node of engine.state.activeTape) tf.dispose(node.saved ?? []);
      engine.state.activeTape = null;
    }
    throw e;
  }
}
