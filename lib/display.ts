// Where rich output goes: the MoE Lab kernel (a Jupyter display bundle) or the terminal (plain text).
// The kernel installs a host on globalThis before each cell; library code only ever talks to this module.

/** A Jupyter MIME bundle: `data` maps MIME types to payloads (strings, or JSON for `+json` types). */
export interface DisplayBundle {
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** Options for one display call. */
export interface DisplayOptions {
  /** Identifies a display that later calls update in place (progress bars). */
  displayId?: string;
  /** true: replace the display with `displayId` instead of adding a new output. */
  update?: boolean;
}

/** What the kernel provides while a cell runs. */
export interface KernelHost {
  /** true in an interactive notebook frontend; false when executed headless (runner, nbconvert). */
  readonly live: boolean;
  /** Sends a display_data (or update_display_data) message attached to the running cell. */
  display(bundle: DisplayBundle, options?: DisplayOptions): void;
  /** Clears the running cell's outputs; `wait`: only when the next output arrives (no flicker). */
  clear(wait: boolean): void;
  /** The kernel waits for `work` before it reports the cell finished (async displays such as PNG renders). */
  track(work: Promise<unknown>): void;
}

const HOST_KEY = "__moelabKernelHost__";

/** The kernel's host, or null outside a MoE Lab kernel (a script, a test, Deno). */
export function kernelHost(): KernelHost | null {
  return ((globalThis as Record<string, unknown>)[HOST_KEY] as KernelHost | undefined) ?? null;
}

/** Installs (or with null, removes) the host. Called by the kernel; tests use it to capture displays. */
export function setKernelHost(host: KernelHost | null): void {
  const g = globalThis as Record<string, unknown>;
  if (host) g[HOST_KEY] = host;
  else delete g[HOST_KEY];
}

/**
 * Shows a bundle: in a kernel as one display output; elsewhere its `text/plain` goes to stdout.
 */
export function display(bundle: DisplayBundle, options: DisplayOptions = {}): void {
  const host = kernelHost();
  if (host) {
    host.display(bundle, options);
    return;
  }
  const text = bundle.data["text/plain"];
  if (typeof text === "string") process.stdout.write(text.endsWith("\n") ? text : text + "\n");
}

/** Clears the current cell's outputs in a notebook (`wait`: when the next output arrives); a no-op in a terminal. */
export function clearOutput(wait = false): void {
  kernelHost()?.clear(wait);
}
