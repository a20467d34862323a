// Entry point of the MoE Lab Deno kernel (kernels/moelab-deno/kernel.json): runs Deno's own Jupyter kernel
// (`deno jupyter --kernel`, the repository's pinned `deno` npm package) and preloads `lab` and `tf` as the tslab kernel
// does. Deno serves the frontend's control and heartbeat ports directly; shell and iopub pass through this process:
// shell requests wait until the hidden prelude (one silent execute_request) has run, so the first cell always finds
// `lab`, and iopub carries everything except the prelude's own messages. Each shell reply goes back to the frontend
// that sent its parent request. (Deno addresses stdin requests to this proxy, so they reach no frontend: `prompt()`
// is not supported under this kernel.)
// Reference: https://docs.deno.com/runtime/reference/cli/jupyter/; the messaging protocol (execute_request `silent`).
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { pathToFileURL } from "node:url";
import * as path from "node:path";
import * as zmq from "zeromq";
import { channelAddress, newConnectionInfo, writeConnectionFile } from "../run/connection";
import { readConnectionFile } from "./sockets";
import { decode, encode, Session, Signer } from "./wire";

/** The Deno binary of the pinned `deno` npm package (a devDependency of the repository). */
export function denoBinary(): string {
  return path.join(path.dirname(require.resolve("deno/package.json")), "deno");
}

/**
 * The hidden prelude: the same names as the tslab kernel's (tf, lab), the backend chosen before the first cell. The
 * library is imported by file URL, so `lab` exists whatever the kernel's working directory (inside this repository
 * it is the same module instance as `import ... from "moelab"`).
 */
export function denoPrelude(libraryEntry = path.resolve(__dirname, "..", "index.js")): string {
  return [
    `const lab = await import(${JSON.stringify(pathToFileURL(libraryEntry).href)});`,
    `Object.assign(globalThis, { lab, tf: lab.tf });`,
    `await lab.init();`,
  ].join("\n");
}

/** Index of the `<IDS|MSG>` delimiter in a message's frames (-1: none). */
function delimiter(frames: readonly Buffer[]): number {
  return frames.findIndex((f) => f.toString() === "<IDS|MSG>");
}

/** The msg_id of a message's header (`offset` 2) or parent header (`offset` 3), or null. */
function msgId(frames: readonly Buffer[], offset: 2 | 3): string | null {
  const at = delimiter(frames);
  try {
    return at >= 0 ? ((JSON.parse(frames[at + offset].toString("utf8")) as { msg_id?: string }).msg_id ?? null) : null;
  } catch {
    return null;
  }
}

async function main(argv: string[]): Promise<void> {
  const file = argv[0];
  if (!file || argv.length > 1) {
    process.stderr.write(
      "usage: node dist/lib/jupyter/deno-main.js <connection_file>  (Jupyter passes {connection_file})\n",
    );
    process.exit(2);
  }
  const info = readConnectionFile(file);
  // Deno's shell and iopub on private ports; control, stdin and heartbeat on the frontend's.
  const ports = await newConnectionInfo("moelab-deno");
  const denoInfo = { ...info, shell_port: ports.shell_port, iopub_port: ports.iopub_port };
  const denoFile = writeConnectionFile(denoInfo);
  const child = spawn(denoBinary(), ["jupyter", "--kernel", "--quiet", "--unstable-detect-cjs", "--conn", denoFile], {
    stdio: "inherit",
  });
  // Jupyter interrupts by SIGINT to the process group, which reaches Deno directly (the library listens there,
  // lib/deno-jupyter.ts): this process only has to survive it. SIGTERM (a stop) is passed on.
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("exit", (code, signal) => {
    rmSync(denoFile, { force: true });
    process.exit(code ?? (signal ? 1 : 0));
  });
  child.on("error", (e) => {
    process.stderr.write(`moelab-deno kernel: cannot start ${denoBinary()}: ${e.message}\n`);
    process.exit(1);
  });

  const signer = new Signer(info.signature_scheme, info.key);
  const prelude = new Session("moelab").message(
    "execute_request",
    {
      code: denoPrelude(),
      silent: true,
      store_history: false,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: false,
    },
    null,
  );
  const hidden = prelude.header.msg_id;

  const publisher = new zmq.Publisher();
  await publisher.bind(channelAddress(info, "iopub"));
  const subscriber = new zmq.Subscriber();
  subscriber.connect(channelAddress(denoInfo, "iopub"));
  subscriber.subscribe();
  void (async () => {
    for await (const frames of subscriber) {
      if (msgId(frames, 3) !== hidden) await publisher.send(frames);
    }
  })();

  // Frontend requests queue in `frontend` until the prelude's reply is back.
  const frontend = new zmq.Router();
  await frontend.bind(channelAddress(info, "shell"));
  const deno = new zmq.Dealer();
  deno.connect(channelAddress(denoInfo, "shell"));
  await deno.send(encode(prelude, signer));
  const reply = decode(await deno.receive(), signer);
  if (reply.content.status !== "ok") {
    process.stderr.write(
      `moelab-deno kernel: preloading lab failed: ${String(reply.content.ename)}: ${String(reply.content.evalue)}\n`,
    );
  }
  // Deno keeps only the first routing frame, so each request's frontend identity waits here, keyed by its msg_id,
  // for the one reply whose parent it is.
  const routes = new Map<string, Buffer[]>();
  void (async () => {
    for await (const frames of deno) {
      const parent = msgId(frames, 3);
      const identity = parent !== null ? routes.get(parent) : undefined;
      if (!identity) continue; // a reply to the prelude, or to nobody
      routes.delete(parent!);
      await frontend.send([...identity, ...frames]);
    }
  })();
  for await (const frames of frontend) {
    const at = delimiter(frames);
    const id = msgId(frames, 2);
    if (at < 0 || id === null) continue; // not a Jupyter message
    routes.set(id, frames.slice(0, at));
    await deno.send(frames.slice(at));
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`moelab-deno kernel: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
