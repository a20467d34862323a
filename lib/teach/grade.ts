// The autograder (nbgrader's autograde + generate_feedback, on the lab's runner): each submitted notebook is rebuilt
// on its source version (locked and test cells restored with their hidden tests, the student's solution cells kept,
// edits to locked cells detected by checksum, missing cells reported), run in a fresh kernel and working directory
// with per-cell timeouts and process.exit disabled, going on past failing cells; test cells score their points when
// they run without error. Writes a JSON and an HTML feedback page per submission and a class CSV.
// Reference: nbgrader autograde (OverwriteCells, CheckCellMetadata, checksums), nbgrader feedback; otter-grader.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, join } from "node:path";
import { escapeHtml, stripAnsi } from "../html-escape";
import { executeNotebook } from "../run/execute";
import type { KernelClientConfig } from "../run/kernel";
import { findKernelSpec } from "../run/kernelspec";
import { readNotebook, writeNotebook, type Cell, type CodeCell, type Notebook, type Output } from "../run/notebook";
import { repoRoot } from "../repo-root";
import { TEACH_MIME, type CheckResult } from "./check";
import { cellChecksum, nbgraderOf, releaseNotebook } from "./release";

/** Grader settings. */
export interface GradeConfig {
  /** Where the source versions (with solutions and hidden tests) are: <exercisesDir>/<lab>.ipynb. */
  exercisesDir: string;
  /** Seconds one cell may run before it is interrupted and fails (an infinite loop costs this much). */
  cellTimeout: number;
  /** Characters of output kept per cell in the graded notebook and the feedback; the rest is cut with a note. */
  maxOutputChars: number;
  /** Kernel that runs the submissions. */
  kernel: string;
  /** Directories put first on JUPYTER_PATH to find the kernel. */
  jupyterPath: string[];
  /** Kernel client timing settings. */
  kernelConfig: Partial<KernelClientConfig>;
  /**
   * Extra runs, each in a fresh kernel, when a cell failed inside the kernel's TypeScript compiler rather than in the
   * student's code (tslab's watch host intermittently throws "Unexpected pending rebuildTimer"); reported as a note.
   */
  compilerRetries: number;
  /** Progress (one line per submission). */
  onProgress?: (line: string) => void;
}

const ROOT = repoRoot();

export const DEFAULT_GRADE: Readonly<GradeConfig> = Object.freeze({
  exercisesDir: join(ROOT, "exercises"),
  cellTimeout: 30,
  maxOutputChars: 20_000,
  kernel: "moelab",
  jupyterPath: [ROOT],
  kernelConfig: {},
  compilerRetries: 2,
});

/** Errors thrown by tslab's compiler host itself (converter.js), not by the code being compiled. */
const COMPILER_INTERNAL_ERROR =
  /Unexpected pending rebuildTimer|rebuildTimer is not set properly|clearing unexpected tiemr/;

/** One graded cell's outcome. */
export interface CellGrade {
  gradeId: string;
  /** "auto": a test cell; "manual": an answer graded by hand (score null until then). */
  kind: "auto" | "manual";
  points: number;
  score: number | null;
  status: "passed" | "failed" | "not run" | "needs manual grading";
  /** The failing cell's error (first lines), or the answer text for manual cells. */
  message: string;
  /** lab.teach.check results the cell recorded. */
  checks: CheckResult[];
}

/** One submission's grade. */
export interface SubmissionGrade {
  student: string;
  lab: string;
  /** The submitted notebook's path. */
  path: string;
  /** "graded", or why it could not be: an unreadable file, no exercise of that name. */
  status: "graded" | "unreadable" | "unknown exercise";
  autoScore: number;
  autoMax: number;
  /** Points of the answers graded by hand (not in autoScore). */
  manualMax: number;
  cells: CellGrade[];
  /** Edited locked cells, missing cells, a dead kernel, timeouts: what the teacher should know. */
  issues: string[];
  wallSeconds: number;
}

/** Marks the grader's own cell in the graded notebook. */
const GRADER_CELL = "moelab_grader";

