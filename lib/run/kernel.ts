// A Python-free Jupyter kernel client over zeromq: start a kernelspec, execute code, interrupt, shut down.
// Reference: Jupyter messaging protocol 5.3; jupyter_client manager.py / client.py (start, wait_for_ready, shutdown).
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { userInfo } from "node:os";
import * as zmq from "zeromq";
import type { ConnectionInfo } from "../jupyter/sockets";
import { decode, encode, Session, Signer, type Header, type Message } from "../jupyter/wire";
import { channelAddress, newConnectionInfo, writeConnectionFile } from "./connection";
import { kernelCommand, type KernelSpec } from "./kernelspec";
import { withDefaults } from "../check";

/** Timing and diagnostics settings of a kernel client (seconds unless noted). */
export interface KernelClientConfig {
  /** How long the kernel may take to answer its first kernel_info_request after the process starts. */
  startupTimeout: number;
  /** How often kernel_info_request is re-sent while waiting for the kernel to come up. */
  kernelInfoRetry: number;
  /** How long the kernel gets to exit after shutdown_request (and again after SIGTERM) before it is killed. */
  shutdownGrace: number;
  /** How long an interrupted execution gets to send its execute_reply. */
  interruptGrace: number;
  /** Characters of the kernel's stdout/stderr kept to explain a failure. */
  outputTailChars: number;
}

/** Defaults: generous for a loaded 2-core machine where tslab compiles on start. */
export const DEFAULT_KERNEL_CLIENT_CONFIG: Readonly<KernelClientConfig> = Object.freeze({
  startupTimeout: 120,
  kernelInfoRetry: 3,
  shutdownGrace: 5,
  interruptGrace: 10,
  outputTailChars: 4000,
});

/** Options for starting a kernel. */
export interface StartKernelOptions {
  /** Working directory of the kernel process (the notebook's directory). */
  cwd: string;
  /** Environment of the kernel process; the spec's `env` is applied on top. Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Overrides of DEFAULT_KERNEL_CLIENT_CONFIG. */
  config?: Partial<KernelClientConfig>;
}

/** The kernel process ended (or could not be started); the message has its exit status and last output. */
export class KernelDiedError extends Error {
  constructor(
    message: string,
    /** Exit code, or null when it ended by a signal or never started. */
    readonly exitCode: number | null,
    /** The signal that ended it, if any. */
    readonly signal: NodeJS.Signals | null,
  ) {
    super(message);
    this.name = "KernelDiedError";
  }
}

/** content of an execute_reply. */
export interface ExecuteReply {
  status: "ok" | "error" | "aborted";
  execution_count?: number | null;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** What happened to one execute_request. */
export interface ExecuteOutcome {
  /** The execute_reply content; null when a timed-out execution never replied, even after the interrupt. */
  reply: ExecuteReply | null;
  /** true when the execution ran past its timeout and was interrupted. */
  timedOut: boolean;
}

/** Options for one execution. */
export interface ExecuteOptions {
  /** Seconds before the execution is interrupted and reported as timed out. */
  timeout: number;
  /** Receives every iopub message whose parent is this execution, in order, up to (excluding) its idle status. */
  onIopub: (msg: Message) => void;
}

type Waiter = (msg: Message) => void;

/** Milliseconds to wait, after the kernel process exited, for the rest of its output. */
const STDIO_DRAIN_MS = 500;

/** The user name for message headers (containers may have no passwd entry for the uid). */
function username(): string {
  try {
    return userInfo().username;
  } catch {
    return "moelab";
  }
}

/** The msg_id of the request `msg` answers or belongs to. */
function parentId(msg: Message): string | undefined {
  return (msg.parent_header as Partial<Header>).msg_id;
}

const live = new Set<KernelClient>();
let exitHookInstalled = false;

/** Kills every kernel still running when this process exits (tests, Ctrl-C), so none is left behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const client of live) client.killNow();
  });
}

/** A running kernel and the four sockets connected to it (heartbeat unused: process exit is watched instead). */
export class KernelClient {
  /** The kernel_info_reply content. */
  info: Record<string, unknown> = {};
  private readonly session = new Session(username());
  private readonly signer: Signer;
  private readonly shell: zmq.Dealer;
  private readonly control: zmq.Dealer;
  private readonly stdin: zmq.Dealer;
  private readonly iopub: zmq.Subscriber;
  private readonly replies = new Map<string, Waiter>();
  private readonly iopubHandlers = new Map<string, Waiter>();
  private readonly sendQueues = new Map<zmq.Dealer, Promise<unknown>>();
  private iopubSeen = false;
  private tail = "";
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<KernelDiedError>;
  private closed = false;
  private readonly process: ChildProcess;

