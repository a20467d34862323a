// Where rich output goes: a Jupyter kernel (a display bundle) or the terminal (plain text). The MoE Lab kernel
// installs a host on globalThis before each cell, Deno's kernel one when the library loads (lib/deno-jupyter.ts);
// library code only ever talks to this module.

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
  /** Sends a display_data (or update_display_data) message attached to the running cell; a promise when the send
   * completes later (Deno's kernel), which the cell should await so the output lands before the cell ends. */
  display(bundle: DisplayBundle, options?: DisplayOptions): void | Promise<void>;
  /** Clears the running cell's outputs; `wait`: only when the next output arrives (no flicker). */
  clear(wait: boolean): void | Promise<void>;
  /** The kernel waits for `work` before it reports the cell finished (async displays such as PNG renders). */
  track(work: Promise<unknown>): void;
}

const HOST_KEY = "__moelabKernelHost__";

/** Environment variable that forces the display mode: "live" (HTML for an interactive frontend) or "headless". */
export const DISPLAY_ENV = "MOELAB_DISPLAY";

/** The kernel's host, or null outside a kernel (a script, a test, `deno run`). */
export function kernelHost(): KernelHost | null {
  return ((globalThis as Record<string, unknown>)[HOST_KEY] as KernelHost | undefined) ?? null;
}

/** A bundle's data as the protocol carries it: bytes become base64, everything else as given. */
export function encodeDisplayData(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(data))
    out[mime] = value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value;
  return out;
}

/** Installs (or with null, removes) the host. Called by the kernel; tests use it to capture displays. */
export function setKernelHost(host: KernelHost | null): void {
  const g = globalThis as Record<string, unknown>;
  if (host) g[HOST_KEY] = host;
  else delete g[HOST_KEY];
}

/**
 * Shows a bundle: in a kernel as one display output; elsewhere its `text/plain` goes to stdout. Resolves when the
 * output is sent: at once under the MoE Lab kernel, after Deno's asynchronous broadcast under Deno's kernel (both
 * kernels await a cell's last-expression promise, so `lab.display(...)` or `lab.claims(...)` ending a cell is safe).
 */
export function display(bundle: DisplayBundle, options: DisplayOptions = {}): Promise<void> {
  const host = kernelHost();
  if (host) return Promise.resolve(host.display(bundle, options));
  const text = bundle.data["text/plain"];
  if (typeof text === "string") process.stdout.write(text.endsWith("\n") ? text : text + "\n");
  return Promise.resolve();
}

/** Clears the current cell's outputs in a notebook (`wait`: when the next output arrives); a no-op in a terminal. */
export function clearOutput(wait = false): Promise<void> {
  return Promise.resolve(kernelHost()?.clear(wait));
}