/** Runs first: process.exit and process.abort throw instead of ending the kernel (and the grading of later cells). */
const GUARD_SOURCE = [
  'for (const name of ["exit", "abort"] as const) {',
  "  (process as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {",
  '    throw new Error(`process.${name}(${args.join(", ")}) is not allowed in a graded notebook`);',
  "  };",
  "}",
].join("\n");

function codeCell(source: string, metadata: Record<string, unknown>): CodeCell {
  return { cell_type: "code", source, metadata, outputs: [], execution_count: null };
}

/**
 * The notebook to grade: the source's cells in the source's order, the student's version of each solution cell
 * (matched by grade_id; a missing one becomes the stub), every other cell from the source (hidden tests included),
 * student-added cells kept after the cell they followed; a first cell that disables process.exit.
 */
export function assembleSubmission(source: Notebook, submission: Notebook): { notebook: Notebook; issues: string[] } {
  const released = releaseNotebook(source);
  const issues: string[] = [];
  const byId = new Map<string, Cell>();
  const added = new Map<string | null, Cell[]>(); // student cells with no known grade_id, by the grade_id before them
  const known = new Set(
    source.cells.map((c) => nbgraderOf(c)?.grade_id).filter((id): id is string => id !== undefined),
  );
  let anchor: string | null = null;
  for (const cell of submission.cells) {
    const id = nbgraderOf(cell)?.grade_id;
    if (id !== undefined && known.has(id)) {
      if (byId.has(id)) issues.push(`cell ${id} appears twice in the submission; the first one is graded`);
      else byId.set(id, cell);
      anchor = id;
    } else {
      if (!added.has(anchor)) added.set(anchor, []);
      added.get(anchor)!.push(cell);
    }
  }
  const cells: Cell[] = [codeCell(GUARD_SOURCE, { [GRADER_CELL]: true }), ...(added.get(null) ?? [])];
  for (const [i, cell] of source.cells.entries()) {
    const meta = nbgraderOf(cell);
    if (!meta) {
      cells.push(structuredClone(cell));
      continue;
    }
    const theirs = byId.get(meta.grade_id);
    if (meta.solution) {
      if (!theirs) issues.push(`missing cell ${meta.grade_id}: graded as the unanswered stub`);
      const kept = structuredClone(theirs && theirs.cell_type === cell.cell_type ? theirs : released.cells[i]);
      if (theirs && theirs.cell_type !== cell.cell_type)
        issues.push(`cell ${meta.grade_id} was changed to ${theirs.cell_type}: graded as the unanswered stub`);
      kept.metadata = structuredClone(cell.metadata);
      cells.push(kept);
    } else {
      if (!theirs) issues.push(`missing cell ${meta.grade_id}: restored from the source version`);
      else if (![released.cells[i], cell].some((c) => cellChecksum(c.source) === cellChecksum(theirs.source))) {
        issues.push(
          `edited locked cell ${meta.grade_id}: its checksum differs from the released version's; restored from the source version`,
        );
      }
      cells.push(releaseOutputs(cell));
    }
    cells.push(...(added.get(meta.grade_id) ?? []));
  }
  for (const cell of cells) if (cell.cell_type === "code") Object.assign(cell, { outputs: [], execution_count: null });
  return { notebook: { ...structuredClone(source), cells }, issues };
}

/** A source cell without outputs (hidden tests kept). */
function releaseOutputs(cell: Cell): Cell {
  const copy = structuredClone(cell);
  if (copy.cell_type === "code") copy.outputs = [];
  return copy;
}

