// Session start: pick the tensor backend and describe the environment in a one-line banner.
import * as tf from "@tensorflow/tfjs";
import * as os from "node:os";
import { availableBackends, currentBackend, probeBackends, selectBackend } from "./backend-select";
import { seed } from "./random";
import pkg from "../package.json";

/** Options for init(). */
export interface InitOptions {
  /** Backend to use; default: $MOELAB_BACKEND, else the best available. */
  backend?: string;
  /** Seed for every random source; default: leave the current seed. */
  seed?: number;
}

/** Selects the backend (and optionally seeds) and returns the banner. Safe to call again to switch. */
export async function init(options: InitOptions = {}): Promise<string> {
  await selectBackend(options.backend);
  if (options.seed !== undefined) seed(options.seed);
  return await banner();
}

/** One line: library version, running backend, the others that could run, tfjs and Node versions. */
export async function banner(): Promise<string> {
  const running = currentBackend();
  const others = (await availableBackends()).filter((b) => b !== running);
  const report = await probeBackends();
  const missing = Object.entries(report)
    .filter(([, why]) => why !== null)
    .map(([name]) => name);
  return [
    `MoE Lab ${pkg.version}`,
    `backend ${running}` + (others.length ? ` (also: ${others.join(", ")})` : ""),
    ...(missing.length ? [`not installed: ${missing.join(", ")}`] : []),
    `tfjs ${tf.version.tfjs}`,
    `${runtime()} ${os.platform()}-${os.arch()}, ${os.availableParallelism()} cores`,
  ].join(" · ");
}

function runtime(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? `Deno ${deno.version.deno}` : `Node ${process.version}`;
}

/** The library's version. */
export const version: string = pkg.version;
