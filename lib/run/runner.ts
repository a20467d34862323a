// The headless runner: execute notebooks through their kernel, save executed notebooks, results JSON and the report.
// Reference: papermill (parameters, executed copies); issue 2 item 7 (npm run reproduce).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, delimiter, dirname, join, relative, resolve } from "node:path";
import { executeNotebook, type CellEvent } from "./execute";
import type { KernelClientConfig } from "./kernel";
import { findKernelSpec } from "./kernelspec";
import {
  injectParameters,
  notebookLanguage,
  readNotebook,
  writeNotebook,
  type Notebook,
  type ParameterValue,
} from "./notebook";
import { repoRoot } from "../repo-root";
import { checkParameters } from "./parameters";
import { renderReport, type ReportEntry } from "./report";
import { notebookResults, type NotebookResults } from "./results";
import { RUN_RECORD_FILE, commitFacts, machineFacts, type RunRecord } from "./run-record";
import { slimNotebook } from "./slim";
import { withDefaults } from "../check";

/** What the runner does. */
export interface RunOptions {
  /** Directory of the notebooks: those its manifest.txt lists, in that order (without one: every *.ipynb, by name). */
  notebooksDir: string;
  /**
   * Names to run (file name with or without .ipynb; any notebook file of the directory, listed or not); empty: the
   * listed ones. The report keeps the other listed notebooks' earlier results.
   */
  only: string[];
  /** Parameters injected after every notebook's "parameters" cell; each must be declared there, with the default's type. */
  params: Record<string, ParameterValue>;
  /** Kernel for every notebook; null: each notebook's metadata.kernelspec.name, else `defaultKernel`. */
  kernel: string | null;
  /** Kernel for notebooks that name none. */
  defaultKernel: string;
  /** Seconds one cell may run before it is interrupted and the notebook fails. */
  cellTimeout: number;
  /** Where executed notebooks and results JSON go. */
  resultsDir: string;
  /** Where index.html goes. */
  reportDir: string;
  /**
   * true: the report inlines plotly.js (one self-contained page, ~4.6 MB); false: it loads the repository's
   * node_modules copy by relative path (a run committed to git stays small; the executed notebooks keep every PNG).
   */
  inlinePlotly: boolean;
  /** Directories put first on the kernels' JUPYTER_PATH (so <dir>/kernels/<name>/kernel.json is found). */
  jupyterPath: string[];
  /** Kernel client timing settings. */
  kernelConfig: Partial<KernelClientConfig>;
  /** Progress: notebooks and cells starting and ending. */
  onEvent?: (event: RunEvent) => void;
}

/** Progress events of runNotebooks. */
export type RunEvent =
  | { type: "notebook-start"; name: string; ordinal: number; total: number }
  | { type: "cell"; name: string; cell: CellEvent }
  | { type: "notebook-end"; name: string; results: NotebookResults };

/** What runNotebooks produced. */
export interface RunSummary {
  results: NotebookResults[];
  /** Names of the notebooks that failed. */
  failed: string[];
  /** Machine, commit, parameters and wall times, also written to `<resultsDir>/run.json`. */
  run: RunRecord;
  resultsDir: string;
  reportPath: string;
}

/** A requested notebook does not exist; the message lists the available names. */
export class NotebookNotFoundError extends Error {
  constructor(
    readonly missing: string[],
    readonly available: string[],
    dir: string,
  ) {
    super(
      `no notebook named ${missing.map((m) => `"${m}"`).join(", ")} in ${dir}; ` +
        `available: ${available.length ? available.join(", ") : "(none)"}`,
    );
    this.name = "NotebookNotFoundError";
  }
}

const ROOT = repoRoot();

/** Defaults: every notebook in notebooks/, results/ and report/ under the repo root, the repo on JUPYTER_PATH. */
export const DEFAULT_RUN_OPTIONS: Readonly<RunOptions> = Object.freeze({
  notebooksDir: join(ROOT, "notebooks"),
  only: [],
  params: {},
  kernel: null,
  defaultKernel: "moelab",
  cellTimeout: 1800,
  resultsDir: join(ROOT, "results"),
  reportDir: join(ROOT, "report"),
  inlinePlotly: true,
  jupyterPath: [ROOT],
  kernelConfig: {},
});

/** The file in a notebooks directory that lists the lab's notebooks: one name per line, in run order, `#` comments. */
export const MANIFEST_FILE = "manifest.txt";

/** Names (without .ipynb) of every notebook file in `dir`, sorted. */
function notebookFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`listNotebooks(dir): ${dir} does not exist`);
  return readdirSync(dir)
    .filter((file) => file.endsWith(".ipynb"))
    .map((file) => file.slice(0, -".ipynb".length))
    .sort();
}

