// Finding a Jupyter kernelspec by name and turning its argv into a command line.
// Reference: jupyter_client kernelspec.py, jupyter_core paths.py (search: $JUPYTER_PATH/kernels, user data dir, system dirs).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

/** A kernel.json, plus where it was found. */
export interface KernelSpec {
  /** The kernel's name (its directory name). */
  name: string;
  /** The directory holding kernel.json (substituted for {resource_dir}). */
  resourceDir: string;
  /** Command line; may contain {connection_file} and {resource_dir}. */
  argv: string[];
  display_name: string;
  language: string;
  /** "signal" (SIGINT to the process group, the default) or "message" (interrupt_request on control). */
  interrupt_mode: "signal" | "message";
  /** Extra environment variables for the kernel process. */
  env: Record<string, string>;
}

/** The directories searched for `<dir>/<name>/kernel.json`, in priority order, for the environment `env`. */
export function kernelSearchPath(env: Record<string, string | undefined> = process.env): string[] {
  const fromJupyterPath = (env.JUPYTER_PATH ?? "")
    .split(delimiter)
    .filter((entry) => entry.length > 0)
    .map((entry) => join(entry, "kernels"));
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  const userData = env.JUPYTER_DATA_DIR || join(dataHome, "jupyter");
  return [
    ...fromJupyterPath,
    join(userData, "kernels"),
    "/usr/local/share/jupyter/kernels",
    "/usr/share/jupyter/kernels",
  ];
}

/** Loads the kernelspec `name` from the first search-path directory that has it; the error lists where it looked. */
export function findKernelSpec(name: string, env: Record<string, string | undefined> = process.env): KernelSpec {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new Error(`findKernelSpec(name): "${name}" is not a kernel name (letters, digits, ".", "_", "-")`);
  }
  const searched = kernelSearchPath(env);
  for (const dir of searched) {
    const file = join(dir, name, "kernel.json");
    if (!existsSync(file)) continue;
    const raw = JSON.parse(readFileSync(file, "utf8")) as Partial<KernelSpec>;
    if (!Array.isArray(raw.argv) || raw.argv.length === 0 || !raw.argv.every((a) => typeof a === "string")) {
      throw new Error(`findKernelSpec(name): ${file} has no argv (a non-empty list of strings)`);
    }
    return {
      name,
      resourceDir: join(dir, name),
      argv: raw.argv,
      display_name: raw.display_name ?? name,
      language: raw.language ?? "",
      interrupt_mode: raw.interrupt_mode === "message" ? "message" : "signal",
      env: raw.env ?? {},
    };
  }
  throw new Error(
    `findKernelSpec(name): no kernel named "${name}"; looked for ${name}/kernel.json in ${searched.join(", ")} ` +
      `(set JUPYTER_PATH to a directory holding kernels/${name}/kernel.json)`,
  );
}

/** The spec's argv with {connection_file} and {resource_dir} substituted. */
export function kernelCommand(spec: KernelSpec, connectionFile: string): string[] {
  return spec.argv.map((arg) =>
    arg.replaceAll("{connection_file}", connectionFile).replaceAll("{resource_dir}", spec.resourceDir),
  );
}
