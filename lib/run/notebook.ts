// Jupyter notebooks (nbformat 4): types, reading, writing, and papermill-style parameter injection.
// Reference: nbformat v4 schema (nbformat.v4.schema.json); papermill parameterize.py / translators.py.
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

/** A MIME bundle as stored in outputs. */
export type MimeBundle = Record<string, unknown>;

export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: string;
}
export interface DisplayDataOutput {
  output_type: "display_data";
  data: MimeBundle;
  metadata: Record<string, unknown>;
}
export interface ExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: MimeBundle;
  metadata: Record<string, unknown>;
}
export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

/** Cell metadata; `tags` marks the parameters cell. */
export interface CellMetadata {
  tags?: string[];
  [key: string]: unknown;
}
export interface CodeCell {
  cell_type: "code";
  id?: string;
  /** Normalised to one string when read. */
  source: string;
  metadata: CellMetadata;
  outputs: Output[];
  execution_count: number | null;
}
export interface TextCell {
  cell_type: "markdown" | "raw";
  id?: string;
  source: string;
  metadata: CellMetadata;
  attachments?: Record<string, unknown>;
}
export type Cell = CodeCell | TextCell;

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: {
    kernelspec?: { name: string; display_name?: string; language?: string };
    language_info?: { name?: string; [key: string]: unknown };
    [key: string]: unknown;
  };
  cells: Cell[];
}

/** Tag of the cell holding a notebook's default parameters. */
export const PARAMETERS_TAG = "parameters";
/** Tag of the cell the runner inserts after it. */
export const INJECTED_PARAMETERS_TAG = "injected-parameters";

/** A parameter value: JSON data (numbers must be finite). */
export type ParameterValue = boolean | number | string | null | ParameterValue[] | { [key: string]: ParameterValue };

/** Reads a .ipynb file; cell sources become single strings. Errors name the file and what is wrong. */
export function readNotebook(path: string): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`readNotebook(path): cannot read ${path} as JSON: ${(e as Error).message}`);
  }
  const nb = raw as Partial<Notebook>;
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) {
    throw new Error(`readNotebook(path): ${path} is not an nbformat 4 notebook (nbformat ${String(nb.nbformat)})`);
  }
  for (const cell of nb.cells as (Cell & { source: string | string[] })[]) {
    if (Array.isArray(cell.source)) cell.source = cell.source.join("");
    cell.metadata ??= {};
  }
  nb.metadata ??= {};
  nb.nbformat_minor ??= 4;
  return nb as Notebook;
}

/** Writes a notebook the way Jupyter does (1-space indent, trailing newline). */
export function writeNotebook(path: string, nb: Notebook): void {
  writeFileSync(path, JSON.stringify(nb, null, 1) + "\n");
}

function hasTag(cell: Cell, tag: string): boolean {
  return Array.isArray(cell.metadata.tags) && cell.metadata.tags.includes(tag);
}

/** The notebook's kernel language: kernelspec.language, else language_info.name, else "". */
export function notebookLanguage(nb: Notebook): string {
  return (nb.metadata.kernelspec?.language ?? nb.metadata.language_info?.name ?? "").toLowerCase();
}

function checkValue(name: string, value: ParameterValue): void {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new Error(`injectParameters(params): parameter "${name}" is ${value}; expected a finite number`);
  }
  if (value === null || typeof value !== "object") return;
  for (const item of Object.values(value)) checkValue(name, item);
}

/** A Python literal for `value`. */
function pythonLiteral(value: ParameterValue): string {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value);
}

/**
 * TypeScript (tslab) assignment of a parameter. tslab lets a later cell redeclare a `let` or `const` of an
 * earlier cell, and a plain assignment `quick = true;` would be a cell's last expression (printed as a
 * result) and fail to compile against a `const`. So the injected cell redeclares each parameter with the
 * keyword and type annotation of its declaration in the parameters cell (`let budget: Budget = "full"`
 * → `let budget: Budget = "quick";`), or `const` when the parameters cell does not declare it.
 */
function typescriptLine(name: string, value: ParameterValue, parametersSource: string): string {
  const declaration = new RegExp(
    `(?:^|[\\s;{])(let|const|var)\\s+${name.replace(/\$/g, "\\$")}\\s*(:[^=;]+?)?\\s*=`,
    "m",
  );
  const match = declaration.exec(parametersSource);
  const keyword = match?.[1] ?? "const";
  const annotation = match?.[2] ? match[2].trim() : "";
  return `${keyword} ${name}${annotation} = ${JSON.stringify(value)};`;
}

const TRANSLATORS: Record<
  string,
  { comment: string; line: (name: string, value: ParameterValue, params: string) => string }
> = {
  typescript: { comment: "//", line: typescriptLine },
  javascript: { comment: "//", line: typescriptLine },
  python: { comment: "#", line: (name, value) => `${name} = ${pythonLiteral(value)}` },
};

/**
 * Returns a copy of `nb` with a cell tagged "injected-parameters" assigning `params`, inserted right after
 * the cell tagged "parameters" (at the top when there is none); an earlier injected cell is replaced.
 * `language` defaults to the notebook's kernel language (typescript, javascript or python). With no
 * params the copy is unchanged.
 */
export function injectParameters(
  nb: Notebook,
  params: Record<string, ParameterValue>,
  language: string = notebookLanguage(nb),
): Notebook {
  const copy = structuredClone(nb);
  const names = Object.keys(params);
  if (names.length === 0) return copy;
  const translator = TRANSLATORS[language.toLowerCase()];
  if (!translator) {
    throw new Error(
      `injectParameters(language): cannot write parameters for language "${language}"; ` +
        `expected one of ${Object.keys(TRANSLATORS).join(", ")}`,
    );
  }
  for (const name of names) {
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
      throw new Error(`injectParameters(params): "${name}" is not a valid variable name`);
    }
    checkValue(name, params[name]);
  }
  copy.cells = copy.cells.filter((cell) => !hasTag(cell, INJECTED_PARAMETERS_TAG));
  const at = copy.cells.findIndex((cell) => hasTag(cell, PARAMETERS_TAG));
  const parametersSource = at >= 0 ? copy.cells[at].source : "";
  const lines = names.map((name) => translator.line(name, params[name], parametersSource));
  const cell: CodeCell = {
    cell_type: "code",
    metadata: { tags: [INJECTED_PARAMETERS_TAG] },
    source: [`${translator.comment} Injected parameters`, ...lines].join("\n"),
    outputs: [],
    execution_count: null,
  };
  if (copy.nbformat_minor >= 5) cell.id = randomUUID();
  copy.cells.splice(at + 1, 0, cell);
  return copy;
}
