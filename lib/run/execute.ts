// Executing one notebook through a kernel, cell by cell, stopping at the first error (papermill behaviour) unless
// asked to go on (an autograder).
// Reference: papermill execute.py / engines.py (cell metadata, stop on error); nbclient (DeadKernelError, CellTimeoutError).
import { KernelClient, KernelDiedError, type KernelClientConfig } from "./kernel";
import type { KernelSpec } from "./kernelspec";
import type { CodeCell, ErrorOutput, Notebook } from "./notebook";
import { OutputCollector } from "./outputs";

/** How long one cell took. */
export interface CellTiming {
  /** Index of the cell in the executed notebook. */
  index: number;
  executionCount: number | null;
  seconds: number;
  status: "ok" | "error";
}

/** Why a notebook failed. */
export interface NotebookError {
  /** Index of the failing cell in the executed notebook; null when no cell was at fault (kernel did not start). */
  cellIndex: number | null;
  /** The failing cell's execution count ("In [n]"), when it got one. */
  executionCount: number | null;
  /** The failing cell's source ("" when no cell was at fault). */
  source: string;
  ename: string;
  evalue: string;
  /** Traceback lines as the kernel sent them (may contain ANSI colour escapes). */
  traceback: string[];
  /** false when the kernel cannot run further cells (it died, or ignored the interrupt of a timed-out cell). */
  recoverable?: boolean;
}

/** Progress of an execution, for display. */
export type CellEvent =
  | { phase: "start"; index: number; ordinal: number; total: number }
  | { phase: "end"; index: number; ordinal: number; total: number; seconds: number; status: "ok" | "error" };

/** Options of executeNotebook. */
export interface ExecuteNotebookOptions {
  /** The kernel to run. */
  spec: KernelSpec;
  /** The kernel's working directory (the notebook's own directory). */
  cwd: string;
  /** Seconds a cell may run before it is interrupted and fails. */
  cellTimeout: number;
  /** Environment of the kernel process (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Kernel client settings. */
  kernel?: Partial<KernelClientConfig>;
  /** Called as cells start and end (ordinal counts the code cells run, 1-based, of total). */
  onCell?: (event: CellEvent) => void;
  /**
   * Keep running the next cells after a cell fails (an autograder: a failing check scores 0, the rest still run).
   * The run still stops when the kernel died or a timed-out cell never answered the interrupt. Default false
   * (papermill: stop at the first error). `error` is then the first failure.
   */
  continueOnError?: boolean;
}

/** The outcome of executeNotebook. */
export interface NotebookExecution {
  /** The notebook with outputs, execution counts and papermill-style timing metadata (a copy). */
  notebook: Notebook;
  status: "ok" | "failed";
  /** ISO time the execution started. */
  started: string;
  wallSeconds: number;
  cells: CellTiming[];
  error: NotebookError | null;
  /** kernel_info_reply content (empty when the kernel did not start). */
  kernelInfo: Record<string, unknown>;
}

const seconds = (fromMs: number) => (Date.now() - fromMs) / 1000;

function errorOutput(ename: string, evalue: string, traceback: string[]): ErrorOutput {
  return { output_type: "error", ename, evalue, traceback };
}

/**
 * Runs every non-empty code cell of `input` in order in a fresh kernel. The first error (a cell error, a
 * timeout, the kernel dying) stops the run; outputs so far are kept. Never throws for notebook or kernel
 * failures: they are reported in the result.
 */
