// The kernel's five ZeroMQ sockets, bound from a Jupyter connection file: shell, control, stdin (ROUTER),
// iopub (PUB) and heartbeat (REP, echoed). Sends are serialised per socket (zeromq 6 allows one send at a time).
// Reference: https://jupyter-client.readthedocs.io/en/latest/kernels.html#connection-files
import * as fs from "node:fs";
import * as zmq from "zeromq";

/** The fields of a Jupyter connection file this kernel uses. */
export interface ConnectionInfo {
  transport: string;
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
}

/** Reads and checks a connection file; the error names the file and the field that is wrong. */
export function readConnectionFile(file: string): ConnectionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`connection file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const info = raw as Record<string, unknown>;
  for (const port of ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"]) {
    if (!Number.isInteger(info[port]) || (info[port] as number) <= 0) {
      throw new Error(
        `connection file ${file}: ${port} should be a positive integer, got ${JSON.stringify(info[port])}`,
      );
    }
  }
  for (const field of ["transport", "ip", "key"]) {
    if (typeof info[field] !== "string") {
      throw new Error(`connection file ${file}: ${field} should be a string, got ${JSON.stringify(info[field])}`);
    }
  }
  return { signature_scheme: "hmac-sha256", ...info } as ConnectionInfo;
}

/** `socket.send`, queued: each call waits for the previous one (zeromq 6 allows one send at a time); failures are
 * reported on stderr, as a relay has nobody to answer them to. */
export function serialSender(socket: { send(frames: Buffer[]): Promise<void> }): (frames: Buffer[]) => void {
  let last: Promise<void> = Promise.resolve();
  return (frames) => {
    last = last
      .then(() => socket.send(frames))
      .catch((e: unknown) => {
        process.stderr.write(`send failed: ${e instanceof Error ? e.message : String(e)}\n`);
      });
  };
}

/** Names of the sockets that carry messages. */
export type Channel = "shell" | "control" | "stdin" | "iopub";

/** The bound sockets. */
export class KernelSockets {
  private readonly sockets: Record<Channel, zmq.Router | zmq.Publisher>;
  private readonly hb = new zmq.Reply();
  private readonly pending = new Map<Channel, Promise<void>>();

  private constructor(private readonly info: ConnectionInfo) {
    this.sockets = {
      shell: new zmq.Router(),
      control: new zmq.Router(),
      stdin: new zmq.Router(),
      iopub: new zmq.Publisher(),
    };
  }

  /** Binds all five sockets at the addresses of `info` and starts echoing heartbeats. */
  static async bind(info: ConnectionInfo): Promise<KernelSockets> {
    const s = new KernelSockets(info);
    const address = (port: number) => `${info.transport}://${info.ip}${info.transport === "ipc" ? "-" : ":"}${port}`;
    await Promise.all([
      s.sockets.shell.bind(address(info.shell_port)),
      s.sockets.control.bind(address(info.control_port)),
      s.sockets.stdin.bind(address(info.stdin_port)),
      s.sockets.iopub.bind(address(info.iopub_port)),
      s.hb.bind(address(info.hb_port)),
    ]);
    void s.echoHeartbeats();
    return s;
  }

  /** Calls `onFrames` for every message that arrives on a ROUTER socket, until the socket closes. */
  async listen(channel: "shell" | "control", onFrames: (frames: Buffer[]) => void): Promise<void> {
    try {
      for await (const frames of this.sockets[channel] as zmq.Router) onFrames(frames);
    } catch (e) {
      if (!this.closed(e)) throw e;
    }
  }

  /** Queues `frames` on `channel`; resolves once handed to ZeroMQ. */
  send(channel: Channel, frames: Buffer[]): Promise<void> {
    const socket = this.sockets[channel];
    const next = (this.pending.get(channel) ?? Promise.resolve()).then(() => socket.send(frames));
    this.pending.set(
      channel,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Waits for queued sends, then closes every socket (unsent messages linger `lingerMs`). */
  async close(lingerMs: number): Promise<void> {
    await Promise.all(this.pending.values());
    for (const socket of [...Object.values(this.sockets), this.hb]) {
      socket.linger = lingerMs;
      socket.close();
    }
  }

  /** The connection this kernel serves. */
  get connection(): ConnectionInfo {
    return this.info;
  }

  private async echoHeartbeats(): Promise<void> {
    try {
      for await (const frames of this.hb) await this.hb.send(frames);
    } catch (e) {
      if (!this.closed(e)) throw e;
    }
  }

  private closed(e: unknown): boolean {
    return (e as { code?: string }).code === "ETERM" || this.hb.closed;
  }
}
