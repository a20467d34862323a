// `npm run reproduce [-- --quick] [--only NAME[,NAME]] [--kernel NAME] [--timeout S] [-p key=value] [--out DIR]`:
// runs every notebook headless through its kernel, writes results/ (executed notebooks, results JSON, run.json with
// machine, commit and wall times) and report/index.html. Reference: issue 2 item 7; issue 19 item 5.
import { parseArgs } from "node:util";
import { VERDICTS } from "../lib/verdict";
import {
  DEFAULT_RUN_OPTIONS,
  NotebookNotFoundError,
  ParameterError,
  runNotebooks,
  type ParameterValue,
  type RunEvent,
  type RunOptions,
} from "../lib/run";
import { progress, type ProgressBar } from "../lib/progress";
import { asciiTable } from "../lib/viz/format";
import { formatDuration } from "../lib/run/run-record";

const USAGE = `usage: npm run reproduce -- [options]
  --quick               inject quick = true (each notebook's small budget)
  --only NAME[,NAME]    run only these notebooks (file names, .ipynb optional; repeatable); the report keeps
                        the other notebooks' earlier results
  --kernel NAME         kernel for every notebook (default: the notebook's own, else ${DEFAULT_RUN_OPTIONS.defaultKernel})
  --timeout S           seconds a cell may run (default ${DEFAULT_RUN_OPTIONS.cellTimeout})
  -p, --param KEY=VALUE inject a parameter declared in the notebooks' parameters cell, of the default's type
                        (VALUE parsed as JSON when it is, else text; True/False accepted; repeatable)
  --notebooks DIR       notebooks directory (default ${DEFAULT_RUN_OPTIONS.notebooksDir})
  --results DIR         results directory (default ${DEFAULT_RUN_OPTIONS.resultsDir})
  --report DIR          report directory (default ${DEFAULT_RUN_OPTIONS.reportDir})
  --out DIR             everything in DIR, to be committed (results/reference): executed notebooks, results JSON,
                        run.json and index.html, the report loading plotly.js from node_modules instead of inlining it
  -h, --help            this text`;

/** A usage error: message + usage, exit code 2. */
class UsageError extends Error {}

/** KEY=VALUE → [key, value], VALUE parsed as JSON when it is valid JSON. */
function parseParam(text: string): [string, ParameterValue] {
  const at = text.indexOf("=");
  if (at <= 0) throw new UsageError(`-p ${text}: expected KEY=VALUE`);
  const raw = text.slice(at + 1);
  try {
    return [text.slice(0, at), JSON.parse(raw) as ParameterValue];
  } catch {
    return [text.slice(0, at), raw];
  }
}

function parseCommandLine(argv: string[]): Partial<RunOptions> | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        quick: { type: "boolean" },
        only: { type: "string", multiple: true },
        kernel: { type: "string" },
        timeout: { type: "string" },
        param: { type: "string", short: "p", multiple: true },
        notebooks: { type: "string" },
        results: { type: "string" },
        report: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return null;
  const params: Record<string, ParameterValue> = {};
  if (v.quick) params.quick = true;
  for (const p of v.param ?? []) {
    const [key, value] = parseParam(p);
    params[key] = value;
  }
  const options: Partial<RunOptions> = {
    params,
    only: (v.only ?? [])
      .flatMap((s) => s.split(","))
      .map((s) => s.trim())
      .filter(Boolean),
  };
  if (v.kernel) options.kernel = v.kernel;
  if (v.timeout !== undefined) {
    const seconds = Number(v.timeout);
    if (!(seconds > 0)) throw new UsageError(`--timeout ${v.timeout}: expected a positive number of seconds`);
    options.cellTimeout = seconds;
  }
  if (v.notebooks) options.notebooksDir = v.notebooks;
  if (v.results) options.resultsDir = v.results;
  if (v.report) options.reportDir = v.report;
  if (v.out) {
    if (v.results || v.report) throw new UsageError("--out DIR sets both folders: give it without --results/--report");
    options.resultsDir = v.out;
    options.reportDir = v.out;
    options.inlinePlotly = false;
  }
  return options;
}

/** Progress: a line per notebook, a bar over its cells (lib/progress: redrawn on a terminal, lines otherwise). */
function progressReporter(): (event: RunEvent) => void {
  let bar: ProgressBar | null = null;
  return (event) => {
    if (event.type === "notebook-start") {
      console.error(`[${event.ordinal}/${event.total}] ${event.name}`);
    } else if (event.type === "cell") {
      const c = event.cell;
      bar ??= progress(c.total, { label: `  ${event.name}`, unit: "cell" });
      // `cell` is the notebook index of the cell running (on start) or just finished (on end).
      bar.set(c.phase === "start" ? c.ordinal - 1 : c.ordinal, { cell: c.index });
    } else {
      bar?.done();
      bar = null;
      const r = event.results;
      const where = r.error?.cellIndex != null ? ` in cell ${r.error.cellIndex}` : "";
      const why = r.error ? ` — ${r.error.ename}${where}: ${r.error.evalue.split("\n")[0]}` : "";
      console.error(`  ${r.status === "ok" ? "ok" : "FAILED"} in ${r.wallSeconds.toFixed(1)} s${why}`);
    }
  };
}

async function main(): Promise<number> {
  let options: Partial<RunOptions> | null;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (e) {
    console.error(`reproduce: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  let summary;
  try {
    summary = await runNotebooks({ ...options, onEvent: progressReporter() });
  } catch (e) {
    console.error(`reproduce: ${(e as Error).message}`);
    return e instanceof NotebookNotFoundError || e instanceof ParameterError ? 2 : 1;
  }
  if (summary.results.length === 0)
    console.error(
      `reproduce: no notebooks to run in ${options.notebooksDir ?? DEFAULT_RUN_OPTIONS.notebooksDir} (none listed in its manifest.txt, or no *.ipynb)`,
    );
  const rows = summary.results.map((r) => {
    const counts = VERDICTS.map((v) => String(r.claims.filter((c) => c.verdict === v).length));
    return [r.name, r.status, `${r.wallSeconds.toFixed(1)} s`, String(r.figures), ...counts];
  });
  console.log(
    "\n" +
      asciiTable(["notebook", "status", "wall", "figures", ...VERDICTS], rows, [
        "l",
        "l",
        "r",
        "r",
        ...VERDICTS.map(() => "r" as const),
      ]).join("\n"),
  );
  const run = summary.run;
  console.log(
    `\n${summary.results.length} notebook(s) in ${formatDuration(run.wallSeconds)} on ${run.machine.cpu} ` +
      `(${run.machine.cores} cores), commit ${run.commit.hash.slice(0, 12)}${run.commit.dirty ? " + changes" : ""}`,
  );
  console.log(`results: ${summary.resultsDir}\nreport:  ${summary.reportPath}`);
  if (summary.failed.length) {
    console.error(`\n${summary.failed.length} notebook(s) failed: ${summary.failed.join(", ")}`);
    return 1;
  }
  return 0;
}

// Ctrl-C / kill: exit through process.exit so the runner's exit hook kills the running kernel.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
