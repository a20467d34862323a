import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(__dirname, "..");
const script = path.join(root, "test", "deno", "smoke.ts");

describe("the library under Deno", () => {
  it("runs a seeded script and computes the same tensor as under Node", () => {
    const deno = execFileSync(path.join(root, "node_modules", ".bin", "deno"), ["run", "-A", script], {
      cwd: root,
      encoding: "utf8",
    });
    const underDeno = JSON.parse(deno.trim().split("\n").pop()!);
    expect(underDeno.banner).toMatch(/^MoE Lab .* · backend cpu .*Deno \d/);
    expect(underDeno.shape).toEqual([4, 2]);
    // The same script body under Node (ts-node) must give bit-identical numbers: same seed, same stream.
    const node = execFileSync(process.execPath, ["-r", "ts-node/register", script], { cwd: root, encoding: "utf8" });
    const underNode = JSON.parse(node.trim().split("\n").pop()!);
    expect(underNode.banner).toMatch(/Node v\d/);
    expect(underDeno.values).toEqual(underNode.values);
  });
});
