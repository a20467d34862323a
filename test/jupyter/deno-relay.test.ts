// The Deno kernel's shell/iopub relay (lib/jupyter/deno-relay.ts): fed the message orders Deno 2.9's kernel can
// produce (an output published after the cell's reply and idle, under the next request's msg_id), the frontend still
// gets every output of a cell before its idle status and reply, under the cell's msg_id; then the same against the
// real `deno jupyter` (kernels/moelab-deno), many outputs at the very end of each cell, and before an exception.
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DenoRelay, FLUSH_CODE, FLUSH_MARKER } from "../../lib/jupyter/deno-relay";
import { decode, encode, Session, Signer, type Header, type Message } from "../../lib/jupyter/wire";
import { KernelClient } from "../../lib/run/kernel";
import { findKernelSpec } from "../../lib/run/kernelspec";

const signer = new Signer("hmac-sha256", "relay-test-key");
const ROUTE = Buffer.from("frontend-1");

/** What the relay sent, in one global order: where, and the decoded message. */
type Sent = { to: "deno" | "frontend" | "iopub"; msg: Message };

function harness() {
  const sent: Sent[] = [];
  const errors: string[] = [];
  const relay = new DenoRelay(
    signer,
    {
      toDeno: (frames) => sent.push({ to: "deno", msg: decode(frames, signer) }),
      toFrontend: (frames) => {
        expect(frames[0]).toEqual(ROUTE);
        sent.push({ to: "frontend", msg: decode(frames, signer) }); // decode verifies the signature
      },
      publish: (frames) => sent.push({ to: "iopub", msg: decode(frames, signer) }),
    },
    (what) => errors.push(what),
  );
  const deno = new Session("deno");
  /** Frames of a message Deno sends with `parent` as parent header. */
  const fromDeno = (type: string, content: Record<string, unknown>, parent: Header) =>
    encode(deno.message(type, content, parent), signer);
  /** The frontend's execute_request: returns its header and the flush the relay sent behind it. */
  const execute = (code: string): { cell: Header; flush: Header } => {
    const request = new Session("frontend").message("execute_request", { code, silent: false }, null);
    const before = sent.length;
    relay.fromFrontend([ROUTE, ...encode(request, signer)]);
    const toDeno = sent.slice(before).map((s) => s.msg);
    expect(toDeno.map((m) => m.header.msg_id)).toEqual([request.header.msg_id, expect.any(String)]);
    expect(toDeno[1].content).toMatchObject({ code: FLUSH_CODE, silent: true, store_history: false });
    return { cell: request.header, flush: toDeno[1].header };
  };
  const iopub = (type: string, content: Record<string, unknown>, parent: Header) =>
    relay.fromDenoIopub(fromDeno(type, content, parent));
  const shell = (content: Record<string, unknown>, parent: Header) =>
    relay.fromDenoShell(fromDeno("execute_reply", content, parent));
  /** What reached the frontend (shell and iopub), as "type parent-msg_id" in order. */
  const seen = (names: Record<string, Header>) =>
    sent
      .filter((s) => s.to !== "deno")
      .map((s) => {
        const parent = Object.entries(names).find(([, h]) => h.msg_id === (s.msg.parent_header as Header).msg_id);
        const state = s.msg.header.msg_type === "status" ? `:${String(s.msg.content.execution_state)}` : "";
        return `${s.to} ${s.msg.header.msg_type}${state} ${parent?.[0] ?? "?"}`;
      });
  return { relay, sent, errors, execute, iopub, shell, seen };
}

