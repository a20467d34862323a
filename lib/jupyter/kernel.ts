// The MoE Lab kernel: answers Jupyter messaging protocol 5.3 requests on shell and control, runs cells through
// tslab (preloaded with tf and lab), publishes status, inputs, results, displays, streams and errors on iopub.
// Reference: https://jupyter-client.readthedocs.io/en/latest/messaging.html
import { CancelToken, KeyboardInterrupt, runCancellable } from "../cancel";
import { setKernelHost } from "../display";
import {
  awaitResult,
  CellRunner,
  isComplete,
  isThenable,
  preludeSource,
  resultText,
  TYPESCRIPT_VERSION,
} from "./cells";
import type { KernelConfig } from "./config";
import { thrownError, type ErrorContent } from "./errors";
import { History, type HistoryRequest } from "./history";
import { CellHost, type TslabDisplayWriter } from "./host";
import { Iopub, ProcessOutput, type StreamTarget } from "./iopub";
import type { KernelSockets } from "./sockets";
import { decode, encode, PROTOCOL_VERSION, Session, Signer, type Header, type Message } from "./wire";

// tslab.display() writes through this module-level hook of tslab (read on every call in tslab/dist/public.js).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- tslab ships no types for this internal module
const tslabHook: { lastWriteDisplayData: TslabDisplayWriter | null } = require("tslab/dist/jupyter");

/** What the kernel needs besides its sockets. */
export interface KernelOptions {
  /** Settings (see config.ts). */
  config: KernelConfig;
  /** Folder cells run in and resolve imports from (Jupyter starts kernels in the notebook's folder). */
  cwd: string;
  /** Version reported as implementation_version. */
  version: string;
  /** Prepares the library (picks the tensor backend) and returns the one-line banner. */
  init: () => Promise<string>;
  /** Called once the kernel has answered a shutdown_request and closed its sockets. */
  exit: () => void;
}

/** The fields of an execute_request this kernel reads. */
interface ExecuteRequest {
  code?: string;
  silent?: boolean;
  store_history?: boolean;
  allow_stdin?: boolean;
  stop_on_error?: boolean;
}

type Content = Record<string, unknown>;
type Handler = (msg: Message) => Content | null | Promise<Content | null>;
type Channel = "shell" | "control";

/**
 * Errors that mean "stopped by an interrupt" without being a KeyboardInterrupt: Node's vm (breakOnSigint stops a
 * cell's synchronous code on SIGINT) and tslab's executor (it stops waiting for a cell's top-level await).
 */
const FOREIGN_INTERRUPTS = new Set(["Script execution was interrupted by `SIGINT`", "Interrupted asynchronously"]);

/** The error a cell fails with when it did not stop within the grace period after an interrupt. */
function unresponsive(graceMs: number): KeyboardInterrupt {
  return new KeyboardInterrupt(
    `interrupted: the cell did not stop within ${graceMs} ms, so the kernel stopped waiting for it; ` +
      "work that does not check for interrupts may go on in the background (the library's loops stop at their next step)",
  );
}

/** A running kernel. Create with Kernel.start. */
export class Kernel {
  private readonly session = new Session("moelab");
  private readonly signer: Signer;
  private readonly iopub: Iopub;
  private readonly output: ProcessOutput;
  private readonly history = new History();
  private readonly queue: { msg: Message; aborted: boolean }[] = [];
  private pumping = false;
  private count = 0;
  private streamTarget: StreamTarget = "terminal";
  private host: CellHost | null = null;
  private banner = "";
  private cells: CellRunner | null = null;
  /** Set when the preload failed: told (once) on the stderr of the first cell. */
  private preloadProblem: string | null = null;
  private interruptCell: ((e: Error) => void) | null = null;
  /** The cancellation token cells run under; an interrupt cancels it (and all work started under it) and replaces it. */
  private token = new CancelToken();
  /** Set by an interrupt while a cell runs: stops waiting for the cell once the grace period is over. */
  private forceTimer: NodeJS.Timeout | null = null;
  /** An interrupt arrived while the running cell ran. */
  private cellInterrupted = false;
  private exiting = false;
  private stopping: Promise<void> | null = null;
  /** Resolves once init() has run and the banner is known. */
  private readonly initialised: Promise<void>;
  /** Resolves once the prelude has run too; cells wait for it. */
  readonly ready: Promise<void>;