export async function executeNotebook(input: Notebook, options: ExecuteNotebookOptions): Promise<NotebookExecution> {
  const notebook = structuredClone(input);
  const startMs = Date.now();
  const started = new Date(startMs).toISOString();
  const cells: CellTiming[] = [];
  const code = notebook.cells
    .map((cell, index) => ({ cell, index }))
    .filter((entry): entry is { cell: CodeCell; index: number } => entry.cell.cell_type === "code");
  for (const { cell } of code) {
    cell.outputs = [];
    cell.execution_count = null;
    cell.metadata.papermill = { status: "pending" };
  }
  const runnable = code.filter(({ cell }) => cell.source.trim() !== "");
  let error: NotebookError | null = null;
  let client: KernelClient | null = null;
  try {
    client = await KernelClient.start(options.spec, { cwd: options.cwd, env: options.env, config: options.kernel });
    const collector = new OutputCollector();
    for (const [i, { cell, index }] of runnable.entries()) {
      const cellStart = Date.now();
      const ordinal = i + 1;
      options.onCell?.({ phase: "start", index, ordinal, total: runnable.length });
      const failed = await runCell(client, collector, cell, index, options.cellTimeout);
      error ??= failed;
      const timing: CellTiming = {
        index,
        executionCount: cell.execution_count,
        seconds: seconds(cellStart),
        status: failed ? "error" : "ok",
      };
      cells.push(timing);
      cell.metadata.papermill = {
        status: failed ? "failed" : "completed",
        start_time: new Date(cellStart).toISOString(),
        end_time: new Date().toISOString(),
        duration: timing.seconds,
        exception: failed !== null,
      };
      options.onCell?.({
        phase: "end",
        index,
        ordinal,
        total: runnable.length,
        seconds: timing.seconds,
        status: timing.status,
      });
      if (failed && (!options.continueOnError || failed.recoverable === false)) break;
    }
  } catch (e) {
    // Not a cell's fault: the kernel did not start, or the client itself failed.
    const ename = client ? "RunnerError" : "KernelStartError";
    error = { cellIndex: null, executionCount: null, source: "", ename, evalue: (e as Error).message, traceback: [] };
  } finally {
    await client?.shutdown();
  }
  const wallSeconds = seconds(startMs);
  notebook.metadata.papermill = {
    ...(notebook.metadata.papermill as object | undefined),
    start_time: started,
    end_time: new Date().toISOString(),
    duration: wallSeconds,
    exception: error !== null,
  };
  return {
    notebook,
    status: error ? "failed" : "ok",
    started,
    wallSeconds,
    cells,
    error,
    kernelInfo: client?.info ?? {},
  };
}

/** Executes one cell into `cell`; returns the failure, or null when it ran cleanly. */
async function runCell(
  client: KernelClient,
  collector: OutputCollector,
  cell: CodeCell,
  index: number,
  timeout: number,
): Promise<NotebookError | null> {
  const failure = (ename: string, evalue: string, traceback: string[]): NotebookError => ({
    cellIndex: index,
    executionCount: cell.execution_count,
    source: cell.source,
    ename,
    evalue,
    traceback,
  });
  const lastError = () => cell.outputs.filter((o): o is ErrorOutput => o.output_type === "error").pop();
  try {
    const { reply, timedOut } = await client.execute(cell.source, {
      timeout,
      onIopub: (msg) => collector.handle(cell, msg),
    });
    if (typeof reply?.execution_count === "number") cell.execution_count = reply.execution_count;
    if (timedOut) {
      const evalue = `cell ${index} ran longer than the ${timeout} s cell timeout and was interrupted`;
      const traceback = reply?.traceback ?? lastError()?.traceback ?? []; // where the interrupt stopped it
      cell.outputs.push(errorOutput("CellTimeoutError", evalue, []));
      return { ...failure("CellTimeoutError", evalue, traceback), recoverable: reply !== null && client.alive };
    }
    if (reply!.status === "ok") return null;
    const shown = lastError();
    const ename = reply!.ename ?? shown?.ename ?? (reply!.status === "aborted" ? "ExecutionAborted" : "Error");
    const evalue = reply!.evalue ?? shown?.evalue ?? "";
    const traceback = reply!.traceback ?? shown?.traceback ?? [];
    if (!shown) cell.outputs.push(errorOutput(ename, evalue, traceback));
    return failure(ename, evalue, traceback);
  } catch (e) {
    if (!(e instanceof KernelDiedError)) throw e;
    cell.outputs.push(errorOutput("DeadKernelError", e.message, []));
    return { ...failure("DeadKernelError", e.message, []), recoverable: false };
  }
}
