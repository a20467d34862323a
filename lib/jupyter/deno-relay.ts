// The shell/iopub relay between a Jupyter frontend and Deno's own kernel (`deno jupyter`), used by deno-main.ts. It
// makes every output of a cell arrive before that cell's execute_reply and idle status, and under the cell's msg_id.
//
// Why Deno needs this (Deno 2.9, cli/js/jupyter_kernel.js and cli/ops/jupyter.rs): user code broadcasts
// (`Deno.jupyter.broadcast`, console.log, the last expression's execute_result) into a channel from the REPL thread; a
// separate drainer on the kernel thread takes them out one by one, stamps each with the parent header of the request
// the kernel is serving *at that moment*, signs it (asynchronously) and publishes it. The execute_reply and the idle
// status are sent by the request handler, which does not wait for the drainer. So an output broadcast at the end of a
// cell can be published after the cell's reply and idle (nbconvert and our runner have moved on and drop it), or, if
// the next request has started, under the next request's msg_id (filed under the wrong cell).
//
// The fix is a marker, not a wait. Right after each execute_request the relay sends Deno a hidden silent request (the
// *flush*) whose code broadcasts one marker message. Deno serves shell requests one at a time, so the flush runs after
// the cell; the drainer is first in, first out, so the marker is published after every message the cell broadcast.
// Until the marker is in, the relay holds the cell's error, execute_reply (shell) and idle status (iopub); messages
// stamped with the flush's msg_id are the cell's late outputs and are re-parented to the cell (and re-signed). The
// flush's own status, input, reply and marker never reach the frontend. Hidden requests (the kernel's prelude) work the same way,
// and none of their messages reach the frontend.
// Reference: https://jupyter-client.readthedocs.io/en/latest/messaging.html (execute, status, iopub parent headers).
import { encode, Session, type Message, type Signer } from "./wire";

/** msg_type of the marker a flush broadcasts. */
export const FLUSH_MARKER = "moelab_flush";

/** The code of a flush request: one marker into Deno's iopub channel, behind everything the cell broadcast. */
export const FLUSH_CODE = `Deno.jupyter.broadcast(${JSON.stringify(FLUSH_MARKER)}, {});`;

/** Where the relay sends frames. Each target must keep the order of its own sends. */
export interface RelayTargets {
  /** To Deno's shell socket (a request, from `<IDS|MSG>` on: Deno's ROUTER adds the relay's own routing frame). */
  toDeno(frames: Buffer[]): void;
  /** To the frontend's shell socket (routing frames first). */
  toFrontend(frames: Buffer[]): void;
  /** To the frontend's iopub socket. */
  publish(frames: Buffer[]): void;
}

/** An execute_request the relay has sent to Deno. */
interface Execution {
  /** The request's msg_id. */
  id: string;
  /** The request's header frame, verbatim: the parent_header of the cell's outputs. */
  header: Buffer;
  /** The frontend's routing frames; null for a hidden request (nothing of it reaches the frontend). */
  route: Buffer[] | null;
  /** Whether the flush's marker has arrived (every output of the cell has been published). */
  flushed: boolean;
  /** The execute_reply and the idle status, held until flushed; null once passed on. */
  reply?: Buffer[] | null;
  idle?: Buffer[] | null;
  /** Error outputs, held until flushed: Deno publishes a cell's exception directly, ahead of outputs the cell
   * broadcast before it that may still be in the drainer. */
  errors: Buffer[][];
}

/** One of a message's frames after `<IDS|MSG>`: 2 header, 3 parent header, 5 content. */
type Part = 2 | 3 | 5;

const DELIMITER = "<IDS|MSG>";

function delimiter(frames: readonly Buffer[]): number {
  return frames.findIndex((f) => f.toString() === DELIMITER);
}