/**
 * The notebooks of `dir` that the runner and the tests run: those listed in `dir`/manifest.txt, in its order, so a
 * scratch notebook (Untitled.ipynb) is never run; a directory without a manifest (a fixture folder, a user's own)
 * gives every *.ipynb, sorted. A listed notebook that does not exist throws, naming the manifest line.
 */
export function listNotebooks(dir: string): string[] {
  const files = notebookFiles(dir);
  const manifest = join(dir, MANIFEST_FILE);
  if (!existsSync(manifest)) return files;
  const names: string[] = [];
  readFileSync(manifest, "utf8")
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const name = raw
        .replace(/#.*/, "")
        .trim()
        .replace(/\.ipynb$/, "");
      if (!name) return;
      if (!files.includes(name))
        throw new Error(`${manifest}:${i + 1}: lists "${name}", but ${dir} has no ${name}.ipynb`);
      if (names.includes(name)) throw new Error(`${manifest}:${i + 1}: lists "${name}" twice`);
      names.push(name);
    });
  return names;
}

/** The notebooks to run: the listed ones, or `only` (with or without .ipynb; listed ones first, in list order). */
export function selectNotebooks(dir: string, only: readonly string[]): string[] {
  const listed = listNotebooks(dir);
  if (only.length === 0) return listed;
  const files = notebookFiles(dir);
  const wanted = only.map((name) => basename(name).replace(/\.ipynb$/, ""));
  const missing = wanted.filter((name) => !files.includes(name));
  if (missing.length) throw new NotebookNotFoundError(missing, listed, dir);
  return [
    ...listed.filter((name) => wanted.includes(name)),
    ...wanted.filter((name, i) => !listed.includes(name) && wanted.indexOf(name) === i),
  ];
}

/**
 * Creates `dir` and its missing parents one by one: Node's recursive mkdirSync loops forever where mkdir fails with
 * ENOENT below an existing folder (/proc/x). Errors name the option (`what`), the folder and the reason.
 */
export function makeDirectory(dir: string, what: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) {
    missing.unshift(at);
    at = dirname(at);
  }
  if (!statSync(at).isDirectory()) throw new Error(`${what} ${dir}: ${at} is a file, not a folder`);
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(
        `${what} ${dir}: cannot create ${folder} (${err.code ?? err.message}); choose a folder you can write to`,
      );
    }
  }
}

/** The report entry of a notebook run earlier into `resultsDir` (its results JSON and executed copy), or null. */
function earlierEntry(name: string, options: RunOptions): ReportEntry | null {
  const resultsPath = join(options.resultsDir, `${name}.json`);
  if (!existsSync(resultsPath)) return null;
  const executedPath = join(options.resultsDir, `${name}.ipynb`);
  try {
    const results = JSON.parse(readFileSync(resultsPath, "utf8")) as NotebookResults;
    const notebook = existsSync(executedPath) ? readNotebook(executedPath) : null;
    return {
      results,
      notebook,
      notebookHref: notebook ? relative(options.reportDir, executedPath).split("\\").join("/") : null,
    };
  } catch {
    return null; // unreadable leftovers are not reported
  }
}

/** A results record for a notebook that could not be executed at all. */
function unexecuted(
  name: string,
  params: RunOptions["params"],
  kernel: string,
  started: Date,
  e: unknown,
): NotebookResults {
  const error = e instanceof Error ? e : new Error(String(e));
  return {
    name,
    status: "failed",
    params,
    started: started.toISOString(),
    wallSeconds: (Date.now() - started.getTime()) / 1000,
    cells: [],
    claims: [],
    metrics: {},
    figures: 0,
    error: {
      cellIndex: null,
      executionCount: null,
      source: "",
      ename: error.name,
      evalue: error.message,
      traceback: [],
    },
    environment: { node: process.version, kernel },
  };
}

