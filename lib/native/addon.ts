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

let loaded: { addon: NativeAddon | null; reason: string | null } | null = null;

/** The addon, or null with `nativeUnavailableReason()` saying why. Loads once. */
export function nativeAddon(): NativeAddon | null {
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
