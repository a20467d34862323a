// The display host of one cell (lib/display.ts KernelHost): display_data / update_display_data attached to the
// cell that made them, and promises the kernel awaits before it reports the cell finished.
// Reference: https://jupyter-client.readthedocs.io/en/latest/messaging.html#display-data
import { encodeDisplayData as encodeData, type DisplayBundle, type DisplayOptions, type KernelHost } from "../display";
import { thrownError } from "./errors";
import type { Iopub } from "./iopub";
import type { Header } from "./wire";

/** The shape of tslab's `lastWriteDisplayData` hook (tslab/dist/jupyter.js), used by `tslab.display`. */
export type TslabDisplayWriter = (
  data: { data: Record<string, unknown>; metadata?: Record<string, unknown>; transient?: { display_id?: string } },
  update: boolean,
) => void;

/** The host of the cell whose execute_request header is `parent` (null: a silent request, displays dropped). */
export class CellHost implements KernelHost {
  private readonly tracked: Promise<unknown>[] = [];
  private finished = false;

  constructor(
    /** true in an interactive frontend; false headless. */
    readonly live: boolean,
    private readonly parent: Header | null,
    private readonly iopub: Iopub,
  ) {}

  display(bundle: DisplayBundle, options: DisplayOptions = {}): void {
    if (options.update && !options.displayId)
      throw new Error("display: options.update needs options.displayId (the display to replace)");
    if (!bundle || typeof bundle.data !== "object" || bundle.data === null) {
      throw new Error(`display: expected a bundle { data: { "<mime type>": payload } }, got ${JSON.stringify(bundle)}`);
    }
    this.send(
      {
        data: encodeData(bundle.data),
        metadata: bundle.metadata ?? {},
        transient: options.displayId ? { display_id: options.displayId } : {},
      },
      options.update === true,
    );
  }

  clear(wait: boolean): void {
    if (this.parent) this.iopub.publish("clear_output", { wait }, this.parent);
  }

  track(work: Promise<unknown>): void {
    const promise = Promise.resolve(work);
    if (this.finished) promise.catch(this.lateError);
    else this.tracked.push(promise);
  }

  /** tslab's display hook, sending through this host. */
  readonly tslabWriter: TslabDisplayWriter = (data, update) =>
    this.send({ data: encodeData(data.data), metadata: data.metadata ?? {}, transient: data.transient ?? {} }, update);

  /**
   * Waits for every tracked promise, including ones tracked meanwhile, and resolves with the first rejection's
   * reason, if any; rejects when `interrupted` does first. Promises tracked later, or left waiting by an
   * interrupt, are not awaited: their failures go to the cell's stderr.
   */
  async settle(interrupted: Promise<never>): Promise<{ failed: false } | { failed: true; reason: unknown }> {
    let failure: { failed: true; reason: unknown } | null = null;
    let done = 0;
    try {
      for (; done < this.tracked.length; done++) {
        const outcome = await Promise.race([
          this.tracked[done].then(
            () => null,
            (reason: unknown) => ({ reason }),
          ),
          interrupted,
        ]);
        if (outcome) failure ??= { failed: true, reason: outcome.reason };
      }
    } finally {
      this.finished = true;
      for (const work of this.tracked.slice(done)) work.catch(this.lateError);
    }
    return failure ?? { failed: false };
  }

  private readonly lateError = (reason: unknown): void => {
    if (this.parent) this.iopub.stream(this.parent, "stderr", thrownError(reason).traceback.join("\n") + "\n");
  };

  private send(content: Record<string, unknown>, update: boolean): void {
    if (this.parent) this.iopub.publish(update ? "update_display_data" : "display_data", content, this.parent);
  }
}
