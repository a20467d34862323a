// Entry point of the MoE Lab Deno kernel (kernels/moelab-deno/kernel.json): runs Deno's own Jupyter kernel
// (`deno jupyter --kernel`, the repository's pinned `deno` npm package) and preloads `lab` and `tf` as the tslab kernel
// does. Deno serves the frontend's shell, control, stdin and heartbeat ports directly; only iopub passes through this
// process, which republishes every message except those of the hidden prelude (so a frontend never sees a status or
// output it did not ask for). The prelude is one silent execute_request sent before Deno listens, so it runs before
// any request of the frontend (which first waits for a kernel_info_reply). Jupyter's signals reach Deno through here.
// Reference: https://docs.deno.com/runtime/reference/cli/jupyter/; the messaging protocol (execute_request `silent`).
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import * as path from "node:path";
import * as zmq from "zeromq";
import { channelAddress, newConnectionInfo, writeConnectionFile } from "../run/connection";
import { readConnectionFile } from "./sockets";
import { decode, encode, Session, Signer } from "./wire";

/** The Deno binary of the pinned `deno` npm package (a devDependency of the repository). */
export function denoBinary(): string {
  return path.join(path.dirname(require.resolve("deno/package.json")), "deno");
}

/** The hidden prelude: the same names as the tslab kernel's (tf, lab), the backend chosen before the first cell. */
export const DENO_PRELUDE = [
  `import * as lab from "moelab";`,
  `Object.assign(globalThis, { lab, tf: lab.tf });`,
  `await lab.init();`,
].join("\n");

/** The msg_id of a message's parent header (frames as zeromq delivers them), or null. */
function parentId(frames: readonly Buffer[]): string | null {
  const at = frames.findIndex((f) => f.toString() === "<IDS|MSG>");
  try {
    return at >= 0 ? ((JSON.parse(frames[at + 3].toString("utf8")) as { msg_id?: string }).msg_id ?? null) : null;
  } catch {
    return null;
  }
}

async function main(argv: string[]): Promise<void> {
  const file = argv[0];
  if (!file || argv.length > 1) {
    process.stderr.write("usage: node dist/lib/jupyter/deno-main.js <connection_file>  (Jupyter passes {connection_file})\n");
    process.exit(2);
  }
  const info = readConnectionFile(file);
  // Deno publishes iopub on a private port; everything else on the frontend's.
  const privateIopub = { ...info, iopub_port: (await newConnectionInfo("moelab-deno")).iopub_port };
  const denoFile = writeConnectionFile(privateIopub);
  const child = spawn(denoBinary(), ["jupyter", "--kernel", "--quiet", "--conn", denoFile], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
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
    { code: DENO_PRELUDE, silent: true, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false },
    null,
  );
  const hidden = prelude.header.msg_id;

  const publisher = new zmq.Publisher();
  await publisher.bind(channelAddress(info, "iopub"));
  const subscriber = new zmq.Subscriber();
  subscriber.connect(channelAddress(privateIopub, "iopub"));
  subscriber.subscribe();
  void (async () => {
    for await (const frames of subscriber) {
      if (parentId(frames) !== hidden) await publisher.send(frames);
    }
  })();

  const shell = new zmq.Dealer();
  shell.connect(channelAddress(info, "shell"));
  await shell.send(encode(prelude, signer));
  const reply = decode(await shell.receive(), signer);
  if (reply.content.status !== "ok") {
    process.stderr.write(`moelab-deno kernel: preloading lab failed: ${String(reply.content.ename)}: ${String(reply.content.evalue)}\n`);
  }
  shell.close();
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`moelab-deno kernel: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
