// `npm run kernel:install [-- <jupyter kernelspec install options>]`: puts the MoE Lab kernel into the user's own
// Jupyter (default --user), pointing at this checkout by absolute path, for use without JUPYTER_PATH.
// Reference: https://jupyter-client.readthedocs.io/en/latest/kernels.html#kernel-specs
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../lib/repo-root";

const ROOT = repoRoot();
const SPEC_DIR = path.join(ROOT, "kernels", "moelab");
const KERNEL = path.join(ROOT, "dist", "lib", "jupyter", "main.js");
/** Debian's Jupyter (the `python3` on PATH may be another Python without it); override with $JUPYTER. */
const JUPYTER = process.env.JUPYTER ?? "/usr/bin/jupyter";

function fail(message: string): never {
  process.stderr.write(`kernel:install: ${message}\n`);
  process.exit(1);
}

function main(args: string[]): void {
  if (!fs.existsSync(KERNEL)) fail(`${KERNEL} is missing: build first (npm run build)`);
  try {
    fs.accessSync(JUPYTER, fs.constants.X_OK);
  } catch {
    fail(`jupyter not found at ${JUPYTER}: install Debian's Jupyter (npm run setup) or set JUPYTER=/path/to/jupyter`);
  }
  const spec = JSON.parse(fs.readFileSync(path.join(SPEC_DIR, "kernel.json"), "utf8"));
  spec.argv = [process.execPath, "--enable-source-maps", KERNEL, "{connection_file}"]; // library frames as lib/*.ts

  const staging = fs.mkdtempSync(path.join(os.tmpdir(), "moelab-kernelspec-"));
  try {
    const dir = path.join(staging, "moelab");
    fs.cpSync(SPEC_DIR, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
    const options = args.length > 0 ? args : ["--user"];
    const run = spawnSync(JUPYTER, ["kernelspec", "install", ...options, "--name", "moelab", dir], {
      stdio: "inherit",
    });
    if (run.error) fail(`${JUPYTER} kernelspec install: ${run.error.message}`);
    if (run.status !== 0) fail(`${JUPYTER} kernelspec install exited with status ${run.status}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  process.stdout.write(`Installed kernel "${spec.display_name}" (moelab) running ${KERNEL} with ${process.execPath}\n`);
}

main(process.argv.slice(2));