/** Cuts each code cell's outputs to `maxChars` characters in all (text beyond is replaced by a note). */
export function truncateOutputs(nb: Notebook, maxChars: number): Notebook {
  const cut = (text: string, budget: number) =>
    text.length <= budget
      ? text
      : `${text.slice(0, Math.max(0, budget))}\n[… ${text.length - Math.max(0, budget)} more characters cut by the grader]`;
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    let budget = maxChars;
    const kept: Output[] = [];
    for (const out of cell.outputs) {
      if (budget <= 0) {
        kept.push({
          output_type: "stream",
          name: "stderr",
          text: `[… ${cell.outputs.length - kept.length} more outputs cut by the grader]`,
        });
        break;
      }
      if (out.output_type === "stream") {
        kept.push({ ...out, text: cut(out.text, budget) });
        budget -= out.text.length;
      } else if (out.output_type === "error") {
        kept.push({ ...out, evalue: cut(out.evalue, budget), traceback: out.traceback.slice(0, 50) });
        budget -= out.evalue.length;
      } else {
        const data: Record<string, unknown> = {};
        for (const [mime, value] of Object.entries(out.data)) {
          const size = typeof value === "string" ? value.length : JSON.stringify(value).length;
          if (size <= budget || mime === TEACH_MIME) data[mime] = value;
          else if (mime === "text/plain" && typeof value === "string") data[mime] = cut(value, budget);
          budget -= Math.min(size, budget);
        }
        if (!("text/plain" in data) && Object.keys(data).length === 0)
          data["text/plain"] = "[output cut by the grader]";
        kept.push({ ...out, data });
      }
    }
    cell.outputs = kept;
  }
  return nb;
}

