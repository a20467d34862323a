// Input history of this kernel run, answering history_request (tail, range, glob search) the way IPython does.
// Reference: https://jupyter-client.readthedocs.io/en/latest/messaging.html#history and IPython's HistoryManager.
/** One entry: [session, line, input] or, when outputs are asked for, [session, line, [input, output]]. */
export type HistoryEntry = [number, number, string | [string, string | null]];

/** The fields of a history_request. */
export interface HistoryRequest {
  output?: boolean;
  raw?: boolean;
  hist_access_type?: string;
  session?: number;
  start?: number;
  stop?: number | null;
  n?: number | null;
  pattern?: string;
  unique?: boolean;
}

interface Line {
  line: number;
  input: string;
  output: string | null;
}

/** Glob (`*`, `?`, `[...]`) to an anchored regular expression, as SQLite GLOB (IPython's search) matches. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "[" && glob.indexOf("]", i + 2) > 0) {
      const end = glob.indexOf("]", i + 2);
      const body = glob.slice(i + 1, end);
      re += "[" + (body.startsWith("^") ? "^" + body.slice(1) : body).replace(/\\/g, "\\\\") + "]";
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The inputs (and text outputs) executed with store_history in this kernel process, which is session `session`. */
export class History {
  private readonly lines: Line[] = [];

  /** The number of this kernel run; requests name it, or 0/negative numbers relative to it. */
  constructor(readonly session = 1) {}

  /** Records cell `line` (its execution count) and the text/plain of its result, if any. */
  add(line: number, input: string, output: string | null): void {
    this.lines.push({ line, input, output });
  }

  /** The `history` list of a history_reply for `req`. */
  query(req: HistoryRequest): HistoryEntry[] {
    let lines: Line[];
    switch (req.hist_access_type) {
      case "tail":
        lines = this.last(this.lines, req.n);
        break;
      case "range": {
        const session = req.session ?? 0;
        const own = session === this.session || session === 0;
        const start = req.start ?? 1;
        const stop = req.stop ?? Infinity;
        lines = own ? this.lines.filter((l) => l.line >= start && l.line < stop) : [];
        break;
      }
      case "search": {
        const re = globToRegExp(req.pattern ?? "*");
        lines = this.lines.filter((l) => re.test(l.input));
        if (req.unique) lines = lines.filter((l, i) => !lines.slice(i + 1).some((later) => later.input === l.input));
        lines = this.last(lines, req.n);
        break;
      }
      default:
        throw new Error(
          `history_request: hist_access_type should be "tail", "range" or "search", got ${JSON.stringify(req.hist_access_type)}`,
        );
    }
    return lines.map((l): HistoryEntry => [this.session, l.line, req.output ? [l.input, l.output] : l.input]);
  }

  private last(lines: Line[], n: number | null | undefined): Line[] {
    return n === undefined || n === null ? lines : lines.slice(Math.max(0, lines.length - n));
  }
}
