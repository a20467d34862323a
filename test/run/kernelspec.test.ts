// Kernelspec lookup: JUPYTER_PATH first, then the user and system dirs; argv substitution; clear errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findKernelSpec, kernelCommand, kernelSearchPath } from "../../lib/run/kernelspec";

const root = mkdtempSync(join(tmpdir(), "moelab-kernelspec-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function spec(dir: string, name: string, body: object): void {
  mkdirSync(join(dir, "kernels", name), { recursive: true });
  writeFileSync(join(dir, "kernels", name, "kernel.json"), JSON.stringify(body));
}

describe("kernelspecs", () => {
  const first = join(root, "first");
  const second = join(root, "second");
  const home = join(root, "home");
  spec(first, "lab", {
    argv: ["node", "{resource_dir}/main.js", "-f", "{connection_file}"],
    display_name: "Lab",
    language: "typescript",
  });
  spec(second, "lab", { argv: ["shadowed"] });
  spec(second, "other", { argv: ["x"], interrupt_mode: "message", env: { A: "1" } });
  spec(join(home, ".local", "share", "jupyter"), "mine", { argv: ["mine"] });
  const env = { JUPYTER_PATH: `${first}:${second}`, HOME: home };

  it("searches JUPYTER_PATH entries in order, then ~/.local/share/jupyter and the system dirs", () => {
    expect(kernelSearchPath(env)).toEqual([
      join(first, "kernels"),
      join(second, "kernels"),
      join(home, ".local", "share", "jupyter", "kernels"),
      "/usr/local/share/jupyter/kernels",
      "/usr/share/jupyter/kernels",
    ]);
    const lab = findKernelSpec("lab", env);
    expect(lab).toMatchObject({
      name: "lab",
      resourceDir: join(first, "kernels", "lab"),
      language: "typescript",
      interrupt_mode: "signal",
    });
    expect(findKernelSpec("other", env)).toMatchObject({
      interrupt_mode: "message",
      env: { A: "1" },
      display_name: "other",
    });
    expect(findKernelSpec("mine", env).argv).toEqual(["mine"]);
  });

  it("substitutes {resource_dir} and {connection_file} in argv", () => {
    const lab = findKernelSpec("lab", env);
    expect(kernelCommand(lab, "/tmp/c.json")).toEqual(["node", `${lab.resourceDir}/main.js`, "-f", "/tmp/c.json"]);
  });

  it("says where it looked when a kernel is missing, and rejects odd names", () => {
    expect(() => findKernelSpec("nope", env)).toThrow(
      new RegExp(`no kernel named "nope"; looked for nope/kernel.json in ${join(first, "kernels")}`),
    );
    expect(() => findKernelSpec("../etc", env)).toThrow(/is not a kernel name/);
  });
});
