// Where a tfjs call spends its time: tf.profile's per-kernel times summed by kernel name (what to optimise next).
import * as tf from "@tensorflow/tfjs";

/** Time spent in one kernel name during the profiled call. */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
  /** ms / wall time of the call. */
  share: number;
}

/** A profiled call. */
export interface KernelProfile {
  backend: string;
  /** Wall time of the profiled call, ms (profiling adds a little). */
  wallMs: number;
  /** Sum of all kernel times, ms; wallMs − kernelMs is tfjs's own work (tape, bookkeeping) and JS outside kernels. */
  kernelMs: number;
  /** Kernels by total time, slowest first. */
  kernels: KernelTime[];
  /** On `native`: the kernel names it implements in C++ (the others run tfjs's cpu code); null on other backends. */
  nativeKernels: string[] | null;
}

/** Adds up kernel times by name from tf.profile's kernel list. */
export function aggregateKernels(
  kernels: readonly { name: string; kernelTimeMs: unknown }[],
  wallMs: number,
): KernelTime[] {
  const byName = new Map<string, KernelTime>();
  for (const k of kernels) {
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    const e = byName.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0, share: 0 };
    e.calls++;
    e.ms += ms;
    byName.set(k.name, e);
  }
  return [...byName.values()].map((e) => ({ ...e, share: wallMs > 0 ? e.ms / wallMs : 0 })).sort((a, b) => b.ms - a.ms);
}

/** Profiles one call of `fn` on the current backend; `nativeKernels` as in KernelProfile. */
export async function profileKernels(fn: () => unknown, nativeKernels: string[] | null = null): Promise<KernelProfile> {
  const start = performance.now();
  const info = await tf.profile(async () => {
    await fn();
    return [];
  });
  const wallMs = performance.now() - start;
  // tf.profile also lists composite ops run through customGrad (e.g. "logSoftmax__op") whose time includes their
  // kernels, which it lists too: keep registered kernels only, so nothing is counted twice.
  const backend = tf.getBackend();
  const kernels = aggregateKernels(
    info.kernels.filter((k) => tf.getKernel(k.name, backend) !== undefined),
    wallMs,
  );
  return { backend, wallMs, kernelMs: kernels.reduce((s, k) => s + k.ms, 0), kernels, nativeKernels };
}