describe("DenoRelay", () => {
  it("holds a cell's reply and idle until its flush marker; an output stamped with the flush's id joins the cell", () => {
    const h = harness();
    const { cell, flush } = h.execute("await lab.claims(rows)");
    // Deno 2.9: the handler publishes busy, input, replies and goes idle while the drainer still holds the display;
    // the drainer publishes it once the flush has become the current request, so under the flush's msg_id.
    h.iopub("status", { execution_state: "busy" }, cell);
    h.iopub("execute_input", { code: "await lab.claims(rows)" }, cell);
    h.shell({ status: "ok", execution_count: 1 }, cell);
    h.iopub("status", { execution_state: "idle" }, cell);
    h.iopub("status", { execution_state: "busy" }, flush);
    h.iopub("execute_input", { code: FLUSH_CODE }, flush);
    h.iopub("display_data", { data: { "text/plain": "claims" } }, flush);
    h.iopub(FLUSH_MARKER, {}, flush);
    h.shell({ status: "ok" }, flush);
    h.iopub("status", { execution_state: "idle" }, flush);
    expect(h.seen({ cell })).toEqual([
      "iopub status:busy cell",
      "iopub execute_input cell",
      "iopub display_data cell",
      "iopub status:idle cell",
      "frontend execute_reply cell",
    ]);
    expect(h.errors).toEqual([]);
  });

  it("an output published under the cell's own id after its idle still comes before the idle", () => {
    const h = harness();
    const { cell, flush } = h.execute("console.log(1)");
    h.iopub("status", { execution_state: "busy" }, cell);
    h.iopub("status", { execution_state: "idle" }, cell);
    h.iopub("stream", { name: "stdout", text: "1\n" }, cell);
    h.shell({ status: "ok" }, cell);
    expect(h.seen({ cell })).toEqual(["iopub status:busy cell", "iopub stream cell"]);
    h.iopub(FLUSH_MARKER, {}, flush);
    expect(h.seen({ cell }).slice(2)).toEqual(["iopub status:idle cell", "frontend execute_reply cell"]);
  });

  it("a cell's error, which Deno publishes directly, follows the outputs the cell broadcast before it", () => {
    const h = harness();
    const { cell, flush } = h.execute('lab.show(fig); throw new Error("x")');
    h.iopub("error", { ename: "Error", evalue: "x", traceback: [] }, cell);
    h.shell({ status: "error", ename: "Error", evalue: "x" }, cell);
    h.iopub("display_data", { data: {} }, cell);
    h.iopub("status", { execution_state: "idle" }, cell);
    h.iopub(FLUSH_MARKER, {}, flush);
    expect(h.seen({ cell })).toEqual([
      "iopub display_data cell",
      "iopub error cell",
      "iopub status:idle cell",
      "frontend execute_reply cell",
    ]);
  });

  it("a marker that overtakes the cell's reply (another socket) releases the reply when it comes", () => {
    const h = harness();
    const { cell, flush } = h.execute("1");
    h.iopub("status", { execution_state: "idle" }, cell);
    h.iopub(FLUSH_MARKER, {}, flush);
    expect(h.seen({ cell })).toEqual(["iopub status:idle cell"]);
    h.shell({ status: "error", ename: "Error", evalue: "x" }, cell);
    expect(h.seen({ cell })).toEqual(["iopub status:idle cell", "frontend execute_reply cell"]);
  });

  it("queued cells go to Deno each followed by its flush, and each gets its own late output", () => {
    const h = harness();
    const a = h.execute("a");
    const b = h.execute("b");
    expect(h.sent.map((s) => s.msg.header.msg_id)).toEqual([
      a.cell.msg_id,
      a.flush.msg_id,
      b.cell.msg_id,
      b.flush.msg_id,
    ]);
    for (const { cell, flush } of [a, b]) {
      h.shell({ status: "ok" }, cell);
      h.iopub("status", { execution_state: "idle" }, cell);
      h.iopub("display_data", { data: {} }, flush);
      h.iopub(FLUSH_MARKER, {}, flush);
    }
    expect(h.seen({ a: a.cell, b: b.cell })).toEqual([
      "iopub display_data a",
      "iopub status:idle a",
      "frontend execute_reply a",
      "iopub display_data b",
      "iopub status:idle b",
      "frontend execute_reply b",
    ]);
  });

  it("a flush that fails releases its cell (no marker will come) and is reported", () => {
    const h = harness();
    const { cell, flush } = h.execute("x");
    h.shell({ status: "ok" }, cell);
    h.iopub("status", { execution_state: "idle" }, cell);
    expect(h.seen({ cell })).toEqual([]);
    h.shell({ status: "error", ename: "ReferenceError", evalue: "Deno is not defined" }, flush);
    expect(h.seen({ cell })).toEqual(["iopub status:idle cell", "frontend execute_reply cell"]);
    expect(h.errors).toEqual([`flush after ${cell.msg_id} failed: Deno is not defined`]);
  });

  it("a hidden request (the prelude) shows nothing; its failure is reported", () => {
    const h = harness();
    h.relay.hidden("await lab.init()");
    const [prelude, flush] = h.sent.map((s) => s.msg.header);
    expect(h.sent[0].msg.content).toMatchObject({ code: "await lab.init()", silent: true });
    h.iopub("status", { execution_state: "busy" }, prelude);
    h.iopub("stream", { name: "stdout", text: "backend native\n" }, prelude);
    h.shell({ status: "error", ename: "TypeError", evalue: "boom" }, prelude);
    h.iopub("status", { execution_state: "idle" }, prelude);
    h.iopub("stream", { name: "stdout", text: "late\n" }, flush);
    h.iopub(FLUSH_MARKER, {}, flush);
    expect(h.sent.filter((s) => s.to !== "deno")).toEqual([]);
    expect(h.errors).toEqual(["hidden request failed: TypeError: boom"]);
  });

  it("other requests pass through and their replies go back to the frontend that sent them", () => {
    const h = harness();
    const request = new Session("frontend").message("complete_request", { code: "lab.", cursor_pos: 4 }, null);
    h.relay.fromFrontend([ROUTE, ...encode(request, signer)]);
    expect(h.sent.map((s) => s.to)).toEqual(["deno"]);
    h.iopub("status", { execution_state: "busy" }, request.header);
    h.relay.fromDenoShell(
      encode(new Session("deno").message("complete_reply", { matches: [] }, request.header), signer),
    );
    h.iopub("status", { execution_state: "idle" }, request.header);
    expect(h.seen({ request: request.header })).toEqual([
      "iopub status:busy request",
      "frontend complete_reply request",
      "iopub status:idle request",
    ]);
  });
});