async function runOne(name: string, options: RunOptions, env: NodeJS.ProcessEnv): Promise<ReportEntry> {
  const path = join(options.notebooksDir, `${name}.ipynb`);
  const executedPath = join(options.resultsDir, `${name}.ipynb`);
  rmSync(executedPath, { force: true });
  const started = new Date();
  let kernel = options.kernel ?? options.defaultKernel;
  let executed: Notebook | null = null;
  let results: NotebookResults;
  try {
    const nb = readNotebook(path);
    kernel = options.kernel ?? nb.metadata.kernelspec?.name ?? options.defaultKernel;
    const spec = findKernelSpec(kernel, env);
    const input = injectParameters(nb, options.params, spec.language || notebookLanguage(nb));
    const run = await executeNotebook(input, {
      spec,
      cwd: dirname(resolve(path)),
      cellTimeout: options.cellTimeout,
      env,
      kernel: options.kernelConfig,
      onCell: (cell) => options.onEvent?.({ type: "cell", name, cell }),
    });
    executed = run.notebook;
    slimNotebook(executed); // PNG + plotly JSON per figure, never plotly.js
    writeNotebook(executedPath, executed);
    results = notebookResults(name, options.params, kernel, run);
  } catch (e) {
    results = unexecuted(name, options.params, kernel, started, e);
  }
  writeFileSync(join(options.resultsDir, `${name}.json`), JSON.stringify(results, null, 2) + "\n");
  const notebookHref = executed ? relative(options.reportDir, executedPath).split("\\").join("/") : null;
  return { results, notebook: executed, notebookHref };
}

/** Where the report links docs/claims.md and plotly.js from: relative paths from the report folder. */
function reportLinks(reportDir: string): { claimsDocHref: string; plotlyHref: string } {
  const href = (...parts: string[]) =>
    relative(reportDir, join(ROOT, ...parts))
      .split("\\")
      .join("/");
  return {
    claimsDocHref: href("docs", "claims.md"),
    plotlyHref: href("node_modules", "plotly.js-dist-min", "plotly.min.js"),
  };
}

/**
 * Runs the selected notebooks one after another (a failure does not stop the others), writes
 * `<resultsDir>/<name>.ipynb` and `<name>.json` for each, `<resultsDir>/run.json` (machine, commit, wall times) and
 * `<reportDir>/index.html` for all.
 * Throws NotebookNotFoundError before running anything when a requested name does not exist.
 */
export async function runNotebooks(overrides: Partial<RunOptions> = {}): Promise<RunSummary> {
  const options: RunOptions = withDefaults("runNotebooks(options)", DEFAULT_RUN_OPTIONS, overrides, ["onEvent"]);
  const names = selectNotebooks(options.notebooksDir, options.only);
  // Every override is checked against every selected notebook before anything runs.
  const params = new Map(
    names.map((name) => [
      name,
      checkParameters(readNotebook(join(options.notebooksDir, `${name}.ipynb`)), options.params, `${name}.ipynb`),
    ]),
  );
  makeDirectory(options.resultsDir, "results folder (--results)");
  makeDirectory(options.reportDir, "report folder (--report)");
  const jupyterPath = [...options.jupyterPath, ...(process.env.JUPYTER_PATH ?? "").split(delimiter)].filter(Boolean);
  const env = { ...process.env, JUPYTER_PATH: jupyterPath.join(delimiter) };
  const entries: ReportEntry[] = [];
  const started = new Date();
  const commit = commitFacts(ROOT); // before any output is written: rerunning into a tracked results/reference is clean
  for (const [i, name] of names.entries()) {
    options.onEvent?.({ type: "notebook-start", name, ordinal: i + 1, total: names.length });
    const entry = await runOne(name, { ...options, params: params.get(name) ?? {} }, env);
    entries.push(entry);
    options.onEvent?.({ type: "notebook-end", name, results: entry.results });
  }
  // --only: the report keeps the other listed notebooks' earlier results, in list order.
  const shown = [...new Set([...listNotebooks(options.notebooksDir), ...names])]
    .map((name) => entries.find((e) => e.results.name === name) ?? earlierEntry(name, options))
    .filter((e): e is ReportEntry => e !== null);
  const results = entries.map((e) => e.results);
  const finished = new Date();
  const run: RunRecord = {
    started: started.toISOString(),
    finished: finished.toISOString(),
    wallSeconds: (finished.getTime() - started.getTime()) / 1000,
    params: options.params,
    only: options.only,
    notebooks: results.map((r) => ({ name: r.name, status: r.status, wallSeconds: r.wallSeconds })),
    machine: machineFacts(),
    commit,
  };
  writeFileSync(join(options.resultsDir, RUN_RECORD_FILE), JSON.stringify(run, null, 2) + "\n");
  const reportPath = join(options.reportDir, "index.html");
  const links = reportLinks(options.reportDir);
  writeFileSync(
    reportPath,
    renderReport(shown, {
      run,
      claimsDocHref: links.claimsDocHref,
      plotlySrc: options.inlinePlotly ? null : links.plotlyHref,
    }),
  );
  return {
    results,
    failed: results.filter((r) => r.status === "failed").map((r) => r.name),
    resultsDir: options.resultsDir,
    reportPath,
    run,
  };
}
