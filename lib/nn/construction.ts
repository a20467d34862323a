// Safe model construction: refuse a model whose parameters cannot fit in this machine's memory before allocating any
// (a 10^15-parameter config used to start allocating, leak a gigabyte, and fail with a bare RangeError), and free the
// variables a construction made when it fails part-way. Reference: float32 = 4 bytes per parameter; os.totalmem().
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";

/** Bytes of one float32 parameter. */
const BYTES_PER_PARAM = 4;

function binary(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) {
    bytes /= 1024;
    i++;
  }
  return `${bytes.toFixed(1)} ${units[i]}`;
}

/**
 * Throws unless `params` float32 parameters fit in `memoryBytes` (default: this machine's memory). The error says how
 * many parameters and bytes the model would have.
 */
export function checkParamsFit(fn: string, params: number, memoryBytes: number = os.totalmem()): void {
  const bytes = params * BYTES_PER_PARAM;
  if (bytes > memoryBytes) {
    throw new Error(
      `${fn}: the model would have ${params.toExponential(2)} parameters = ${bytes.toExponential(2)} bytes (${binary(bytes)}) as float32, ` +
        `more than this machine's memory (${binary(memoryBytes)}); nothing was allocated. Reduce dim, nLayers, ffnHidden or the experts.`,
    );
  }
}

/**
 * Runs `build` (the body of a model's constructor); when it throws, disposes every tf.Variable created meanwhile
 * (the parts built before the failure) and rethrows.
 */
export function freeOnThrow<T>(build: () => T): T {
  const before = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return build();
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!before.has(name)) v.dispose();
    throw e;
  }
}
