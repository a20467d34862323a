// Entry point of the MoE Lab Jupyter kernel: `node dist/lib/jupyter/main.js <connection_file>` (kernels/moelab/kernel.json).
// Reference: https://jupyter-client.readthedocs.io/en/latest/kernels.html#kernel-specs
import { init, version } from "../index";
import { kernelConfig } from "./config";
import { Kernel } from "./kernel";
import { KernelSockets, readConnectionFile } from "./sockets";

async function main(argv: string[]): Promise<void> {
  const file = argv[0];
  if (!file || argv.length > 1) {
    process.stderr.write(
      "usage: node dist/lib/jupyter/main.js <connection_file>  (Jupyter passes {connection_file})\n",
    );
    process.exit(2);
  }
  const config = kernelConfig();
  const sockets = await KernelSockets.bind(readConnectionFile(file));
  const kernel = Kernel.start(sockets, {
    config,
    cwd: process.cwd(),
    version,
    init: () => init(),
    exit: () => process.exit(0),
  });

  process.on("SIGINT", () => kernel.interrupt());
  kernel.ready.catch((e: unknown) => {
    kernel.log(`cannot compile cells: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  });

  // Jupyter stops kernels it started; if the process that started this one dies without doing so, exit too.
  const parent = process.ppid;
  if (config.parentPollMs > 0) {
    setInterval(() => {
      if (process.ppid !== parent) process.exit(0);
    }, config.parentPollMs).unref();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`moelab kernel: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
