// The display host inside Deno's own Jupyter kernel (`deno jupyter`, kernels/moelab-deno): the same bundles as under
// the tslab kernel (plotly JSON + PNG + text, HTML when live), sent with `Deno.jupyter.broadcast`, which attaches
// them to the cell that is running.
// Reference: https://docs.deno.com/api/deno/~/Deno.jupyter.broadcast
import { CancelToken, setAmbientToken } from "./cancel";
import {
  DISPLAY_ENV,
  encodeDisplayData,
  kernelHost,
  setKernelHost,
  type DisplayBundle,
  type DisplayOptions,
  type KernelHost,
} from "./display";

/** `Deno.jupyter.broadcast`'s signature. */
type Broadcast = (
  msgType: string,
  content: Record<string, unknown>,
  extra?: { metadata?: Record<string, unknown> },
) => Promise<void> | void;

/**
 * `Deno.jupyter.broadcast` when this code runs inside `deno jupyter`, else null (Node, `deno run`: there reading
 * `Deno.jupyter` throws).
 */
export function denoBroadcast(): Broadcast | null {
  const deno = (globalThis as { Deno?: { jupyter?: { broadcast?: Broadcast } } }).Deno;
  if (!deno) return null;
  try {
    return typeof deno.jupyter?.broadcast === "function" ? deno.jupyter.broadcast.bind(deno.jupyter) : null;
  } catch {
    return null;
  }
}

/**
 * A KernelHost over `broadcast`. Deno's kernel does not say whether the frontend is interactive, so displays are
 * headless (no HTML) unless $MOELAB_DISPLAY is "live" (`npm run lab` sets it). `track` keeps the promise's failure visible: Deno awaits the
 * cell's own promise (`await lab.show(fig)`), not ours.
 */
export function denoHost(broadcast: Broadcast, env: Record<string, string | undefined>): KernelHost {
  const send = (msgType: string, content: Record<string, unknown>): Promise<void> => {
    const failed = (e: unknown) => console.error(`moelab display: ${msgType} failed: ${String(e)}`);
    try {
      return Promise.resolve(broadcast(msgType, content)).catch(failed);
    } catch (e) {
      failed(e);
      return Promise.resolve();
    }
  };
  return {
    live: env[DISPLAY_ENV] === "live",
    display(bundle: DisplayBundle, options: DisplayOptions = {}): Promise<void> {
      if (options.update && !options.displayId)
        throw new Error("display: options.update needs options.displayId (the display to replace)");
      return send(options.update ? "update_display_data" : "display_data", {
        data: encodeDisplayData(bundle.data),
        metadata: bundle.metadata ?? {},
        transient: options.displayId ? { display_id: options.displayId } : {},
      });
    },
    clear(wait: boolean): Promise<void> {
      return send("clear_output", { wait });
    },
    track(work: Promise<unknown>): void {
      work.catch(() => undefined); // the caller awaits (and sees) the failure; don't report it a second time
    },
  };
}

/**
 * How long a Kernel › Interrupt stays in force under Deno's kernel: the library's loops check between steps, so one
 * running now stops within a step; if none runs, the interrupt lapses after this many milliseconds instead of
 * stopping the next cell's first loop.
 */
export const DENO_INTERRUPT_WINDOW_MS = 2000;

/**
 * Interrupts under Deno's kernel: Deno's own kernel dies on SIGINT and ignores interrupt_request, so the library
 * listens for SIGINT itself (which keeps Deno alive) and cancels the ambient token the library's loops observe
 * (lib/cancel.ts); they stop between two steps with a KeyboardInterrupt. Synchronous code cannot be interrupted.
 */
function listenForInterrupts(addSignalListener: (signal: "SIGINT", handler: () => void) => void): void {
  let token = new CancelToken();
  setAmbientToken(token);
  addSignalListener("SIGINT", () => {
    const interrupted = token;
    interrupted.cancel("interrupted (Kernel › Interrupt)");
    setTimeout(() => {
      if (token === interrupted) setAmbientToken((token = new CancelToken()));
    }, DENO_INTERRUPT_WINDOW_MS);
  });
}

/** Inside `deno jupyter`, installs Deno's host and its interrupt listener (once; lib/index.ts calls this on load). */
export function installDenoHost(env: Record<string, string | undefined> = process.env): void {
  const broadcast = denoBroadcast();
  if (!broadcast || kernelHost()) return;
  setKernelHost(denoHost(broadcast, env));
  const deno = (globalThis as { Deno?: { addSignalListener?: (signal: "SIGINT", handler: () => void) => void } }).Deno;
  if (deno?.addSignalListener) listenForInterrupts(deno.addSignalListener.bind(deno));
}