function errorMessage(cell: CodeCell): string | null {
  const error = cell.outputs.find((o): o is Extract<Output, { output_type: "error" }> => o.output_type === "error");
  if (!error) return null;
  const text = stripAnsi(`${error.ename}: ${error.evalue}`);
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

function checksOf(cell: CodeCell): CheckResult[] {
  return cell.outputs.flatMap((o) =>
    "data" in o && TEACH_MIME in o.data ? [(o.data[TEACH_MIME] as { check: CheckResult }).check] : [],
  );
}

/** Scores of the graded cells of an executed, assembled notebook. */
export function scoreNotebook(executed: Notebook): CellGrade[] {
  return executed.cells.flatMap((cell): CellGrade[] => {
    const meta = nbgraderOf(cell);
    if (!meta?.grade) return [];
    const points = meta.points ?? 0;
    if (meta.solution || cell.cell_type !== "code") {
      return [
        {
          gradeId: meta.grade_id,
          kind: "manual",
          points,
          score: null,
          status: "needs manual grading",
          message: cell.source,
          checks: [],
        },
      ];
    }
    const ran = cell.execution_count !== null || cell.outputs.length > 0;
    const error = errorMessage(cell);
    const status = !ran ? "not run" : error ? "failed" : "passed";
    return [
      {
        gradeId: meta.grade_id,
        kind: "auto",
        points,
        score: status === "passed" ? points : 0,
        status,
        message: error ?? "",
        checks: checksOf(cell),
      },
    ];
  });
}

/** Grades one submitted notebook of `lab` (its source is <exercisesDir>/<lab>.ipynb); writes nothing. */
export async function gradeSubmission(
  student: string,
  path: string,
  config: Partial<GradeConfig> = {},
): Promise<{ grade: SubmissionGrade; notebook: Notebook | null }> {
  const cfg = { ...DEFAULT_GRADE, ...config };
  const lab = basename(path).replace(/\.ipynb$/, "");
  const start = Date.now();
  const base = { student, lab, path, autoScore: 0, autoMax: 0, manualMax: 0, cells: [] as CellGrade[] };
  const sourcePath = join(cfg.exercisesDir, `${lab}.ipynb`);
  if (!existsSync(sourcePath)) {
    return {
      grade: {
        ...base,
        status: "unknown exercise",
        issues: [`no exercise named ${lab} in ${cfg.exercisesDir}`],
        wallSeconds: 0,
      },
      notebook: null,
    };
  }
  const source = readNotebook(sourcePath);
  const maxima = scoreNotebook(source).reduce(
    (m, c) => (c.kind === "auto" ? { ...m, auto: m.auto + c.points } : { ...m, manual: m.manual + c.points }),
    { auto: 0, manual: 0 },
  );
  let submission: Notebook;
  try {
    submission = readNotebook(path);
  } catch (e) {
    const issues = [`unreadable notebook: ${(e as Error).message}`];
    return {
      grade: {
        ...base,
        autoMax: maxima.auto,
        manualMax: maxima.manual,
        status: "unreadable",
        issues,
        wallSeconds: (Date.now() - start) / 1000,
      },
      notebook: null,
    };
  }
  const { notebook, issues } = assembleSubmission(source, submission);
  const env = {
    ...process.env,
    JUPYTER_PATH: [...cfg.jupyterPath, process.env.JUPYTER_PATH ?? ""].filter(Boolean).join(delimiter),
  };
  const cwd = mkdtempSync(join(tmpdir(), "moelab-grade-"));
  try {
    const spec = findKernelSpec(cfg.kernel, env);
    let run = await executeNotebook(notebook, {
      spec,
      cwd,
      cellTimeout: cfg.cellTimeout,
      env,
      kernel: cfg.kernelConfig,
      continueOnError: true,
    });
    for (let retry = 1; retry <= cfg.compilerRetries; retry++) {
      const internal = run.notebook.cells
        .flatMap((c) => (c.cell_type === "code" ? c.outputs : []))
        .find((o) => o.output_type === "error" && COMPILER_INTERNAL_ERROR.test(o.evalue));
      if (!internal || internal.output_type !== "error") break;
      issues.push(
        `run ${retry}: the kernel's TypeScript compiler failed internally (${internal.evalue}); graded again in a fresh kernel`,
      );
      run = await executeNotebook(notebook, {
        spec,
        cwd,
        cellTimeout: cfg.cellTimeout,
        env,
        kernel: cfg.kernelConfig,
        continueOnError: true,
      });
    }
    const executed = truncateOutputs(run.notebook, cfg.maxOutputChars);
    for (const cell of executed.cells) {
      if (cell.cell_type !== "code") continue;
      const id = nbgraderOf(cell)?.grade_id ?? "(student cell)";
      const timeout = cell.outputs.find((o) => o.output_type === "error" && o.ename === "CellTimeoutError");
      if (timeout) issues.push(`cell ${id} ran past the ${cfg.cellTimeout} s cell timeout and was interrupted`);
    }
    if (run.error && run.error.cellIndex === null)
      issues.push(`the notebook could not be run (${run.error.ename}: ${run.error.evalue})`);
    else if (run.error && run.error.recoverable === false) {
      const id =
        run.error.cellIndex === null
          ? "(none)"
          : (nbgraderOf(executed.cells[run.error.cellIndex])?.grade_id ?? "(student cell)");
      issues.push(`the kernel could not go on after cell ${id} (${run.error.ename}); the cells after it were not run`);
    }
    const cells = scoreNotebook(executed);
    const autoScore = cells.reduce((s, c) => s + (c.score ?? 0), 0);
    const grade: SubmissionGrade = {
      ...base,
      status: "graded",
      autoScore,
      autoMax: maxima.auto,
      manualMax: maxima.manual,
      cells,
      issues,
      wallSeconds: (Date.now() - start) / 1000,
    };
    return { grade, notebook: executed };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The feedback page of one submission. */
export function feedbackHtml(grade: SubmissionGrade): string {
  const td = "padding:4px 8px;border:1px solid #ccc;text-align:left;vertical-align:top";
  const colour: Record<CellGrade["status"], string> = {
    passed: "#d4edda",
    failed: "#f8d7da",
    "not run": "#f8d7da",
    "needs manual grading": "#e2e3e5",
  };
  const rows = grade.cells
    .map((c) => {
      const score = c.score === null ? "—" : String(c.score);
      const detail =
        c.kind === "manual"
          ? `<pre style="white-space:pre-wrap">${escapeHtml(c.message)}</pre>`
          : escapeHtml(c.message);
      return `<tr><td style="${td}">${escapeHtml(c.gradeId)}</td><td style="${td}">${score} / ${c.points}</td><td style="${td};background:${colour[c.status]}">${c.status}</td><td style="${td}">${detail}</td></tr>`;
    })
    .join("\n");
  const checks = grade.cells
    .flatMap((c) => c.checks)
    .map((r) => {
      const cases = r.cases
        .map(
          (k) =>
            `<li>${k.passed ? "pass" : "<b>FAIL</b>"}: ${escapeHtml(k.name)}${k.detail ? ` — ${escapeHtml(k.detail)}` : ""}</li>`,
        )
        .join("");
      return `<h3>${escapeHtml(r.exercise)} (${r.suite === "all" ? "all tests" : "visible tests"}): ${r.passed} of ${r.total}</h3><ul>${cases}</ul>${r.hint ? `<p>${escapeHtml(r.hint)}</p>` : ""}`;
    })
    .join("\n");
  const issues = grade.issues.length
    ? `<h2>Notes from the grader</h2><ul>${grade.issues.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`
    : "";
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(grade.lab)}: ${escapeHtml(grade.student)}</title></head>
<body style="font-family:sans-serif;max-width:60em;margin:2em auto">
<h1>${escapeHtml(grade.lab)}: feedback for ${escapeHtml(grade.student)}</h1>
<p>Autograded score: <b>${grade.autoScore} / ${grade.autoMax}</b>${grade.manualMax ? ` (plus ${grade.manualMax} points graded by hand)` : ""}. Status: ${grade.status}.</p>
${issues}
<table style="border-collapse:collapse"><thead><tr><th style="${td}">Cell</th><th style="${td}">Score</th><th style="${td}">Status</th><th style="${td}">Detail</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${checks}
</body></html>
`;
}

const csvField = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

/** The class CSV: one row per submission. */
export function gradesCsv(grades: readonly SubmissionGrade[]): string {
  const head = ["student", "lab", "status", "auto_score", "auto_max", "manual_max", "issues"];
  const rows = grades.map((g) =>
    [g.student, g.lab, g.status, g.autoScore, g.autoMax, g.manualMax, g.issues.join("; ")].map(csvField).join(","),
  );
  return [head.join(","), ...rows].join("\n") + "\n";
}

/** Submitted notebooks: <dir>/<student>/<lab>.ipynb (nbgrader's submitted/ layout without the assignment level). */
export function listSubmissions(dir: string): { student: string; path: string }[] {
  if (!existsSync(dir)) throw new Error(`teach grade: submissions directory ${dir} does not exist`);
  return readdirSync(dir)
    .filter((s) => statSync(join(dir, s)).isDirectory())
    .sort()
    .flatMap((student) =>
      readdirSync(join(dir, student))
        .filter((f) => f.endsWith(".ipynb"))
        .sort()
        .map((f) => ({ student, path: join(dir, student, f) })),
    );
}

/**
 * Grades every submission under `submissionsDir` one after another, each in a fresh kernel; writes
 * <outDir>/<student>/<lab>.json, .html and the graded .ipynb, and <outDir>/grades.csv. Returns the grades.
 */
export async function gradeAll(
  submissionsDir: string,
  outDir: string,
  config: Partial<GradeConfig> = {},
): Promise<SubmissionGrade[]> {
  const submissions = listSubmissions(submissionsDir);
  const grades: SubmissionGrade[] = [];
  for (const { student, path } of submissions) {
    const { grade, notebook } = await gradeSubmission(student, path, config);
    const dir = join(outDir, student);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${grade.lab}.json`), JSON.stringify(grade, null, 2) + "\n");
    writeFileSync(join(dir, `${grade.lab}.html`), feedbackHtml(grade));
    if (notebook) writeNotebook(join(dir, `${grade.lab}.ipynb`), notebook);
    config.onProgress?.(
      `${student}/${grade.lab}: ${grade.autoScore} / ${grade.autoMax}${grade.issues.length ? ` (${grade.issues.length} note${grade.issues.length > 1 ? "s" : ""})` : ""}`,
    );
    grades.push(grade);
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "grades.csv"), gradesCsv(grades));
  return grades;
}