describe("the Deno kernel (kernels/moelab-deno) through the relay", () => {
  const root = path.resolve(__dirname, "..", "..");
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "moelab-deno-relay-"));
  let kernel: KernelClient;
  beforeAll(async () => {
    const env = { ...process.env, JUPYTER_PATH: root };
    kernel = await KernelClient.start(findKernelSpec("moelab-deno", env), { cwd, env });
  }, 120_000);
  afterAll(async () => {
    await kernel?.shutdown();
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("every output sent at the end of a cell arrives within that cell, in order", async () => {
    const DISPLAYS = 40;
    for (let cell = 0; cell < 8; cell++) {
      const outputs: string[] = [];
      const code = [
        `for (let i = 0; i < ${DISPLAYS}; i++)`,
        `  await Deno.jupyter.broadcast("display_data", { data: { "text/plain": "c${cell}-" + i }, metadata: {}, transient: {} });`,
        `console.log("end ${cell}");`,
        `"last ${cell}"`,
      ].join("\n");
      const outcome = await kernel.execute(code, {
        timeout: 60,
        onIopub: (msg) => {
          const data = msg.content.data as Record<string, string> | undefined;
          if (msg.header.msg_type === "stream") outputs.push(String(msg.content.text).trim());
          else if (data) outputs.push(String(data["text/plain"]).replace(/\x1b\[[0-9;]*m/g, ""));
        },
      });
      expect(outcome.reply?.status).toBe("ok");
      const displays = Array.from({ length: DISPLAYS }, (_, i) => `c${cell}-${i}`);
      expect(outputs).toEqual([...displays, `end ${cell}`, `"last ${cell}"`]);
    }
    const failing = [
      `for (let i = 0; i < ${DISPLAYS}; i++)`,
      `  Deno.jupyter.broadcast("display_data", { data: { "text/plain": "d" + i }, metadata: {}, transient: {} });`,
      `throw new RangeError("boom");`,
    ].join("\n");
    const seen: string[] = [];
    const outcome = await kernel.execute(failing, {
      timeout: 60,
      onIopub: (msg) => {
        if (msg.header.msg_type === "error") seen.push(`error ${String(msg.content.evalue)}`);
        else if (msg.header.msg_type === "display_data")
          seen.push(String((msg.content.data as Record<string, string>)["text/plain"]));
      },
    });
    expect(outcome.reply?.status).toBe("error");
    expect(seen).toEqual([...Array.from({ length: DISPLAYS }, (_, i) => `d${i}`), "error boom"]);
  }, 120_000);
});
