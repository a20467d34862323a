// Turning iopub messages into nbformat v4 cell outputs, across one notebook's execution.
// Reference: nbclient client.py (process_message, output, clear_output, _update_display_id); nbformat v4 outputs.
import type { CodeCell, MimeBundle, Output, StreamOutput } from "./notebook";

/** The parts of an iopub message the conversion reads. */
export interface IopubMessage {
  header: { msg_type: string };
  content: Record<string, unknown>;
}

type RichOutput = Extract<Output, { data: MimeBundle }>;

/**
 * Applies iopub messages to the cells of one notebook. Keeps displays by `transient.display_id` over the
 * whole notebook, so an update_display_data replaces the output wherever it was shown.
 */
export class OutputCollector {
  private readonly displays = new Map<string, RichOutput[]>();
  private readonly clearPending = new WeakSet<CodeCell>();

  /** Applies `msg` (one iopub message whose parent is the execution of `cell`) to the cell. */
  handle(cell: CodeCell, msg: IopubMessage): void {
    const content = msg.content;
    switch (msg.header.msg_type) {
      case "execute_input":
        if (typeof content.execution_count === "number") cell.execution_count = content.execution_count;
        return;
      case "clear_output":
        if (content.wait) this.clearPending.add(cell);
        else cell.outputs = [];
        return;
      case "update_display_data":
        this.update(content);
        return;
      case "stream":
        this.addStream(cell, content);
        return;
      case "display_data":
        this.addRich(
          cell,
          { output_type: "display_data", data: bundle(content.data), metadata: meta(content) },
          content,
        );
        return;
      case "execute_result": {
        const count = typeof content.execution_count === "number" ? content.execution_count : cell.execution_count;
        this.addRich(
          cell,
          {
            output_type: "execute_result",
            execution_count: count,
            data: bundle(content.data),
            metadata: meta(content),
          },
          content,
        );
        return;
      }
      case "error":
        this.add(cell, {
          output_type: "error",
          ename: String(content.ename ?? ""),
          evalue: String(content.evalue ?? ""),
          traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
        });
        return;
      default:
        return; // status, comm_*, debug_event, ...: not outputs
    }
  }

  /** Adds an output, first applying a pending clear_output(wait=true). */
  private add(cell: CodeCell, output: Output): void {
    if (this.clearPending.has(cell)) {
      this.clearPending.delete(cell);
      cell.outputs = [];
    }
    cell.outputs.push(output);
  }

  private addStream(cell: CodeCell, content: Record<string, unknown>): void {
    const name = content.name === "stderr" ? "stderr" : "stdout";
    const text = String(content.text ?? "");
    const last = cell.outputs[cell.outputs.length - 1] as Output | undefined;
    if (last?.output_type === "stream" && last.name === name && !this.clearPending.has(cell)) {
      last.text += text;
      return;
    }
    const output: StreamOutput = { output_type: "stream", name, text };
    this.add(cell, output);
  }

  private addRich(cell: CodeCell, output: RichOutput, content: Record<string, unknown>): void {
    this.add(cell, output);
    const id = displayId(content);
    if (id === undefined) return;
    const shown = this.displays.get(id) ?? [];
    shown.push(output);
    this.displays.set(id, shown);
  }

  private update(content: Record<string, unknown>): void {
    const id = displayId(content);
    if (id === undefined) return;
    for (const output of this.displays.get(id) ?? []) {
      output.data = bundle(content.data);
      output.metadata = meta(content);
    }
  }
}

function bundle(data: unknown): MimeBundle {
  return data !== null && typeof data === "object" ? { ...(data as MimeBundle) } : {};
}

function meta(content: Record<string, unknown>): Record<string, unknown> {
  return bundle(content.metadata);
}

function displayId(content: Record<string, unknown>): string | undefined {
  const transient = content.transient as { display_id?: unknown } | undefined;
  return typeof transient?.display_id === "string" ? transient.display_id : undefined;
}
