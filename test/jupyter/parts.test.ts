// Unit tests of the kernel's parts that need no running kernel: wire signing, history queries, error content,
// display-mode configuration.
import { createHmac } from "node:crypto";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_KERNEL_CONFIG, kernelConfig } from "../../lib/jupyter/config";
import { calleeOffset } from "../../lib/jupyter/cells";
import { diagnosticsError, errorTraceback, thrownError } from "../../lib/jupyter/errors";
import { History } from "../../lib/jupyter/history";
import { decode, encode, Session, Signer } from "../../lib/jupyter/wire";

describe("wire protocol", () => {
  const signer = new Signer("hmac-sha256", "secret");
  const msg = new Session("tester").message("execute_request", { code: "1 + 1" }, null, [Buffer.from("client-id")]);

  it("signs header, parent, metadata and content with the connection key", () => {
    const frames = encode(msg, signer);
    expect(frames[1].toString()).toBe("<IDS|MSG>");
    const hmac = createHmac("sha256", "secret");
    for (const part of frames.slice(3, 7)) hmac.update(part);
    expect(frames[2].toString()).toBe(hmac.digest("hex"));
  });

  it("decodes what it encodes, identities included", () => {
    const back = decode(encode(msg, signer), signer);
    expect(back.identities.map(String)).toEqual(["client-id"]);
    expect(back.header).toEqual(msg.header);
    expect(back.content).toEqual({ code: "1 + 1" });
    expect(back.header.version).toBe("5.3");
  });

  it("rejects a tampered message and a missing delimiter", () => {
    const frames = encode(msg, signer);
    frames[6] = Buffer.from(JSON.stringify({ code: "evil()" }));
    expect(() => decode(frames, signer)).toThrow(/invalid signature/);
    expect(() => decode([Buffer.from("a")], signer)).toThrow(/delimiter/);
    expect(() => decode(encode(msg, signer), new Signer("hmac-sha256", "other"))).toThrow(/invalid signature/);
  });

  it("skips signing with an empty key and names a bad scheme", () => {
    const open = new Signer("hmac-sha256", "");
    expect(encode(msg, open)[2].toString()).toBe("");
    expect(() => new Signer("rsa", "k")).toThrow(/signature_scheme.*hmac-sha256/);
  });
});

describe("history", () => {
  const h = new History();
  ["a = 1", "b = 2", "a + b", "a = 1"].forEach((input, i) => h.add(i + 1, input, i === 2 ? "3" : null));

  it("tails the last n inputs, oldest first, with outputs on request", () => {
    expect(h.query({ hist_access_type: "tail", n: 2 })).toEqual([
      [1, 3, "a + b"],
      [1, 4, "a = 1"],
    ]);
    expect(h.query({ hist_access_type: "tail", n: 1, output: true })).toEqual([[1, 4, ["a = 1", null]]]);
  });

  it("gives a range of the current session (0 = current), stop exclusive", () => {
    expect(h.query({ hist_access_type: "range", session: 1, start: 2, stop: 4, output: true })).toEqual([
      [1, 2, ["b = 2", null]],
      [1, 3, ["a + b", "3"]],
    ]);
    expect(h.query({ hist_access_type: "range", session: 0, start: 4 })).toEqual([[1, 4, "a = 1"]]);
    expect(h.query({ hist_access_type: "range", session: -1 })).toEqual([]);
  });

  it("searches with a whole-input glob, unique keeps the latest, n the last matches", () => {
    expect(h.query({ hist_access_type: "search", pattern: "a*" }).map((e) => e[1])).toEqual([1, 3, 4]);
    expect(h.query({ hist_access_type: "search", pattern: "a = ?", unique: true })).toEqual([[1, 4, "a = 1"]]);
    expect(h.query({ hist_access_type: "search", pattern: "*", n: 1 })).toEqual([[1, 4, "a = 1"]]);
    expect(h.query({ hist_access_type: "search", pattern: "[ab] = 2" })).toEqual([[1, 2, "b = 2"]]);
  });

  it("names an unknown access type", () => {
    expect(() => h.query({ hist_access_type: "all" })).toThrow(/hist_access_type.*"all"/);
  });
});

