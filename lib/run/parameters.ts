// The parameters a notebook declares in its "parameters" cell, and the check of runner overrides against them:
// unknown names are refused (listing the valid ones) and values must have the type of the default.
// Reference: papermill's parameters cell (https://papermill.readthedocs.io/en/latest/usage-parameterize.html).
import { PARAMETERS_TAG, notebookLanguage, type Notebook, type ParameterValue } from "./notebook";

/** The type of a parameter, inferred from its default (or its TypeScript annotation); "other": not checked here. */
export type ParameterKind = "boolean" | "number" | "string" | "other";

/** One declared parameter. */
export interface DeclaredParameter {
  name: string;
  kind: ParameterKind;
  /** The default as written in the parameters cell. */
  source: string;
}

/** An override that does not fit the notebook: an unknown name or a value of another type. */
export class ParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParameterError";
  }
}

/** `let|const|var name(: Type)? = default` (TypeScript) at the start of a line, up to `;` or a `//` comment. */
const TS_DECLARATION =
  /^\s*(?:export\s+)?(?:let|const|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*([^=]+?))?\s*=\s*(.+?)\s*;?\s*(?:\/\/.*)?$/;
/** `name(: type)? = default` (Python) at the start of a line, up to a `#` comment. */
const PY_DECLARATION = /^([A-Za-z_]\w*)\s*(?::\s*([^=]+?))?\s*=\s*(.+?)\s*(?:#.*)?$/;
const NUMBER = /^-?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const STRING = /^(["'`]).*\1$/;

function kindOf(defaultSource: string, annotation: string | undefined): ParameterKind {
  if (/^(true|false|True|False)$/.test(defaultSource)) return "boolean";
  if (NUMBER.test(defaultSource)) return "number";
  if (STRING.test(defaultSource)) return "string";
  const declared = annotation?.trim();
  return declared === "boolean" || declared === "bool"
    ? "boolean"
    : declared === "number" || declared === "int" || declared === "float"
      ? "number"
      : declared === "string" || declared === "str"
        ? "string"
        : "other";
}

/** The parameters declared in `nb`'s cell tagged "parameters" (none without such a cell), in order. */
export function declaredParameters(nb: Notebook): DeclaredParameter[] {
  const cell = nb.cells.find((c) => Array.isArray(c.metadata.tags) && c.metadata.tags.includes(PARAMETERS_TAG));
  if (!cell) return [];
  const pattern = notebookLanguage(nb) === "python" ? PY_DECLARATION : TS_DECLARATION;
  const declared: DeclaredParameter[] = [];
  for (const line of cell.source.split(/\r?\n/)) {
    const m = pattern.exec(line);
    if (m && !declared.some((d) => d.name === m[1]))
      declared.push({ name: m[1], kind: kindOf(m[3], m[2]), source: m[3] });
  }
  return declared;
}

/**
 * `params` checked against `nb`'s parameters cell (`notebook` names it in errors) and returned with booleans
 * normalised: a boolean parameter takes true/false or the texts "true", "false", "True", "False" (Python's spelling,
 * as papermill users write it); a number parameter a finite number; a string parameter a string; a parameter whose
 * default is an expression or another type ("other") any value, which its declaration's type then checks in the
 * kernel. Throws ParameterError for an unknown name (listing the declared ones) or a value of the wrong type.
 */
export function checkParameters(
  nb: Notebook,
  params: Record<string, ParameterValue>,
  notebook: string,
): Record<string, ParameterValue> {
  const declared = declaredParameters(nb);
  const checked: Record<string, ParameterValue> = {};
  for (const [name, value] of Object.entries(params)) {
    const parameter = declared.find((d) => d.name === name);
    if (!parameter) {
      const valid = declared.length
        ? declared.map((d) => `${d.name} (${d.kind === "other" ? d.source : d.kind})`).join(", ")
        : 'none: it has no cell tagged "parameters"';
      throw new ParameterError(`-p ${name}: ${notebook} has no parameter "${name}"; its parameters: ${valid}`);
    }
    const wrong = (expected: string) =>
      new ParameterError(
        `-p ${name}=${JSON.stringify(value)}: parameter "${name}" of ${notebook} is a ${parameter.kind} (default ${parameter.source}); expected ${expected}`,
      );
    switch (parameter.kind) {
      case "boolean":
        if (typeof value === "boolean") checked[name] = value;
        else if (typeof value === "string" && /^(true|false|True|False)$/.test(value))
          checked[name] = value.toLowerCase() === "true";
        else throw wrong("true or false (True and False are accepted too)");
        break;
      case "number":
        if (typeof value !== "number" || !Number.isFinite(value)) throw wrong("a finite number");
        checked[name] = value;
        break;
      case "string":
        if (typeof value !== "string")
          throw wrong(`a string (quote a text that looks like a number: -p '${name}="${String(value)}"')`);
        checked[name] = value;
        break;
      default:
        checked[name] = value;
    }
  }
  return checked;
}
