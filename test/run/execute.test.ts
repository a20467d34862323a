// executeNotebook's failure paths beyond a cell error: a cell past its timeout, a kernel that dies mid-notebook.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { executeNotebook } from "../../lib/run/execute";
import { findKernelSpec } from "../../lib/run/kernelspec";
import type { CodeCell, Notebook } from "../../lib/run/notebook";

const ROOT = join(__dirname, "..", "..");
const code = (source: string): CodeCell => ({
  cell_type: "code",
  source,
  metadata: {},
  outputs: [],
  execution_count: null,
});
const notebook = (...sources: string[]): Notebook => ({
  nbformat: 4,
  nbformat_minor: 4,
  metadata: {},
  cells: sources.map(code),
});
const cellsOf = (nb: Notebook) => nb.cells as CodeCell[];

describe("executeNotebook", () => {
  it("interrupts a cell that runs past the cell timeout (moelab kernel), fails it and runs nothing after", async () => {
    const spec = findKernelSpec("moelab", { ...process.env, JUPYTER_PATH: ROOT });
    const events: string[] = [];
    const run = await executeNotebook(
      notebook('console.log("first");', "", "while (true) {}", 'console.log("never");'),
      {
        spec,
        cwd: ROOT,
        cellTimeout: 1.5,
        onCell: (e) => events.push(`${e.phase} ${e.index} ${e.ordinal}/${e.total}`),
      },
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({
      cellIndex: 2,
      executionCount: 2,
      ename: "CellTimeoutError",
      source: "while (true) {}",
    });
    expect(run.error!.evalue).toBe("cell 2 ran longer than the 1.5 s cell timeout and was interrupted");
    expect(run.error!.traceback.join("\n")).toMatch(/interrupted/i);
    expect(events).toEqual(["start 0 1/3", "end 0 1/3", "start 2 2/3", "end 2 2/3"]);
    const [first, empty, loop, never] = cellsOf(run.notebook);
    expect(first.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "first\n" }]);
    expect(empty.execution_count).toBeNull();
    expect(loop.outputs.map((o) => o.output_type === "error" && o.ename).pop()).toBe("CellTimeoutError");
    expect(never.execution_count).toBeNull();
    expect(never.metadata.papermill).toEqual({ status: "pending" });
    expect(run.cells.map((c) => c.status)).toEqual(["ok", "error"]);
  }, 120_000);

  it("with continueOnError, runs the cells after a failing and a timed-out cell; the first failure is the error", async () => {
    const spec = findKernelSpec("moelab", { ...process.env, JUPYTER_PATH: ROOT });
    const run = await executeNotebook(
      notebook('throw new Error("boom");', "while (true) {}", 'console.log("after");'),
      {
        spec,
        cwd: ROOT,
        cellTimeout: 1.5,
        continueOnError: true,
      },
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ cellIndex: 0, evalue: "boom" });
    expect(run.cells.map((c) => c.status)).toEqual(["error", "error", "ok"]);
    const [, loop, after] = cellsOf(run.notebook);
    expect(loop.outputs.map((o) => o.output_type === "error" && o.ename).pop()).toBe("CellTimeoutError");
    expect(after.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "after\n" }]);
    expect(after.metadata.papermill).toMatchObject({ status: "completed", exception: false });
  }, 120_000);

  it("reports a kernel that dies during a cell as DeadKernelError with its exit code", async () => {
    const spec = findKernelSpec("python3", { ...process.env, JUPYTER_PATH: "" });
    const run = await executeNotebook(notebook("x = 1", "import os\nos._exit(5)", "x"), {
      spec,
      cwd: ROOT,
      cellTimeout: 30,
    });
    expect(run.error).toMatchObject({ cellIndex: 1, ename: "DeadKernelError" });
    expect(run.error!.evalue).toMatch(/kernel "python3" exited with code 5/);
    expect(cellsOf(run.notebook)[1].outputs).toMatchObject([{ output_type: "error", ename: "DeadKernelError" }]);
    expect(cellsOf(run.notebook)[2].execution_count).toBeNull();
  }, 60_000);

  it("reports a kernel that cannot start as KernelStartError on no cell", async () => {
    const spec = {
      ...findKernelSpec("python3", { ...process.env, JUPYTER_PATH: "" }),
      name: "missing",
      argv: ["/nonexistent/kernel", "{connection_file}"],
    };
    const run = await executeNotebook(notebook("1"), { spec, cwd: ROOT, cellTimeout: 30 });
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ cellIndex: null, ename: "KernelStartError" });
    expect(run.error!.evalue).toMatch(
      /kernel "missing" could not be started \(\/nonexistent\/kernel: spawn \/nonexistent\/kernel ENOENT\)/,
    );
  }, 30_000);
});
