// The headless runner: execute notebooks through their kernel, save executed notebooks, results JSON and the report.
// Reference: papermill (parameters, executed copies); issue 2 item 7 (npm run reproduce).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, delimiter, dirname, join, relative, resolve } from "node:path";
import { executeNotebook, type CellEvent } from "./execute";
import type { KernelClientConfig } from "./kernel";
import { findKernelSpec } from "./kernelspec";
import { injectParameters, notebookLanguage, readNotebook, writeNotebook, type Notebook, type ParameterValue } from "./notebook";
import { repoRoot } from "../repo-root";
import { renderReport, type ReportEntry } from "./report";
import { notebookResults, type NotebookResults } from "./results";

/** What the runner does. */
export interface RunOptions {
  /** Directory whose *.ipynb files are the notebooks (run in name order). */
  notebooksDir: string;
  /** Names to run (file name with or without .ipynb); empty: all. */
  only: string[];
  /** Parameters injected after every notebook's "parameters" cell. */
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
  jupyterPath: [ROOT],
  kernelConfig: {},
});

/** Notebook names (file names without .ipynb) in `dir`, sorted. */
export function listNotebooks(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`listNotebooks(dir): ${dir} does not exist`);
  return readdirSync(dir)
    .filter((file) => file.endsWith(".ipynb"))
    .map((file) => file.slice(0, -".ipynb".length))
    .sort();
}

/** The notebooks to run: all, or `only` (with or without .ipynb) in directory order; unknown names throw. */
export function selectNotebooks(dir: string, only: readonly string[]): string[] {
  const available = listNotebooks(dir);
  if (only.length === 0) return available;
  const wanted = only.map((name) => basename(name).replace(/\.ipynb$/, ""));
  const missing = wanted.filter((name) => !available.includes(name));
  if (missing.length) throw new NotebookNotFoundError(missing, available, dir);
  return available.filter((name) => wanted.includes(name));
}

/** A results record for a notebook that could not be executed at all. */
function unexecuted(name: string, params: RunOptions["params"], kernel: string, started: Date, e: unknown): NotebookResults {
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
    error: { cellIndex: null, executionCount: null, source: "", ename: error.name, evalue: error.message, traceback: [] },
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
    writeNotebook(executedPath, executed);
    results = notebookResults(name, options.params, kernel, run);
  } catch (e) {
    results = unexecuted(name, options.params, kernel, started, e);
  }
  writeFileSync(join(options.resultsDir, `${name}.json`), JSON.stringify(results, null, 2) + "\n");
  const notebookHref = executed ? relative(options.reportDir, executedPath).split("\\").join("/") : null;
  return { results, notebook: executed, notebookHref };
}

/**
 * Runs the selected notebooks one after another (a failure does not stop the others), writes
 * `<resultsDir>/<name>.ipynb` and `<name>.json` for each and `<reportDir>/index.html` for all.
 * Throws NotebookNotFoundError before running anything when a requested name does not exist.
 */
export async function runNotebooks(overrides: Partial<RunOptions> = {}): Promise<RunSummary> {
  const options: RunOptions = { ...DEFAULT_RUN_OPTIONS, ...overrides };
  const names = selectNotebooks(options.notebooksDir, options.only);
  mkdirSync(options.resultsDir, { recursive: true });
  mkdirSync(options.reportDir, { recursive: true });
  const jupyterPath = [...options.jupyterPath, ...(process.env.JUPYTER_PATH ?? "").split(delimiter)].filter(Boolean);
  const env = { ...process.env, JUPYTER_PATH: jupyterPath.join(delimiter) };
  const entries: ReportEntry[] = [];
  for (const [i, name] of names.entries()) {
    options.onEvent?.({ type: "notebook-start", name, ordinal: i + 1, total: names.length });
    const entry = await runOne(name, options, env);
    entries.push(entry);
    options.onEvent?.({ type: "notebook-end", name, results: entry.results });
  }
  const reportPath = join(options.reportDir, "index.html");
  writeFileSync(reportPath, renderReport(entries));
  const results = entries.map((e) => e.results);
  return {
    results,
    failed: results.filter((r) => r.status === "failed").map((r) => r.name),
    resultsDir: options.resultsDir,
    reportPath,
  };
}