describe("error content", () => {
  it("shows each TypeScript diagnostic at line:col with the source line", () => {
    const at = (line: number, character: number) => ({ offset: 0, line, character });
    const e = diagnosticsError(
      [
        {
          start: at(1, 6),
          end: at(1, 7),
          messageText: "Type 'string' is not assignable to type 'number'.",
          category: 1,
          code: 2322,
        },
      ],
      'let a = 1;\nconst s: number = "x";',
    );
    expect(e.ename).toBe("TSError");
    expect(e.evalue).toBe("2:7 - TS2322: Type 'string' is not assignable to type 'number'.");
    expect(e.traceback).toEqual([
      "2:7 - error TS2322: Type 'string' is not assignable to type 'number'.",
      '    const s: number = "x";',
      "          ~",
    ]);
  });

  it("keeps name, message and stack of a thrown error, and shows thrown non-errors", () => {
    const e = thrownError(new RangeError("too big"));
    expect([e.ename, e.evalue, e.traceback[0]]).toEqual(["RangeError", "too big", "RangeError: too big"]);
    expect(thrownError("just a string")).toEqual({
      ename: "Uncaught",
      evalue: "'just a string'",
      traceback: ["Uncaught 'just a string'"],
    });
  });
});

describe("tracebacks", () => {
  it("show the cell's frames first, the library's compactly by package path, dependencies as one line", () => {
    const root = path.resolve(__dirname, "..", "..");
    const err = new Error("expected shape [..., 4], got [2,3]");
    const stack = [
      `${root}/dist/lib/nn/linear.js:56`, // Node's decoration of errors thrown under vm: dropped
      "            throw new Error(...);",
      "            ^",
      "",
      "Error: expected shape [..., 4], got [2,3]",
      `    at Linear.apply (${root}/lib/nn/linear.ts:41:13)`,
      `    at Engine.scopedRun (${root}/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js:4400:19)`,
      `    at Object.tidy (${root}/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js:9000:1)`,
      "    at helper (evalmachine.<anonymous>:4:41)",
      "    at evalmachine.<anonymous>:7:22",
      "    at evalmachine.<anonymous>:9:3",
      `    at CellRunner.run (${root}/lib/jupyter/cells.ts:151:32)`,
      `    at Object.execute (${root}/node_modules/tslab/dist/executor.js:162:41)`,
      "    at new Promise (<anonymous>)",
      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
      "    at mine (/home/u/helpers.js:3:9)",
    ].join("\n");
    expect(errorTraceback(err, stack)).toEqual([
      "Error: expected shape [..., 4], got [2,3]",
      "  in the cell:",
      "    at helper (this cell)",
      "    at the cell's top level",
      "  in moelab:",
      "    at Linear.apply (lib/nn/linear.ts:41:13)",
      "  elsewhere:",
      "    at mine (/home/u/helpers.js:3:9)",
      "  below: @tensorflow/tfjs-core (2 frames)",
    ]);
  });
});

describe("signature help", () => {
  it("finds the function whose call parentheses hold the cursor", () => {
    const callee = (code: string) => {
      const at = calleeOffset(code, code.length);
      return at === null ? null : code.slice(0, at + 1);
    };
    expect(callee("lab.seed(")).toBe("lab.seed");
    expect(callee("lab.train.fit({ a: f(1), ")).toBe("lab.train.fit");
    expect(callee("foo (bar(1), [2, 3], ")).toBe("foo");
    expect(callee("x + (1")).toBeNull();
    expect(callee("a[")).toBeNull();
  });
});

describe("kernel config", () => {
  it("takes the display mode from MOELAB_DISPLAY and rejects unknown modes by name", () => {
    expect(kernelConfig({}, {}).display).toBe("auto");
    expect(kernelConfig({}, { MOELAB_DISPLAY: "headless" }).display).toBe("headless");
    expect(kernelConfig({ display: "headless" }, { MOELAB_DISPLAY: "live" }).display).toBe("live");
    expect(() => kernelConfig({}, { MOELAB_DISPLAY: "loud" })).toThrow(/MOELAB_DISPLAY.*auto, live, headless.*"loud"/);
    expect(Object.isFrozen(DEFAULT_KERNEL_CONFIG)).toBe(true);
  });
});