/** A field of a JSON part of a message, or undefined (no delimiter, bad JSON, no such field). */
function field(frames: readonly Buffer[], part: Part, key: string): unknown {
  const at = delimiter(frames);
  if (at < 0 || frames.length <= at + part) return undefined;
  try {
    return (JSON.parse(frames[at + part].toString("utf8")) as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function parentId(frames: readonly Buffer[]): string | undefined {
  const id = field(frames, 3, "msg_id");
  return typeof id === "string" ? id : undefined;
}

/** The relay's state machine. Feed it what arrives on each socket; it calls `targets` (see the file header). */
export class DenoRelay {
  /** Executions awaiting their flush or their reply/idle, by the request's msg_id. */
  private readonly executions = new Map<string, Execution>();
  /** The execution each flush follows, by the flush's msg_id (kept after the flush: a straggler is re-parented). */
  private readonly flushes = new Map<string, Execution>();
  /** Frontend routing frames of the other requests awaiting their reply (Deno keeps one routing frame only). */
  private readonly routes = new Map<string, Buffer[]>();
  private readonly session = new Session("moelab");

  /** `onError` hears of a hidden request (prelude or flush) that failed: nothing of it reaches the frontend. */
  constructor(
    private readonly signer: Signer,
    private readonly targets: RelayTargets,
    private readonly onError: (what: string) => void,
  ) {}

  /** A request from the frontend (its routing frames, `<IDS|MSG>`, the signed parts). */
  fromFrontend(frames: Buffer[]): void {
    const at = delimiter(frames);
    const id = field(frames, 2, "msg_id");
    if (at < 0 || typeof id !== "string") return; // not a Jupyter message
    const route = frames.slice(0, at);
    if (field(frames, 2, "msg_type") === "execute_request") this.execute(id, frames.slice(at), route);
    else {
      this.routes.set(id, route);
      this.targets.toDeno(frames.slice(at));
    }
  }

  /** Runs `code` silently in Deno (the prelude); nothing of it reaches the frontend. */
  hidden(code: string): void {
    const request = this.request(code);
    this.execute(request.header.msg_id, encode(request, this.signer), null);
  }

  /** A message from Deno's shell socket (a reply). */
  fromDenoShell(frames: Buffer[]): void {
    const parent = parentId(frames);
    if (parent === undefined) return;
    const followed = this.flushes.get(parent);
    if (followed) {
      // The flush's own reply. Ok: its marker was broadcast before this reply was sent and is on its way. Not ok: no
      // marker will come, so the execution is released now rather than held forever.
      if (field(frames, 5, "status") !== "ok" && !followed.flushed) {
        this.onError(`flush after ${followed.id} failed: ${String(field(frames, 5, "evalue"))}`);
        this.markFlushed(followed);
      }
      return;
    }
    const execution = this.executions.get(parent);
    if (execution) {
      if (execution.route === null && field(frames, 5, "status") !== "ok")
        this.onError(
          `hidden request failed: ${String(field(frames, 5, "ename"))}: ${String(field(frames, 5, "evalue"))}`,
        );
      execution.reply = frames;
      this.release(execution);
      return;
    }
    const route = this.routes.get(parent);
    if (!route) return; // a reply to nobody
    this.routes.delete(parent);
    this.targets.toFrontend([...route, ...frames]);
  }

  /** A message from Deno's iopub socket. */
  fromDenoIopub(frames: Buffer[]): void {
    const parent = parentId(frames);
    const type = field(frames, 2, "msg_type");
    const followed = parent === undefined ? undefined : this.flushes.get(parent);
    if (followed) {
      if (type === FLUSH_MARKER) this.markFlushed(followed);
      else if (type !== "status" && type !== "execute_input" && followed.route !== null)
        this.targets.publish(this.reparent(frames, followed.header)); // a late output of the cell the flush follows
      return;
    }
    const execution = parent === undefined ? undefined : this.executions.get(parent);
    if (!execution) this.targets.publish(frames);
    else if (type === "status" && field(frames, 5, "execution_state") === "idle") {
      execution.idle = frames;
      this.release(execution);
    } else if (type === "error" && !execution.flushed) execution.errors.push(frames);
    else if (execution.route !== null) this.targets.publish(frames);
  }

  /** Sends an execute_request to Deno (from `<IDS|MSG>` on), and its flush right behind it. */
  private execute(id: string, request: Buffer[], route: Buffer[] | null): void {
    const execution: Execution = { id, header: request[2], route, flushed: false, errors: [] };
    this.executions.set(id, execution);
    const flush = this.request(FLUSH_CODE);
    this.flushes.set(flush.header.msg_id, execution);
    this.targets.toDeno(request);
    this.targets.toDeno(encode(flush, this.signer));
  }

  private request(code: string): Message<unknown> {
    const content = {
      code,
      silent: true,
      store_history: false,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: false,
    };
    return this.session.message("execute_request", content, null);
  }

  private markFlushed(execution: Execution): void {
    execution.flushed = true;
    this.release(execution);
  }

  /** Passes on the held errors, idle status and reply once the cell is flushed; forgets the execution when out. */
  private release(execution: Execution): void {
    if (!execution.flushed) return;
    if (execution.route !== null) for (const error of execution.errors) this.targets.publish(error);
    execution.errors = [];
    if (execution.idle) {
      if (execution.route !== null) this.targets.publish(execution.idle);
      execution.idle = null;
    }
    if (execution.reply) {
      if (execution.route !== null) this.targets.toFrontend([...execution.route, ...execution.reply]);
      execution.reply = null;
    }
    if (execution.idle === null && execution.reply === null) this.executions.delete(execution.id);
  }

  /** `frames` with `parent` as parent_header, signed again. */
  private reparent(frames: Buffer[], parent: Buffer): Buffer[] {
    const at = delimiter(frames);
    const signed = [frames[at + 2], parent, frames[at + 4], frames[at + 5]];
    return [...frames.slice(0, at + 1), Buffer.from(this.signer.sign(signed)), ...signed, ...frames.slice(at + 6)];
  }
}
