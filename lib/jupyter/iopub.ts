// The iopub side of the kernel: publishes status/result/display/error messages, and turns process.stdout and
// process.stderr writes into `stream` messages of the cell they belong to, batched, in order with the rest.
// Reference: https://jupyter-client.readthedocs.io/en/latest/messaging.html#messages-on-the-iopub-pub-sub-channel
import { TextDecoder } from "node:util";
import type { Header } from "./wire";

/** Where a stream's text goes: a cell (its execute_request header), nowhere (a silent request), or the terminal. */
export type StreamTarget = Header | "drop" | "terminal";

type StreamName = "stdout" | "stderr";

/** Sends one message on iopub. */
export type IopubSend = (msgType: string, content: Record<string, unknown>, parent: Header | null) => void;

/** Publishes on iopub; collects stream text for `flushMs` and sends it before any other message. */
export class Iopub {
  private buffered: { parent: Header; name: StreamName; text: string } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: IopubSend,
    private readonly flushMs: number,
  ) {}

  /** Sends a message (after any stream text written before it). */
  publish(msgType: string, content: Record<string, unknown>, parent: Header | null): void {
    this.flush();
    this.send(msgType, content, parent);
  }

  /** Adds text to the `name` stream of the cell `parent`. */
  stream(parent: Header, name: StreamName, text: string): void {
    if (!text) return;
    if (this.buffered && (this.buffered.parent !== parent || this.buffered.name !== name)) this.flush();
    if (this.buffered) this.buffered.text += text;
    else this.buffered = { parent, name, text };
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Sends the collected stream text now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const b = this.buffered;
    this.buffered = null;
    if (b) this.send("stream", { name: b.name, text: b.text }, b.parent);
  }
}

/** The signature shared by process.stdout.write and process.stderr.write. */
type Write = typeof process.stdout.write;

/**
 * Redirects process.stdout/stderr writes to `target()`: a cell's iopub stream, nothing, or the original
 * terminal streams (kept in `terminal` for the kernel's own log lines).
 */
export class ProcessOutput {
  /** The original writers, bound to their streams. */
  readonly terminal: Record<StreamName, Write>;

  constructor(
    private readonly iopub: Iopub,
    private readonly target: () => StreamTarget,
  ) {
    this.terminal = {
      stdout: process.stdout.write.bind(process.stdout),
      stderr: process.stderr.write.bind(process.stderr),
    };
    process.stdout.write = this.writer("stdout");
    process.stderr.write = this.writer("stderr");
  }

  /** Writes a line of the kernel's own log to the terminal's stderr (never to a cell). */
  log(line: string): void {
    this.terminal.stderr(`[moelab kernel] ${line}\n`);
  }

  private writer(name: StreamName): Write {
    const decoder = new TextDecoder();
    return ((
      chunk: string | Uint8Array,
      encoding?: BufferEncoding | ((err?: Error | null) => void),
      done?: (err?: Error | null) => void,
    ) => {
      const callback = typeof encoding === "function" ? encoding : done;
      const target = this.target();
      if (target === "terminal") return this.terminal[name](chunk, callback);
      if (target !== "drop") {
        const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
        this.iopub.stream(target, name, text);
      }
      if (callback) process.nextTick(callback);
      return true;
    }) as Write;
  }
}
