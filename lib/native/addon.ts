// Loads the native addon (native/build/Release/moelab_native.node, built by `npm install`) once; when it is missing
// or fails to load, says why, so the backend list can fall back to wasm/cpu with that reason.
import * as path from "node:path";
import { createRequire } from "node:module";
import { repoRoot } from "../repo-root";

/** What the addon reports about itself. */
export interface NativeInfo {
  /** The widest instruction set the kernels use here: avx512, avx2 or scalar (MOELAB_ISA caps it). */
  isa: "avx512" | "avx2" | "scalar";
  /** Threads a parallel kernel uses, the caller included (MOELAB_THREADS overrides). */
  threads: number;
  /** Threads asked for; `threads` is less when the system refused to start some. */
  threadsRequested: number;
  /** The most threads the pool starts (MOELAB_THREADS is clamped to it). */
  maxThreads: number;
  /** CPU features the kernels may use. */
  features: Record<"avx2" | "fma" | "avx512f" | "avx512bw" | "avx512vl" | "avx512bf16" | "amxbf16", boolean>;
}

/** The addon's functions. Kernels read and write tfjs's Float32Array/Int32Array buffers in place (zero-copy). */
export interface NativeAddon {
  info(): NativeInfo;
  [fn: string]: (...args: never[]) => unknown;
}

/** Where the build puts the addon, relative to the repository root. */
export const ADDON_PATH = path.join("native", "build", "Release", "moelab_native.node");

/** Environment variable naming another addon file to load instead (a build elsewhere; tests of the fallback). */
export const ADDON_ENV = "MOELAB_NATIVE_ADDON";

/** Environment variable that sets the thread count of the native kernels (default: the cores this process may use). */
export const THREADS_ENV = "MOELAB_THREADS";

/** The most threads MOELAB_THREADS may ask for (native/src/pool.h kMaxThreads). */
export const MAX_THREADS = 1024;

/** Why $MOELAB_THREADS is unusable, or null when it is unset or an integer in [1, MAX_THREADS]. */
export function threadsEnvProblem(env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env[THREADS_ENV];
  if (value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_THREADS
    ? null
    : `$${THREADS_ENV}=${value} must be an integer in [1, ${MAX_THREADS}] (unset it to use every core)`;
}

let loaded: { addon: NativeAddon | null; reason: string | null } | null = null;

/** The addon, or null with `nativeUnavailableReason()` saying why. Loads once. */
export function nativeAddon(): NativeAddon | null {
  const envProblem = loaded ? null : threadsEnvProblem();
  if (envProblem) loaded = { addon: null, reason: `native backend not started: ${envProblem}` };
  if (!loaded) {
    const file = process.env[ADDON_ENV] || path.join(repoRoot(), ADDON_PATH);
    try {
      loaded = { addon: createRequire(__filename)(file) as NativeAddon, reason: null };
    } catch (e) {
      const why = (e as Error).message.split("\n")[0];
      loaded = { addon: null, reason: `native addon not loaded (${why}); build it with \`npm run build:native\`` };
    }
  }
  return loaded.addon;
}

/** Why the addon is not available (null when it is). */
export function nativeUnavailableReason(): string | null {
  nativeAddon();
  return loaded!.reason;
}
