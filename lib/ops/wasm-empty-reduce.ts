// Reductions over empty axes on the tfjs `wasm` backend: its Sum/Max/Min/Mean/Prod/Any/All kernels allocate the
// output and return it unwritten when the reduced axes hold no element (uninitialised heap memory: 3.6e-41, 25776, …).
// Wrapped here: when an input is empty, the output is filled with the reduction's identity, as NumPy and PyTorch
// define them: sum 0, prod 1, max −∞, min +∞, mean NaN (0/0), any false, all true. (tfjs `cpu` agrees except for mean,
// where it returns 0.) Reference: numpy.ufunc.reduce identities; torch.mean of an empty dimension (NaN).
import * as tf from "@tensorflow/tfjs";

/** The identity value written for each wrapped kernel. */
export const EMPTY_REDUCTION_VALUES: Readonly<Record<string, number>> = Object.freeze({
  [tf.Sum]: 0,
  [tf.Prod]: 1,
  [tf.Max]: -Infinity,
  [tf.Min]: Infinity,
  [tf.Mean]: NaN,
  [tf.Any]: 0,
  [tf.All]: 1,
});

/** The part of tfjs-backend-wasm's BackendWasm used here (not imported: that would load the wasm binary). */
interface WasmHeap {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const wrapped = new WeakSet<tf.KernelFunc>();

function wrap(kernelName: string, inner: tf.KernelFunc): tf.KernelFunc {
  const fill = EMPTY_REDUCTION_VALUES[kernelName];
  const func: tf.KernelFunc = (args) => {
    const out = inner(args) as tf.TensorInfo;
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (tf.util.sizeFromShape(x.shape) === 0 && tf.util.sizeFromShape(out.shape) > 0) {
      (args.backend as unknown as WasmHeap).typedArrayFromHeap(out).fill(fill);
    }
    return out;
  };
  wrapped.add(func);
  return func;
}

/**
 * Replaces wasm's reduction kernels by wrappers that write the identity for empty inputs. Call after
 * tfjs-backend-wasm registered its kernels; idempotent. A no-op where wasm is not loaded.
 */
export function fixWasmEmptyReductions(): void {
  for (const kernelName of Object.keys(EMPTY_REDUCTION_VALUES)) {
    const config = tf.getKernel(kernelName, "wasm");
    if (!config || wrapped.has(config.kernelFunc)) continue;
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ ...config, kernelFunc: wrap(kernelName, config.kernelFunc) });
  }
}
