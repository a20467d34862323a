// MoE Lab kernel settings: how results print, whether displays are live, stream batching, shutdown and orphan checks.
// Reference: Jupyter messaging protocol 5.3, https://jupyter-client.readthedocs.io/en/latest/messaging.html
import type { InspectOptions } from "node:util";
import { withDefaults } from "../check";
import { DISPLAY_ENV } from "../display";

/** Whether library displays target an interactive frontend. */
export type DisplayMode = "auto" | "live" | "headless";

/** Every display mode, for validation and error messages. */
export const DISPLAY_MODES: readonly DisplayMode[] = Object.freeze(["auto", "live", "headless"]);

export { DISPLAY_ENV } from "../display"; // "live" or "headless"; "auto" or unset: decide per request

/** Kernel settings. */
export interface KernelConfig {
  /** util.inspect options for the text/plain of a cell's last-expression value (its execute_result). */
  readonly result: Readonly<InspectOptions>;
  /** "auto": live when the execute_request has allow_stdin true (an interactive frontend); else forced. */
  readonly display: DisplayMode;
  /** Milliseconds that stdout/stderr text of a cell is collected before it is sent as one stream message. */
  readonly streamFlushMs: number;
  /** Milliseconds between checks that the process that started the kernel still lives (0: never check). */
  readonly parentPollMs: number;
  /** Milliseconds the sockets keep trying to deliver unsent messages when the kernel shuts down. */
  readonly lingerMs: number;
  /**
   * Milliseconds an interrupted cell gets to stop by itself (library loops stop at their next step and the cell fails
   * with KeyboardInterrupt) before the kernel stops waiting for it and replies anyway.
   */
  readonly interruptGraceMs: number;
}

/** Defaults: depth-limited results, per-request display mode, 50 ms stream batches, 1 s for an interrupted cell to stop. */
export const DEFAULT_KERNEL_CONFIG: KernelConfig = Object.freeze({
  result: Object.freeze({ depth: 2, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 }),
  display: "auto",
  streamFlushMs: 50,
  parentPollMs: 2000,
  lingerMs: 1000,
  interruptGraceMs: 1000,
});

/** The defaults, overridden by `overrides`, then by $MOELAB_DISPLAY from `env` when set. */
export function kernelConfig(
  overrides: Partial<KernelConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): KernelConfig {
  const config = withDefaults("kernelConfig(overrides)", DEFAULT_KERNEL_CONFIG, overrides);
  const fromEnv = env[DISPLAY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") config.display = fromEnv as DisplayMode;
  if (!DISPLAY_MODES.includes(config.display)) {
    throw new Error(
      `${DISPLAY_ENV}/display: expected one of ${DISPLAY_MODES.join(", ")}, got ${JSON.stringify(config.display)}`,
    );
  }
  return Object.freeze(config);
}
