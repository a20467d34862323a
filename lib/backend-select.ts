// Tensor backend selection: the best backend present, in the order of DESIGN.md §1
// (tensorflow > native > wasm > cpu), overridable by MOELAB_BACKEND or useBackend().
import * as tf from "@tensorflow/tfjs";
import { createRequire } from "node:module";
import { registerNativeBackend } from "./native/register";
import { fixWasmEmptyReductions } from "./ops/wasm-empty-reduce";

/** Backends the lab knows about, best first. */
export const BACKEND_ORDER = ["tensorflow", "native", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

/** Environment variable that forces a backend (one of BACKEND_ORDER). */
export const BACKEND_ENV = "MOELAB_BACKEND";

const requireOptional = createRequire(__filename);

/** Loads a backend that starts synchronously so tfjs knows it; throws an Error whose message says why it is not available. */
const syncLoaders: Record<Exclude<BackendName, "wasm">, () => void> = {
  // tfjs-node-gpu / tfjs-node register the "tensorflow" backend when imported. Both are optional: their install
  // downloads libtensorflow, which many machines cannot reach.
  tensorflow() {
    const reasons: string[] = [];
    for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
      try {
        requireOptional(pkg);
        return;
      } catch (e) {
        reasons.push(`${pkg}: ${firstLine(e)}`);
      }
    }
    throw new Error(reasons.join("; "));
  },
  // Our Node-API kernels (native/): absent when the addon did not build or load; the reason says which.
  native() {
    registerNativeBackend();
  },
  cpu() {},
};

/** Loads a backend so tfjs knows it; throws an Error whose message says why it is not available. */
const loaders: Record<BackendName, () => Promise<void>> = {
  tensorflow: async () => syncLoaders.tensorflow(),
  native: async () => syncLoaders.native(),
  async wasm() {
    await import("@tensorflow/tfjs-backend-wasm");
    fixWasmEmptyReductions();
  },
  cpu: async () => syncLoaders.cpu(),
};

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0];
}

/** Why each backend could or could not be loaded (null = available). */
export type BackendReport = Record<BackendName, string | null>;

let probed: Promise<BackendReport> | null = null;

/** Tries every backend once (cached) and reports which are available. */
export function probeBackends(): Promise<BackendReport> {
  probed ??= (async () => {
    const report = {} as BackendReport;
    for (const name of BACKEND_ORDER) {
      try {
        await loaders[name]();
        report[name] = tf.findBackendFactory(name) ? null : "loaded but registered no backend";
      } catch (e) {
        report[name] = firstLine(e);
      }
    }
    return report;
  })();
  return probed;
}

/** The names of the backends that can run here, best first. */
export async function availableBackends(): Promise<BackendName[]> {
  const report = await probeBackends();
  return BACKEND_ORDER.filter((name) => report[name] === null);
}

function isBackendName(name: string): name is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(name);
}

/** Switches tfjs to `name`; an unknown or unavailable name is an error listing what is available. */
export async function useBackend(name: string): Promise<BackendName> {
  const available = await availableBackends();
  if (!isBackendName(name)) {
    throw new Error(
      `useBackend(name): unknown backend "${name}"; expected one of ${BACKEND_ORDER.join(", ")} ` +
        `(available here: ${available.join(", ")})`,
    );
  }
  if (!available.includes(name)) {
    const report = await probeBackends();
    throw new Error(
      `useBackend(name): backend "${name}" is not available here (${report[name]}); ` +
        `available: ${available.join(", ")}`,
    );
  }
  // tfjs's console hints ("install tfjs-node ...") are replaced by banner(), which names what is missing.
  tf.enableProdMode();
  if (!(await tf.setBackend(name))) {
    throw new Error(`useBackend(name): tfjs failed to initialise backend "${name}"`);
  }
  await tf.ready();
  return name;
}

let warnedNativeMissing = false;

/**
 * Picks the backend: `preferred`, else $MOELAB_BACKEND, else the best available one.
 * Returns the backend now running.
 */
export async function selectBackend(preferred?: string): Promise<BackendName> {
  const requested = preferred ?? process.env[BACKEND_ENV];
  if (requested) {
    try {
      return await useBackend(requested);
    } catch (e) {
      const origin = preferred ? "selectBackend(preferred)" : `$${BACKEND_ENV}`;
      throw new Error(`${origin}: ${(e as Error).message.replace(/^useBackend\(name\): /, "")}`);
    }
  }
  const [best] = await availableBackends();
  const report = await probeBackends();
  if (report.native !== null && !warnedNativeMissing) {
    warnedNativeMissing = true;
    console.warn(`moelab: using ${best}: ${report.native}`);
  }
  return useBackend(best);
}

/** Backends that start synchronously, best first (wasm compiles its binary asynchronously: only init() selects it). */
export const SYNC_BACKEND_ORDER = ["tensorflow", "native", "cpu"] as const;

/**
 * Selects the best backend that starts synchronously (tensorflow > native > cpu; $MOELAB_BACKEND first when it names
 * one of these), so that a script's first op runs on it without `await lab.init()`. Runs when the library is imported
 * (lib/index.ts); does nothing when a backend was chosen already. `await lab.init()` still picks among all backends
 * (wasm included) and is needed for $MOELAB_BACKEND=wasm. Returns the backend selected, or null when it did nothing.
 */
export function autoSelectBackend(): BackendName | null {
  if (tf.getBackend()) return null;
  const requested = process.env[BACKEND_ENV];
  const syncOrder: readonly string[] = SYNC_BACKEND_ORDER;
  let order: readonly string[] = SYNC_BACKEND_ORDER;
  if (requested && syncOrder.includes(requested)) order = [requested, ...syncOrder.filter((n) => n !== requested)];
  else if (requested) {
    console.warn(
      `moelab: $${BACKEND_ENV}=${requested} is selected by \`await lab.init()\` (${isBackendName(requested) ? "it starts asynchronously" : `not a backend: expected one of ${BACKEND_ORDER.join(", ")}`}); until then ops run on the best synchronous backend`,
    );
  }
  const reasons: string[] = [];
  for (const name of order as readonly Exclude<BackendName, "wasm">[]) {
    try {
      syncLoaders[name]();
      if (!tf.findBackendFactory(name)) throw new Error("loaded but registered no backend");
    } catch (e) {
      reasons.push(`${name}: ${firstLine(e)}`);
      continue;
    }
    tf.enableProdMode(); // tfjs's "install tfjs-node" hint: banner() names what is missing instead
    void tf.setBackend(name); // a synchronous backend is initialised before setBackend returns its promise
    if (tf.getBackend() !== name) continue;
    if (name === "cpu" && order.length > 1 && !warnedNativeMissing) {
      warnedNativeMissing = true;
      const native = reasons.find((r) => r.startsWith("native: "));
      console.warn(
        `moelab: using cpu (${native ?? reasons.join("; ")}); \`await lab.init()\` picks wasm, which is faster`,
      );
    }
    return name;
  }
  return null;
}

/** The backend tfjs is running now. */
export function currentBackend(): string {
  return tf.getBackend();
}
