// A notebook's results record: status, timings, claims, metrics, figures and environment, gathered from its outputs.
// Reference: lib/claims.ts (the results MIME type); papermill's notebook metadata for the run fields.
import { RESULTS_MIME, validateClaims, type ClaimRow, type MetricValue, type ResultsPayload } from "../claims";
import type { CellTiming, NotebookError, NotebookExecution } from "./execute";
import type { Notebook, Output, ParameterValue } from "./notebook";

/** MIME type of plotly figures in outputs. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** The results JSON written next to each executed notebook. */
export interface NotebookResults {
  name: string;
  status: "ok" | "failed";
  params: Record<string, ParameterValue>;
  /** ISO time the execution started. */
  started: string;
  wallSeconds: number;
  /** Seconds per executed cell (index in the executed notebook). */
  cells: CellTiming[];
  claims: ClaimRow[];
  metrics: Record<string, MetricValue>;
  /** Plotly figures in the outputs. */
  figures: number;
  error: NotebookError | null;
  environment: {
    node: string;
    kernel: string;
    /** The kernel's implementation and version from kernel_info, when it answered. */
    implementation?: string;
    /** The backend banner, when the notebook printed or recorded it. */
    banner?: string;
    /** Whatever the notebook passed to recordEnvironment(). */
    [key: string]: string | undefined;
  };
}

/** Where a printed backend banner is found (the library's banner(): "MoE Lab 0.1.0 · backend wasm · ..."). */
export const BANNER_PATTERN = /MoE Lab \S+ · backend [^\n"'`]*/;

/** Every output of the notebook's code cells, in order. */
function allOutputs(nb: Notebook): Output[] {
  return nb.cells.flatMap((cell) => (cell.cell_type === "code" ? cell.outputs : []));
}

/** Plotly figures ({ data, layout, ... }) in the outputs, in order. */
export function plotlyFigures(nb: Notebook): Record<string, unknown>[] {
  return allOutputs(nb).flatMap((out) =>
    "data" in out && out.data[PLOTLY_MIME] !== null && typeof out.data[PLOTLY_MIME] === "object"
      ? [out.data[PLOTLY_MIME] as Record<string, unknown>]
      : [],
  );
}

/** Claims, metrics and environment from every results output; an invalid payload becomes an error. */
function gather(nb: Notebook): Required<ResultsPayload> {
  const found: Required<ResultsPayload> = { claims: [], metrics: {}, environment: {} };
  for (const out of allOutputs(nb)) {
    if (!("data" in out)) continue;
    const payload = out.data[RESULTS_MIME] as ResultsPayload | undefined;
    if (payload === undefined) continue;
    if (payload.claims) found.claims.push(...validateClaims(payload.claims, `${RESULTS_MIME} output`));
    Object.assign(found.metrics, payload.metrics);
    Object.assign(found.environment, payload.environment);
  }
  return found;
}

/** The first printed banner (stream text or a text/plain result), if any. */
function printedBanner(nb: Notebook): string | undefined {
  for (const out of allOutputs(nb)) {
    const text = out.output_type === "stream" ? out.text : "data" in out ? out.data["text/plain"] : undefined;
    const match = typeof text === "string" ? BANNER_PATTERN.exec(text) : null;
    if (match) return match[0].trim();
  }
  return undefined;
}

/** Builds the results record of an execution. */
export function notebookResults(
  name: string,
  params: Record<string, ParameterValue>,
  kernelName: string,
  run: NotebookExecution,
): NotebookResults {
  const { claims, metrics, environment } = gather(run.notebook);
  const info = run.kernelInfo as { implementation?: string; implementation_version?: string };
  const banner = environment.banner ?? printedBanner(run.notebook);
  return {
    name,
    status: run.status,
    params,
    started: run.started,
    wallSeconds: run.wallSeconds,
    cells: run.cells,
    claims,
    metrics,
    figures: plotlyFigures(run.notebook).length,
    error: run.error,
    environment: {
      node: process.version,
      kernel: kernelName,
      ...(info.implementation
        ? { implementation: `${info.implementation} ${info.implementation_version ?? ""}`.trim() }
        : {}),
      ...environment,
      ...(banner ? { banner } : {}),
    },
  };
}
