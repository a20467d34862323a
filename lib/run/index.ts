// The headless runner's public API (Node only: it starts kernels over zeromq). Import "moelab/dist/lib/run".
// Reference: issue 2 item 7; DESIGN.md §1 (run).
export {
  runNotebooks,
  listNotebooks,
  selectNotebooks,
  makeDirectory,
  NotebookNotFoundError,
  DEFAULT_RUN_OPTIONS,
  MANIFEST_FILE,
} from "./runner";
export { repoRoot } from "../repo-root";
export { ParameterError, checkParameters, declaredParameters } from "./parameters";
export type { DeclaredParameter, ParameterKind } from "./parameters";
export type { RunOptions, RunEvent, RunSummary } from "./runner";
export { executeNotebook } from "./execute";
export type { CellEvent, CellTiming, ExecuteNotebookOptions, NotebookError, NotebookExecution } from "./execute";
export { KernelClient, KernelDiedError, DEFAULT_KERNEL_CLIENT_CONFIG } from "./kernel";
export type { ExecuteOptions, ExecuteOutcome, ExecuteReply, KernelClientConfig, StartKernelOptions } from "./kernel";
export { findKernelSpec, kernelCommand, kernelSearchPath } from "./kernelspec";
export type { KernelSpec } from "./kernelspec";
export {
  INJECTED_PARAMETERS_TAG,
  PARAMETERS_TAG,
  injectParameters,
  notebookLanguage,
  readNotebook,
  writeNotebook,
} from "./notebook";
export type { Cell, CodeCell, Notebook, Output, ParameterValue } from "./notebook";
export { OutputCollector } from "./outputs";
export { BANNER_PATTERN, PLOTLY_MIME, notebookResults, plotlyFigures } from "./results";
export type { NotebookResults } from "./results";
export { renderReport, DEFAULT_REPORT_OPTIONS } from "./report";
export type { ReportEntry, ReportOptions } from "./report";
export { slimNotebook } from "./slim";
export type { SlimReport } from "./slim";
export { RUN_RECORD_FILE, commitFacts, formatDuration, machineFacts, readResultsFolder } from "./run-record";
export type { CommitFacts, MachineFacts, ResultsFolder, RunRecord, RunRecordNotebook } from "./run-record";
export { ITEM_KINDS, VERDICT_RULE, matchRows, renderClaimsDoc, unmatchedRefs, validateClaimsMap } from "./claims-doc";
export type { ClaimsMap, ItemKind, MappedArticle, MappedItem, RowRef, UnmatchedRef } from "./claims-doc";
export { NO_REFERENCE, README_BLOCKS, checkReferenceRun, markers, readmeBlocks, replaceBlocks } from "./readme-tables";
export type { ReadmeBlock } from "./readme-tables";
