// iopub → nbformat outputs: stream merging, display ids updated across cells, clear_output, results, errors.
import { describe, expect, it } from "vitest";
import type { CodeCell } from "../../lib/run/notebook";
import { OutputCollector, type IopubMessage } from "../../lib/run/outputs";

const cell = (): CodeCell => ({ cell_type: "code", source: "", metadata: {}, outputs: [], execution_count: null });
const msg = (msg_type: string, content: Record<string, unknown>): IopubMessage => ({ header: { msg_type }, content });
const stream = (name: string, text: string) => msg("stream", { name, text });
const shown = (text: string, display_id?: string, type = "display_data") =>
  msg(type, { data: { "text/plain": text }, metadata: {}, ...(display_id ? { transient: { display_id } } : {}) });

describe("OutputCollector", () => {
  it("merges consecutive stream messages of the same name only", () => {
    const c = cell();
    const out = new OutputCollector();
    for (const m of [
      stream("stdout", "a"),
      stream("stdout", "b\n"),
      stream("stderr", "warn\n"),
      stream("stdout", "c\n"),
      msg("status", { execution_state: "busy" }),
    ]) {
      out.handle(c, m);
    }
    expect(c.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "ab\n" },
      { output_type: "stream", name: "stderr", text: "warn\n" },
      { output_type: "stream", name: "stdout", text: "c\n" },
    ]);
  });

  it("sets execution counts and converts results and errors", () => {
    const c = cell();
    const out = new OutputCollector();
    out.handle(c, msg("execute_input", { code: "1 + 1", execution_count: 7 }));
    out.handle(c, msg("execute_result", { execution_count: 7, data: { "text/plain": "2" }, metadata: {} }));
    out.handle(
      c,
      msg("error", {
        ename: "TypeError",
        evalue: "x is not a function",
        traceback: ["TypeError: x is not a function", "    at <cell>"],
      }),
    );
    expect(c.execution_count).toBe(7);
    expect(c.outputs).toEqual([
      { output_type: "execute_result", execution_count: 7, data: { "text/plain": "2" }, metadata: {} },
      {
        output_type: "error",
        ename: "TypeError",
        evalue: "x is not a function",
        traceback: ["TypeError: x is not a function", "    at <cell>"],
      },
    ]);
  });

  it("update_display_data replaces every output with that display id, also in earlier cells, without adding one", () => {
    const first = cell();
    const second = cell();
    const out = new OutputCollector();
    out.handle(first, shown("0%", "bar"));
    out.handle(first, shown("other", "other"));
    out.handle(second, shown("0% again", "bar"));
    out.handle(
      second,
      msg("update_display_data", {
        data: { "text/plain": "100%", "text/html": "<b>100%</b>" },
        metadata: { done: true },
        transient: { display_id: "bar" },
      }),
    );
    out.handle(
      second,
      msg("update_display_data", {
        data: { "text/plain": "ignored" },
        metadata: {},
        transient: { display_id: "never-shown" },
      }),
    );
    expect(first.outputs.map((o) => "data" in o && o.data["text/plain"])).toEqual(["100%", "other"]);
    expect(second.outputs).toEqual([
      {
        output_type: "display_data",
        data: { "text/plain": "100%", "text/html": "<b>100%</b>" },
        metadata: { done: true },
      },
    ]);
  });

  it("clear_output clears now, or with wait=true just before the next output", () => {
    const c = cell();
    const out = new OutputCollector();
    out.handle(c, stream("stdout", "old\n"));
    out.handle(c, msg("clear_output", { wait: false }));
    expect(c.outputs).toEqual([]);
    out.handle(c, stream("stdout", "frame 1\n"));
    out.handle(c, msg("clear_output", { wait: true }));
    expect(c.outputs).toHaveLength(1);
    out.handle(c, stream("stdout", "frame 2\n"));
    out.handle(c, stream("stdout", "more\n"));
    expect(c.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "frame 2\nmore\n" }]);
  });
});