  private readonly shellHandlers: Record<string, Handler> = {
    kernel_info_request: () => this.kernelInfo(),
    execute_request: (msg) => this.execute(msg),
    is_complete_request: (msg) => ({ ...isComplete(String(msg.content.code ?? "")) }),
    complete_request: (msg) => this.complete(msg),
    inspect_request: (msg) => this.inspect(msg),
    history_request: (msg) => ({ status: "ok", history: this.history.query(msg.content as HistoryRequest) }),
    comm_info_request: () => ({ status: "ok", comms: {} }),
    // No comm targets exist: close comms a frontend opens, ignore messages to them (as ipykernel does).
    comm_open: (msg) => {
      this.iopub.publish("comm_close", { comm_id: msg.content.comm_id, data: {} }, msg.header);
      return null;
    },
    comm_msg: () => null,
    comm_close: () => null,
    connect_request: () => {
      const c = this.sockets.connection;
      return {
        status: "ok",
        shell_port: c.shell_port,
        iopub_port: c.iopub_port,
        stdin_port: c.stdin_port,
        hb_port: c.hb_port,
        control_port: c.control_port,
      };
    },
    shutdown_request: (msg) => this.shutdown(msg),
  };

  private readonly controlHandlers: Record<string, Handler> = {
    kernel_info_request: () => this.kernelInfo(),
    shutdown_request: (msg) => this.shutdown(msg),
    interrupt_request: () => {
      this.interrupt();
      return { status: "ok" };
    },
  };

  private constructor(
    private readonly sockets: KernelSockets,
    private readonly options: KernelOptions,
  ) {
    this.signer = new Signer(sockets.connection.signature_scheme, sockets.connection.key);
    this.iopub = new Iopub(
      (type, content, parent) => this.sendIopub(type, content, parent),
      options.config.streamFlushMs,
    );
    this.output = new ProcessOutput(this.iopub, () => this.streamTarget);
    this.ownProcessFailures(); // before init() loads backends that add their own listeners
    this.initialised = this.initialise();
    this.ready = this.initialised.then(() => this.preload());
  }

  /** Starts serving on bound `sockets`: status "starting", then the library preload, while requests queue. */
  static start(sockets: KernelSockets, options: KernelOptions): Kernel {
    const kernel = new Kernel(sockets, options);
    kernel.iopub.publish("status", { execution_state: "starting" }, null);
    void sockets.listen("shell", (frames) => kernel.receive("shell", frames));
    void sockets.listen("control", (frames) => kernel.receive("control", frames));
    return kernel;
  }

  /**
   * Interrupts (SIGINT and interrupt_request): cancels the work of every cell so far (library loops throw
   * KeyboardInterrupt before their next step), gives the running cell interruptGraceMs to fail by itself, then stops
   * waiting for it. Cells after the interrupt run under a fresh token.
   */
  interrupt(): void {
    this.cancelWork();
    if (!this.interruptCell || this.forceTimer) return;
    this.cellInterrupted = true;
    const graceMs = this.options.config.interruptGraceMs;
    this.forceTimer = setTimeout(() => {
      this.forceTimer = null;
      this.cells?.interrupt();
      this.interruptCell?.(unresponsive(graceMs));
    }, graceMs);
  }

  private cancelWork(): void {
    this.token.cancel("interrupted (Kernel › Interrupt)");
    this.token = new CancelToken();
  }

  /** Writes a line to the kernel's log (the terminal that started it), never to a cell. */
  log(line: string): void {
    this.output.log(line);
  }

  /**
   * Uncaught exceptions and unhandled rejections go to the stderr of the cell that runs (or ran last) and never
   * stop the kernel. Listeners that others add for these events are removed: tfjs-backend-wasm's Emscripten
   * glue adds ones that rethrow, which would kill the kernel on the first unhandled rejection in a cell.
   */
  private ownProcessFailures(): void {
    const report = (what: string) => (reason: unknown) =>
      process.stderr.write(`${what}: ${thrownError(reason).traceback.join("\n")}\n`);
    const onException = report("Uncaught exception");
    const onRejection = report("Unhandled promise rejection");
    const ours = new Set<unknown>([onException, onRejection]);
    process.on("uncaughtException", onException);
    process.on("unhandledRejection", onRejection);
    process.on("newListener", (event: string | symbol, listener: unknown) => {
      if ((event === "uncaughtException" || event === "unhandledRejection") && !ours.has(listener)) {
        process.nextTick(() => process.removeListener(event, listener as (...args: unknown[]) => void));
      }
    });
  }