  private constructor(
    readonly spec: KernelSpec,
    connection: ConnectionInfo,
    /** The connection file written for this kernel (deleted at shutdown). */
    readonly connectionFile: string,
    private readonly config: KernelClientConfig,
    options: StartKernelOptions,
  ) {
    this.signer = new Signer(connection.signature_scheme, connection.key);
    const routingId = this.session.id;
    this.shell = new zmq.Dealer({ routingId, linger: 0 });
    this.control = new zmq.Dealer({ routingId, linger: 0 });
    this.stdin = new zmq.Dealer({ routingId, linger: 0 });
    this.iopub = new zmq.Subscriber({ linger: 0 });
    this.iopub.subscribe();
    this.shell.connect(channelAddress(connection, "shell"));
    this.control.connect(channelAddress(connection, "control"));
    this.stdin.connect(channelAddress(connection, "stdin"));
    this.iopub.connect(channelAddress(connection, "iopub"));

    const [command, ...args] = kernelCommand(spec, connectionFile);
    this.process = spawn(command, args, {
      cwd: options.cwd,
      // JPY_PARENT_PID: kernels that poll their parent (ipykernel) exit when this process is gone.
      env: { ...(options.env ?? process.env), JPY_PARENT_PID: String(process.pid), ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: interrupts and kills reach the whole kernel
    });
    this.process.stdout?.on("data", (chunk: Buffer) => this.note(chunk.toString("utf8")));
    this.process.stderr?.on("data", (chunk: Buffer) => this.note(chunk.toString("utf8")));
    this.exited = new Promise((resolve) => {
      const died = (code: number | null, signal: NodeJS.Signals | null, why: string) => {
        if (this.exit) return;
        this.exit = { code, signal };
        live.delete(this);
        const output = this.tail.trim() ? `; its last output:\n${this.tail.trimEnd()}` : " (it printed nothing)";
        resolve(new KernelDiedError(`kernel "${spec.name}" ${why}${output}`, code, signal));
      };
      this.process.once("error", (e) => died(null, null, `could not be started (${command}: ${e.message})`));
      this.process.once("exit", (code, signal) => {
        const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        // Its last stderr may still be in the pipe: wait for the pipes to close (briefly: a child may hold them).
        const timer = setTimeout(() => died(code, signal, why), STDIO_DRAIN_MS);
        this.process.once("close", () => {
          clearTimeout(timer);
          died(code, signal, why);
        });
      });
    });
    live.add(this);
    installExitHook();
    this.pump(this.shell, (msg) => this.resolveReply(msg));
    this.pump(this.control, (msg) => this.resolveReply(msg));
    this.pump(this.stdin, (msg) => this.answerInput(msg));
    this.pump(this.iopub, (msg) => this.dispatchIopub(msg));
  }

  /** Starts the kernel of `spec` and waits until it answers kernel_info and its iopub messages arrive. */
  static async start(spec: KernelSpec, options: StartKernelOptions): Promise<KernelClient> {
    const config = withDefaults(
      "KernelClient.start(spec, options.config)",
      DEFAULT_KERNEL_CLIENT_CONFIG,
      options.config,
    );
    const connection = await newConnectionInfo(spec.name);
    const file = writeConnectionFile(connection);
    const client = new KernelClient(spec, connection, file, config, options);
    try {
      await client.waitForReady();
    } catch (e) {
      await client.shutdown();
      throw e;
    }
    return client;
  }

  /** true until the kernel process has exited. */
  get alive(): boolean {
    return this.exit === null;
  }

  /** Executes `code`; resolves after both its execute_reply and its iopub idle arrived (or after a timeout). */
  async execute(code: string, options: ExecuteOptions): Promise<ExecuteOutcome> {
    const request = this.session.message(
      "execute_request",
      { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      null,
    );
    const id = request.header.msg_id;
    const idle = new Promise<void>((resolve) =>
      this.iopubHandlers.set(id, (msg) => {
        if (msg.header.msg_type === "status" && msg.content.execution_state === "idle") resolve();
        else options.onIopub(msg);
      }),
    );
    const reply = this.expectReply(id);
    const done = Promise.all([reply, idle]).then(([msg]) => msg.content as unknown as ExecuteReply);
    try {
      await this.send(this.shell, request);
      const finished = await this.within(done, options.timeout, "execute_request");
      if (finished !== undefined) return { reply: finished, timedOut: false };
      await this.interrupt();
      const late = await this.within(done, this.config.interruptGrace, "interrupted execute_request");
      return { reply: late ?? null, timedOut: true };
    } finally {
      this.iopubHandlers.delete(id);
      this.replies.delete(id);
    }
  }

  /** Interrupts the running execution: interrupt_request on control, or SIGINT to the kernel's process group. */
  async interrupt(): Promise<void> {
    if (!this.alive) return;
    if (this.spec.interrupt_mode === "message") {
      const request = this.session.message("interrupt_request", {}, null);
      const reply = this.expectReply(request.header.msg_id);
      await this.send(this.control, request);
      await this.within(reply, this.config.interruptGrace, "interrupt_request");
      this.replies.delete(request.header.msg_id);
    } else {
      this.signal("SIGINT");
    }
  }

  /** Asks the kernel to shut down, kills it if it does not within the grace period, closes sockets. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.alive) {
      const request = this.session.message("shutdown_request", { restart: false }, null);
      await this.send(this.control, request).catch(() => undefined);
      await this.waitExit(this.config.shutdownGrace);
    }
    if (this.alive) {
      this.signal("SIGTERM");
      await this.waitExit(this.config.shutdownGrace);
    }
    if (this.alive) {
      this.signal("SIGKILL");
      await this.exited;
    }
    this.signal("SIGKILL"); // leftovers in the kernel's process group
    for (const socket of [this.shell, this.control, this.stdin, this.iopub]) socket.close();
    rmSync(this.connectionFile, { force: true });
  }

  /** Synchronous last resort (process exit): kills the kernel's process group. */
  killNow(): void {
    this.signal("SIGKILL");
    rmSync(this.connectionFile, { force: true });
  }

  /** The kernel's recent stdout/stderr and client notes (for error messages). */
  get outputTail(): string {
    return this.tail;
  }

  private async waitForReady(): Promise<void> {
    const deadline = Date.now() + this.config.startupTimeout * 1000;
    while (Date.now() < deadline) {
      const request = this.session.message("kernel_info_request", {}, null);
      const reply = this.expectReply(request.header.msg_id);
      await this.send(this.shell, request);
      const answer = await this.within(reply, this.config.kernelInfoRetry, "kernel_info_request");
      this.replies.delete(request.header.msg_id);
      if (answer === undefined) continue;
      this.info = answer.content;
      if (this.iopubSeen) return;
      // The reply came but iopub's subscription may not be connected yet: ask again until iopub traffic shows.
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (this.iopubSeen) return;
    }
    throw new Error(
      `kernel "${this.spec.name}" did not answer kernel_info_request within ${this.config.startupTimeout} s` +
        (this.tail.trim() ? `; its last output:\n${this.tail.trimEnd()}` : ""),
    );
  }

  /** Waits for `work` at most `seconds`: its value, or undefined on timeout; rejects if the kernel dies first. */
  private async within<T>(work: Promise<T>, seconds: number, what: string): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), seconds * 1000);
    });
    const death = this.exited.then((error) => {
      throw new KernelDiedError(`${what}: ${error.message}`, error.exitCode, error.signal);
    });
    try {
      return await Promise.race([work, timeout, death]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async waitExit(seconds: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, seconds * 1000)))]);
    clearTimeout(timer);
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  private expectReply(msgId: string): Promise<Message> {
    return new Promise((resolve) => this.replies.set(msgId, resolve));
  }

  private resolveReply(msg: Message): void {
    const id = parentId(msg);
    const waiter = id === undefined ? undefined : this.replies.get(id);
    if (!waiter) return; // a late reply to a request given up on (kernel_info retries, timeouts)
    this.replies.delete(id!);
    waiter(msg);
  }

  private dispatchIopub(msg: Message): void {
    this.iopubSeen = true;
    const id = parentId(msg);
    if (id !== undefined) this.iopubHandlers.get(id)?.(msg);
  }

  /** Headless: an input_request (from a kernel that ignores allow_stdin=false) gets an empty answer. */
  private answerInput(msg: Message): void {
    if (msg.header.msg_type !== "input_request") return;
    this.note(`[runner] answered input_request ${JSON.stringify(msg.content.prompt ?? "")} with an empty line\n`);
    const reply = this.session.message("input_reply", { value: "" }, msg.header);
    this.send(this.stdin, reply).catch((e) => this.note(`[runner] could not answer input_request: ${e}\n`));
  }

  /** Sends on a socket, one message at a time per socket. */
  private send(socket: zmq.Dealer, msg: Message<unknown>): Promise<void> {
    const previous = this.sendQueues.get(socket) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => socket.send(encode(msg, this.signer)));
    this.sendQueues.set(socket, next);
    return next;
  }

  private async pump(socket: zmq.Dealer | zmq.Subscriber, handle: (msg: Message) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: Message;
        try {
          msg = decode(frames, this.signer);
        } catch (e) {
          this.note(`[runner] dropped a message: ${(e as Error).message}\n`);
          continue;
        }
        handle(msg);
      }
    } catch (e) {
      if (!this.closed) this.note(`[runner] socket stopped: ${(e as Error).message}\n`);
    }
  }

  private note(text: string): void {
    this.tail = (this.tail + text).slice(-this.config.outputTailChars);
  }
}
