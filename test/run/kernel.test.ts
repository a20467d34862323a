// The zeromq client against Debian's ipykernel (a kernel written by others: real signatures, real interrupts).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient, KernelDiedError } from "../../lib/run/kernel";
import { findKernelSpec } from "../../lib/run/kernelspec";
import type { Message } from "../../lib/jupyter/wire";

const cwd = mkdtempSync(join(tmpdir(), "moelab-kernel-cwd-"));
let client: KernelClient;

beforeAll(async () => {
  client = await KernelClient.start(findKernelSpec("python3", { ...process.env, JUPYTER_PATH: "" }), {
    cwd,
    config: { interruptGrace: 20 },
  });
}, 120_000);

afterAll(async () => {
  await client?.shutdown();
  rmSync(cwd, { recursive: true, force: true });
});

function run(code: string, timeout = 60) {
  const seen: Message[] = [];
  return client.execute(code, { timeout, onIopub: (m) => seen.push(m) }).then((outcome) => ({ ...outcome, seen }));
}

describe("KernelClient (python3 ipykernel)", () => {
  it("answered kernel_info and runs code in the notebook directory, with outputs before idle", async () => {
    expect(client.info.protocol_version).toMatch(/^5\./);
    const { reply, timedOut, seen } = await run("import os\nprint(os.getcwd())\n6 * 7");
    expect(timedOut).toBe(false);
    expect(reply?.status).toBe("ok");
    expect(seen.map((m) => m.header.msg_type)).toEqual(["status", "execute_input", "stream", "execute_result"]);
    expect(seen[2].content.text).toBe(`${cwd}\n`);
    expect(seen[3].content.data).toEqual({ "text/plain": "42" });
  }, 60_000);

  it("interrupts a cell that runs past its timeout; the kernel stays usable", async () => {
    const started = Date.now();
    const { reply, timedOut } = await run("import time\ntime.sleep(60)", 1);
    expect(timedOut).toBe(true);
    expect(reply?.ename).toBe("KeyboardInterrupt");
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await run("1")).reply?.status).toBe("ok");
  }, 60_000);

  it("reports a kernel that dies with its exit code, and cleans up", async () => {
    const error = await run("import os\nos._exit(3)").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelDiedError);
    expect((error as KernelDiedError).exitCode).toBe(3);
    expect((error as Error).message).toMatch(
      /^execute_request: kernel "python3" exited with code 3; its last output:\n/,
    );
    expect(client.alive).toBe(false);
    await client.shutdown();
    expect(existsSync(client.connectionFile)).toBe(false);
  }, 60_000);
});

describe("KernelClient start failures", () => {
  it("reports a kernel process that exits at start with its code and last output, without waiting for the timeout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "moelab-broken-kernel-"));
    try {
      mkdirSync(join(dir, "kernels", "broken"), { recursive: true });
      const argv = ["/bin/sh", "-c", "echo 'cannot load the library' >&2; exit 7", "{connection_file}"];
      writeFileSync(join(dir, "kernels", "broken", "kernel.json"), JSON.stringify({ argv }));
      const started = Date.now();
      const error = await KernelClient.start(findKernelSpec("broken", { JUPYTER_PATH: dir }), { cwd }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KernelDiedError);
      expect((error as Error).message).toBe(
        'kernel_info_request: kernel "broken" exited with code 7; its last output:\ncannot load the library',
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