  private async initialise(): Promise<void> {
    try {
      this.banner = await this.options.init();
    } catch (e) {
      const error = thrownError(e);
      this.banner = `MoE Lab kernel: the library failed to initialise (${error.ename}: ${error.evalue})`;
      this.preloadProblem = `MoE Lab: init() failed, the backend may not be set up:\n${error.traceback.join("\n")}\n`;
      this.log(this.preloadProblem);
    }
  }

  /** Runs the hidden prelude (imports of tf and lab): no count, no outputs, no history. */
  private async preload(): Promise<void> {
    this.cells = new CellRunner(this.options.cwd);
    const outcome = await this.cells.run(preludeSource(this.options.cwd));
    if (outcome.status === "error") {
      this.preloadProblem =
        (this.preloadProblem ?? "") +
        `MoE Lab: preloading tf and lab failed, so they are not defined (import them yourself):\n` +
        `${outcome.error.ename}: ${outcome.error.evalue}\n${outcome.error.traceback.join("\n")}\n`;
      this.log(this.preloadProblem);
    }
  }

  private receive(channel: Channel, frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = decode(frames, this.signer);
    } catch (e) {
      this.log(`dropped a message on ${channel}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (channel === "control") {
      void this.handle("control", msg, false);
      return;
    }
    this.queue.push({ msg, aborted: false });
    void this.pump();
  }

  /** Handles shell requests one at a time, in arrival order. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift())
        await this.handle("shell", item.msg, item.aborted);
    } finally {
      this.pumping = false;
    }
  }

  /** busy, the reply (if the message type has one), idle; an aborted request gets status "aborted". */
  private async handle(channel: Channel, msg: Message, aborted: boolean): Promise<void> {
    const type = msg.header.msg_type;
    const handler = (channel === "shell" ? this.shellHandlers : this.controlHandlers)[type];
    this.iopub.publish("status", { execution_state: "busy" }, msg.header);
    try {
      if (!handler) {
        this.log(`unknown message type ${JSON.stringify(type)} on ${channel}; ignored`);
        return;
      }
      let content: Content | null;
      try {
        content = aborted ? { status: "aborted" } : await handler(msg);
      } catch (e) {
        this.log(`${type} failed: ${e instanceof Error ? e.stack : String(e)}`);
        content = { status: "error", ...thrownError(e) };
      }
      if (content) {
        const reply = this.session.message(type.replace(/_request$/, "_reply"), content, msg.header, msg.identities);
        void this.sockets.send(channel, encode(reply, this.signer));
      }
    } finally {
      this.iopub.publish("status", { execution_state: "idle" }, msg.header);
    }
    if (this.exiting) await this.stop();
  }

  private sendIopub(msgType: string, content: Content, parent: Header | null): void {
    const topic = Buffer.from(`kernel.${this.session.id}.${msgType}`);
    void this.sockets.send("iopub", encode(this.session.message(msgType, content, parent, [topic]), this.signer));
  }

  private async kernelInfo(): Promise<Content> {
    await this.initialised;
    return {
      status: "ok",
      protocol_version: PROTOCOL_VERSION,
      implementation: "moelab",
      implementation_version: this.options.version,
      language_info: {
        name: "typescript",
        version: TYPESCRIPT_VERSION,
        mimetype: "text/typescript",
        file_extension: ".ts",
        pygments_lexer: "typescript",
        // name + typescript select CodeMirror's TypeScript mode in classic Notebook, mode in JupyterLab (as tslab).
        codemirror_mode: { name: "javascript", typescript: true, mode: "typescript" },
      },
      banner: this.banner,
    };
  }

  private async complete(msg: Message): Promise<Content> {
    await this.ready;
    const code = String(msg.content.code ?? "");
    const cursor = typeof msg.content.cursor_pos === "number" ? msg.content.cursor_pos : [...code].length;
    return { status: "ok", ...this.runner().complete(code, cursor), metadata: {} };
  }

  private async inspect(msg: Message): Promise<Content> {
    await this.ready;
    const code = String(msg.content.code ?? "");
    const cursor = typeof msg.content.cursor_pos === "number" ? msg.content.cursor_pos : [...code].length;
    const text = this.runner().inspect(code, cursor);
    return { status: "ok", found: text !== null, data: text !== null ? { "text/plain": text } : {}, metadata: {} };
  }

  private shutdown(msg: Message): Content {
    this.exiting = true;
    return { status: "ok", restart: msg.content.restart === true };
  }

  private live(req: ExecuteRequest): boolean {
    const mode = this.options.config.display;
    return mode === "auto" ? req.allow_stdin === true : mode === "live";
  }

  private async execute(msg: Message): Promise<Content> {
    const req = msg.content as ExecuteRequest;
    const code = String(req.code ?? "");
    const silent = req.silent === true;
    const store = !silent && req.store_history !== false;
    await this.ready;
    const count = store ? ++this.count : this.count;
    const parent = silent ? null : msg.header;
    if (parent) this.iopub.publish("execute_input", { code, execution_count: count }, parent);

    // A silent request's output is dropped; afterwards late output goes to the last visible cell again.
    const previous = { target: this.streamTarget, host: this.host };
    const host = new CellHost(this.live(req), parent, this.iopub);
    this.route(parent ?? "drop", host);
    try {
      if (parent && this.preloadProblem) {
        process.stderr.write(this.preloadProblem);
        this.preloadProblem = null;
      }
      const { error, output } = await this.runCell(code, host);
      if (!error && output !== null && parent) {
        this.iopub.publish(
          "execute_result",
          { execution_count: count, data: { "text/plain": output }, metadata: {} },
          parent,
        );
      }
      if (store) this.history.add(count, code, output);
      if (!error) return { status: "ok", execution_count: count, payload: [], user_expressions: {} };
      if (parent) this.iopub.publish("error", { ...error }, parent);
      if (req.stop_on_error !== false) await this.abortQueuedCells();
      return { status: "error", execution_count: count, ...error };
    } finally {
      if (!parent) this.route(previous.target, previous.host);
    }
  }

  /** Runs `code`, then waits for the work it tracked on `host`; the error, or the result's text/plain. */
  private async runCell(code: string, host: CellHost): Promise<{ error: ErrorContent | null; output: string | null }> {
    const interrupted = new Promise<never>((_, reject) => (this.interruptCell = reject));
    interrupted.catch(() => undefined);
    this.cellInterrupted = false;
    const runner = this.runner();
    let outcome = await runCancellable(this.token, () => runner.run(code));
    if (outcome.status === "ok" && outcome.hasValue && isThenable(outcome.value)) {
      outcome = await awaitResult(outcome.value, interrupted);
    }
    let error: ErrorContent | null = outcome.status === "error" ? outcome.error : null;
    try {
      const settled = await host.settle(interrupted);
      if (!error && settled.failed) error = thrownError(settled.reason);
    } catch (e) {
      error ??= thrownError(e);
    } finally {
      this.interruptCell = null;
      if (this.forceTimer) clearTimeout(this.forceTimer);
      this.forceTimer = null;
    }
    if (error && FOREIGN_INTERRUPTS.has(error.evalue)) {
      // SIGINT stopped synchronous code (the kernel's own handler did not run meanwhile) or tslab gave up waiting.
      if (!this.cellInterrupted) this.cancelWork();
      error = thrownError(
        this.cellInterrupted
          ? unresponsive(this.options.config.interruptGraceMs)
          : new KeyboardInterrupt("interrupted while the cell's code ran"),
      );
    }
    if (error || outcome.status !== "ok" || !outcome.hasValue) return { error, output: null };
    try {
      return { error: null, output: resultText(outcome.value, this.options.config.result) };
    } catch (e) {
      return { error: thrownError(e), output: null };
    }
  }

  /** Sends cell output (process streams, lab displays, tslab.display) to `target` and `host`. */
  private route(target: StreamTarget, host: CellHost | null): void {
    this.streamTarget = target;
    this.host = host;
    setKernelHost(host);
    tslabHook.lastWriteDisplayData = host ? host.tslabWriter : null;
  }

  /** After a failed cell: execute_requests that arrived before its reply are not run (as ipykernel does). */
  private async abortQueuedCells(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // lets messages already at the socket reach the queue
    for (const item of this.queue) if (item.msg.header.msg_type === "execute_request") item.aborted = true;
  }

  private runner(): CellRunner {
    if (!this.cells) throw new Error("the kernel is still starting");
    return this.cells;
  }

  /** Closes the compiler and the sockets (once), then exits. */
  private stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.iopub.flush();
      this.cells?.close();
      await this.sockets.close(this.options.config.lingerMs);
      this.options.exit();
    })();
    return this.stopping;
  }
}
