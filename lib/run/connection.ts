// A kernel connection file: five free TCP ports on 127.0.0.1, a random HMAC key, hmac-sha256.
// Reference: Jupyter client docs, "Connection files" (jupyter_client connect.py write_connection_file).
import { randomBytes, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Channel, ConnectionInfo } from "../jupyter/sockets";

const LOCALHOST = "127.0.0.1";

/** Holds `count` distinct ports that are free now (all bound at once, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, LOCALHOST, () => resolve());
      });
    }
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("freePorts: server has no TCP address");
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** New connection info for kernel `kernelName`: free ports and a random 256-bit key. */
export async function newConnectionInfo(kernelName: string): Promise<ConnectionInfo & { kernel_name: string }> {
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = await freePorts(5);
  return {
    transport: "tcp",
    ip: LOCALHOST,
    shell_port,
    iopub_port,
    stdin_port,
    control_port,
    hb_port,
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
}

/** The zeromq address of `channel`. */
export function channelAddress(info: ConnectionInfo, channel: Channel): string {
  return `tcp://${info.ip}:${info[`${channel}_port`]}`;
}

/** Writes `info` to a fresh file (owner-only) in `dir` and returns its path. */
export function writeConnectionFile(info: ConnectionInfo, dir: string = tmpdir()): string {
  const file = join(dir, `moelab-kernel-${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(info, null, 1), { mode: 0o600 });
  return file;
}
