// Entry point of the MoE Lab Deno kernel (kernels/moelab-deno/kernel.json): runs Deno's own Jupyter kernel
// (`deno jupyter --kernel`, the repository's pinned `deno` npm package) and preloads `lab` and `tf` as the tslab kernel
// does. Deno serves the frontend's control and heartbeat ports directly; shell and iopub pass through this process's
// relay (deno-relay.ts): the hidden prelude (one silent execute_request) goes first, so the first cell always finds
// `lab`; each cell's outputs reach the frontend before its execute_reply and idle status, under the cell's msg_id; each
// shell reply goes back to the frontend that sent its parent request. (Deno addresses stdin requests to this proxy, so
// they reach no frontend: `prompt()` is not supported under this kernel.)
// Reference: https://docs.deno.com/runtime/reference/cli/jupyter/; the messaging protocol (execute_request `silent`).
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { pathToFileURL } from "node:url";
import * as path from "node:path";
import * as zmq from "zeromq";
import { channelAddress, newConnectionInfo, writeConnectionFile } from "../run/connection";
import { DenoRelay } from "./deno-relay";
import { readConnectionFile, serialSender } from "./sockets";
import { decode, encode, Session, Signer, type Header } from "./wire";

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

/**
 * Waits until this process's subscription to Deno's iopub is live (Deno's PUB socket drops what it publishes before a
 * subscriber has joined, and a lost flush marker would hold a cell's reply forever): sends kernel_info_requests until
 * the idle status of one arrives, as jupyter_client's wait_for_ready does. Their messages stay here.
 */
async function awaitSubscription(deno: zmq.Dealer, subscriber: zmq.Subscriber, signer: Signer): Promise<void> {
  const session = new Session("moelab");
  subscriber.receiveTimeout = PROBE_WAIT_MS;
  try {
    for (;;) {
      const probe = session.message("kernel_info_request", {}, null);
      await deno.send(encode(probe, signer));
      await deno.receive(); // its reply
      try {
        for (;;) {
          const msg = decode(await subscriber.receive(), signer);
          const parent = (msg.parent_header as Partial<Header>).msg_id;
          if (parent === probe.header.msg_id && msg.content.execution_state === "idle") return;
        }
      } catch (e) {
        if ((e as { code?: string }).code !== "EAGAIN") throw e; // else: nothing within PROBE_WAIT_MS, probe again
      }
    }
  } finally {
    subscriber.receiveTimeout = -1;
  }
}

/** How long a subscription probe waits for its idle status before the next probe. */
const PROBE_WAIT_MS = 250;

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

  const publisher = new zmq.Publisher();
  await publisher.bind(channelAddress(info, "iopub"));
  const frontend = new zmq.Router();
  await frontend.bind(channelAddress(info, "shell"));
  const subscriber = new zmq.Subscriber();
  subscriber.connect(channelAddress(denoInfo, "iopub"));
  subscriber.subscribe();
  const deno = new zmq.Dealer();
  deno.connect(channelAddress(denoInfo, "shell"));

  const signer = new Signer(info.signature_scheme, info.key);
  await awaitSubscription(deno, subscriber, signer);
  const relay = new DenoRelay(
    signer,
    { toDeno: serialSender(deno), toFrontend: serialSender(frontend), publish: serialSender(publisher) },
    (what) => process.stderr.write(`moelab-deno kernel: ${what}\n`),
  );
  relay.hidden(denoPrelude()); // frontend requests follow it on the same connection, and Deno serves them in order
  void (async () => {
    for await (const frames of subscriber) relay.fromDenoIopub(frames);
  })();
  void (async () => {
    for await (const frames of deno) relay.fromDenoShell(frames);
  })();
  for await (const frames of frontend) relay.fromFrontend(frames);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`moelab-deno kernel: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
