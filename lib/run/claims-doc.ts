// docs/claims.md, generated: every claim, table and code snippet of the five source articles (the hand-kept map
// docs/claims-map.json) joined with the claim rows a run measured (a results folder), plus the verdict rule.
// Reference: issue 19 item 4 ("no claim left out"); lib/verdict.ts (the rule); lib/run/run-record.ts (the folder).
import { formatMeasured, type ClaimRow } from "../claims";
import { VERDICTS, type Verdict } from "../verdict";
import type { NotebookResults } from "./results";
import { formatDuration, type ResultsFolder } from "./run-record";

/** One source article. */
export interface MappedArticle {
  /** Short id used by the items ("000/002", "001", ...). */
  id: string;
  /** The article's title as published (how the project cites it). */
  title: string;
  /** Its files in the shared articles folder. */
  files: string[];
  /** What to know about it (duplicates, missing title). */
  note?: string;
}

/** A notebook row that tests an item: the notebook and a piece of the row's claim text. */
export interface RowRef {
  notebook: string;
  /** Text the row's `claim` contains (case- and whitespace-insensitive). */
  claim: string;
}

/** What an item of an article is. */
export const ITEM_KINDS = ["claim", "table", "code", "figure"] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** One claim, table, code snippet or figure of an article. */
export interface MappedItem {
  article: string;
  /** Section heading as in the article ("1.2 动态MoE架构实现"). */
  section: string;
  kind: ItemKind;
  /** What the article says or shows, in a few words. */
  what: string;
  /** The rows that test it (empty or absent: none). */
  tests?: RowRef[];
  /** Why it (or the part no row tests) cannot be tested here; required when no row tests it. */
  reason?: string;
}

/** docs/claims-map.json. */
export interface ClaimsMap {
  articles: MappedArticle[];
  items: MappedItem[];
}

const MAP_KEYS = ["$comment", "articles", "items"];
const ARTICLE_KEYS = ["id", "title", "files", "note"];
const ITEM_KEYS = ["article", "section", "kind", "what", "tests", "reason"];

function checkKeys(at: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${at}: expected an object`);
  const unknown = Object.keys(value).filter((k) => !keys.includes(k));
  if (unknown.length) throw new Error(`${at}: unknown field(s) ${unknown.join(", ")}; expected ${keys.join(", ")}`);
  return value as Record<string, unknown>;
}

function text(at: string, value: unknown, optional = false): void {
  if (optional && value === undefined) return;
  if (typeof value !== "string" || value.trim() === "") throw new Error(`${at}: expected a non-empty string`);
}

/**
 * Checks a parsed claims map: known fields only, every item of a listed article, a known kind, and tested by a row
 * or given a reason. `notebooks` (the manifest) restricts which notebooks a row may name. Errors name the entry.
 */
export function validateClaimsMap(value: unknown, notebooks: readonly string[], fn = "claims map"): ClaimsMap {
  const map = checkKeys(fn, value, MAP_KEYS);
  if (!Array.isArray(map.articles) || map.articles.length === 0) throw new Error(`${fn}.articles: expected a list`);
  if (!Array.isArray(map.items) || map.items.length === 0) throw new Error(`${fn}.items: expected a list`);
  const ids: string[] = [];
  map.articles.forEach((a: unknown, i) => {
    const at = `${fn}.articles[${i}]`;
    const art = checkKeys(at, a, ARTICLE_KEYS);
    text(`${at}.id`, art.id);
    text(`${at}.title`, art.title);
    text(`${at}.note`, art.note, true);
    if (!Array.isArray(art.files) || art.files.length === 0 || !art.files.every((f) => typeof f === "string"))
      throw new Error(`${at}.files: expected a non-empty list of file names`);
    if (ids.includes(art.id as string)) throw new Error(`${at}.id: "${String(art.id)}" is listed twice`);
    ids.push(art.id as string);
  });
  map.items.forEach((it: unknown, i) => {
    const at = `${fn}.items[${i}]`;
    const item = checkKeys(at, it, ITEM_KEYS);
    if (!ids.includes(item.article as string))
      throw new Error(`${at}.article: "${String(item.article)}" is not one of ${ids.join(", ")}`);
    text(`${at}.section`, item.section);
    text(`${at}.what`, item.what);
    text(`${at}.reason`, item.reason, true);
    if (!ITEM_KINDS.includes(item.kind as ItemKind))
      throw new Error(`${at}.kind: "${String(item.kind)}" is not one of ${ITEM_KINDS.join(", ")}`);
    const tests = item.tests ?? [];
    if (!Array.isArray(tests)) throw new Error(`${at}.tests: expected a list of { notebook, claim }`);
    tests.forEach((t: unknown, j) => {
      const ref = checkKeys(`${at}.tests[${j}]`, t, ["notebook", "claim"]);
      text(`${at}.tests[${j}].claim`, ref.claim);
      if (!notebooks.includes(ref.notebook as string))
        throw new Error(`${at}.tests[${j}].notebook: "${String(ref.notebook)}" is not a notebook of the manifest`);
    });
    if (tests.length === 0 && item.reason === undefined)
      throw new Error(`${at}: "${String(item.what)}" needs the rows that test it (tests) or why it cannot be (reason)`);
  });
  const items = map.items as MappedItem[];
  const unused = ids.filter((id) => !items.some((it) => it.article === id));
  if (unused.length) throw new Error(`${fn}: article(s) ${unused.join(", ")} have no items`);
  return map as unknown as ClaimsMap;
}

const squash = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();

/** The rows of `results` whose claim contains the ref's text (case- and whitespace-insensitive). */
export function matchRows(ref: RowRef, results: NotebookResults | undefined): ClaimRow[] {
  const wanted = squash(ref.claim);
  return (results?.claims ?? []).filter((row) => squash(row.claim).includes(wanted));
}

/** Markdown table cell: no pipes or line breaks. */
function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** How a verdict is decided: the rule of lib/verdict.ts, in words. */
export const VERDICT_RULE = `## How a verdict is decided

Every claim row's verdict comes from one rule, \`lib/verdict.ts\` (on \`lab\`), applied to values measured in that run;
notebooks never type a verdict (\`test/run/no-typed-verdicts.test.ts\` fails if one does), and every rule can come
out negative.

| the measurement | function | verdict |
|---|---|---|
| two arms over the same seeds (or timings paired by repeat), claim "a is lower/higher than b" by at least \`margin\` | \`lab.comparePaired(a, b, "lower" \\| "higher", margin)\` | 95% Student-t interval of the paired difference a − b: entirely on the claimed side beyond the margin → **reproduced**; entirely on the other side → **not reproduced**; otherwise → **within noise**; one seed → **not measured** |
| one deterministic value (a formula, a size, a ratio of medians) | \`lab.checkRange(x, claimed, partly?)\`, often with \`lab.near(target, rel)\` | in the claimed range → **reproduced**; only in the wider partly range → **partly**; else (or not finite) → **not reproduced** |
| a size claim measured over seeds ("costs ~0.3 points"), as a 95% interval (comparePaired's \`ci95\`) | \`lab.checkInterval(ci95, claimed, partly?)\` | interval inside the claimed range → **reproduced**; straddling an end of it → **within noise**; outside it and inside the partly range → **partly**; else **not reproduced**; one seed → **not measured** |
| a measured yes/no (a task solved, a plan fits, outputs identical) | \`lab.holds(cond, partlyCond?)\` | cond → **reproduced**; else partlyCond → **partly**; else **not reproduced** |
| an identity the code guarantees (Σ gate weights = route scale, NMI ∈ [0, 1]) | \`lab.byConstruction(ok)\` | **by construction** (shown, never counted as evidence); **not reproduced** if it fails |
| reported data this machine cannot measure (closed-model scores, cluster wall clocks) | \`lab.outOfReach(reason)\` | **not measured**, the reason in the row's note |
| any full-budget verdict in a quick run | \`lab.unlessQuick(quick, v)\` | **not measured** in quick mode (a smoke test decides nothing) |
`;

/** Where the rows came from, for the header. */
function provenance(folder: ResultsFolder | null, folderLabel: string): string {
  if (folder === null)
    return `No results folder was given (\`${folderLabel}\` does not exist yet), so no row is measured below: run \`npm run reproduce -- --out results/reference\`, then \`npm run claims-doc\`.`;
  const run = folder.run;
  if (run === null) return `Rows from \`${folderLabel}\` (no run.json: machine and commit unknown).`;
  const quick = run.params.quick === true ? ' **in quick mode** (every full-budget verdict is "not measured")' : "";
  return (
    `Rows from \`${folderLabel}\`: the run of ${run.started.slice(0, 10)}${quick}, commit \`${run.commit.hash.slice(0, 12)}\`` +
    `${run.commit.dirty ? " with uncommitted changes" : ""}, ${run.machine.cpu} (${run.machine.cores} cores), ` +
    `${formatDuration(run.wallSeconds)} in all.`
  );
}

/** The text for one row ref in the article tables. */
function refText(ref: RowRef, folder: ResultsFolder | null): string {
  const results = folder?.results.get(ref.notebook);
  const rows = matchRows(ref, results);
  if (folder === null) return `\`${ref.notebook}\` › “${ref.claim}”`;
  if (!results) return `\`${ref.notebook}\` › “${ref.claim}” — **notebook not in this run**`;
  if (rows.length === 0) return `\`${ref.notebook}\` › “${ref.claim}” — **no such row in this run**`;
  return rows
    .map((row) => `\`${ref.notebook}\` › ${row.claim}: ${formatMeasured(row.measured)} → **${row.verdict}**`)
    .join("<br>");
}

/** A ref that matches no row of its notebook's results. */
export interface UnmatchedRef {
  item: MappedItem;
  ref: RowRef;
  why: "notebook not in this run" | "no such row in this run";
}

/** Refs of the map that match no row in the folder (empty without a folder). */
export function unmatchedRefs(map: ClaimsMap, folder: ResultsFolder | null): UnmatchedRef[] {
  if (folder === null) return [];
  return map.items.flatMap((item) =>
    (item.tests ?? []).flatMap((ref): UnmatchedRef[] => {
      const results = folder.results.get(ref.notebook);
      if (!results) return [{ item, ref, why: "notebook not in this run" }];
      return matchRows(ref, results).length ? [] : [{ item, ref, why: "no such row in this run" }];
    }),
  );
}

/**
 * docs/claims.md: the verdict rule, the articles, every item article by article (the rows testing it with their
 * verdicts, or why it cannot be tested here), every notebook row with the items it answers, and the refs that
 * match no row. `folder` null: the map alone (no run yet); `folderLabel` names the folder in the text.
 */
export function renderClaimsDoc(
  map: ClaimsMap,
  notebooks: readonly string[],
  folder: ResultsFolder | null,
  folderLabel: string,
): string {
  const out: string[] = [
    `# Claims: every article claim and the notebook row that tests it`,
    ``,
    `<!-- Generated by \`npm run claims-doc\` from docs/claims-map.json and a results folder: do not edit by hand. -->`,
    ``,
    `The lab tests the five source articles (Chinese, in \`/work/shared/articles/\`, cited here by title). This page`,
    `lists every claim, table, code snippet and figure of each, section by section, with the notebook row that tests it`,
    `or the reason it cannot be tested on this machine; then every row the notebooks measured. The hand-kept part is`,
    `\`docs/claims-map.json\`; the rows, measurements and verdicts come from the run.`,
    ``,
    provenance(folder, folderLabel),
    ``,
    VERDICT_RULE,
  ];
  const tested = map.items.filter((it) => (it.tests ?? []).length > 0).length;
  const both = map.items.filter((it) => (it.tests ?? []).length > 0 && it.reason).length;
  out.push(
    `## The articles`,
    ``,
    `${map.items.length} items: ${tested} tested by a notebook row (${both} of them only in part, with the reason for the rest), ` +
      `${map.items.length - tested} not testable here, each with its reason.`,
    ``,
    `| id | title | files | items |`,
    `|---|---|---|--:|`,
    ...map.articles.map(
      (a) =>
        `| ${a.id} | ${cell(a.title)}${a.note ? ` (${cell(a.note)})` : ""} | ${a.files.map((f) => `\`${f}\``).join(", ")} | ${map.items.filter((it) => it.article === a.id).length} |`,
    ),
    ``,
  );
  for (const a of map.articles) {
    out.push(
      `### ${a.id}: ${a.title}`,
      ``,
      `| section | kind | what the article says | tested by (row: measured → verdict) | why not (or not fully) testable here |`,
      `|---|---|---|---|---|`,
    );
    for (const it of map.items.filter((x) => x.article === a.id)) {
      const tests = (it.tests ?? []).map((ref) => refText(ref, folder)).join("<br>") || "—";
      out.push(`| ${cell(it.section)} | ${it.kind} | ${cell(it.what)} | ${cell(tests)} | ${cell(it.reason ?? "")} |`);
    }
    out.push(``);
  }
  out.push(`## Every notebook row`, ``);
  if (folder === null) out.push(`No run yet.`, ``);
  else {
    for (const name of notebooks) {
      const r = folder.results.get(name);
      out.push(`### ${name}`, ``);
      if (!r) {
        out.push(`Not in this run.`, ``);
        continue;
      }
      const counts = VERDICTS.map((v) => [v, r.claims.filter((c) => c.verdict === v).length] as [Verdict, number])
        .filter(([, n]) => n > 0)
        .map(([v, n]) => `${n} ${v}`);
      out.push(
        `${r.status === "ok" ? "ran" : "**failed**"} in ${formatDuration(r.wallSeconds)}; ${r.claims.length} rows${counts.length ? `: ${counts.join(", ")}` : ""}.`,
        ``,
      );
      if (r.claims.length === 0) continue;
      out.push(
        `| claim | source | expected | measured | verdict | article items | note |`,
        `|---|---|---|---|---|---|---|`,
      );
      for (const row of r.claims) {
        const items = map.items
          .filter((it) => (it.tests ?? []).some((ref) => ref.notebook === name && matchRows(ref, r).includes(row)))
          .map((it) => `${it.article} §${it.section.split(" ")[0]}`);
        out.push(
          `| ${cell(row.claim)} | ${cell(row.source ?? "")} | ${cell(row.expected ?? "")} | ${cell(formatMeasured(row.measured))} | ` +
            `${row.verdict} | ${cell([...new Set(items)].join(", ") || "— (not from the articles)")} | ${cell(row.note ?? "")} |`,
        );
      }
      out.push(``);
    }
    const unmatched = unmatchedRefs(map, folder);
    out.push(`## Map entries that match no row`, ``);
    out.push(
      unmatched.length === 0
        ? `None: every row the map names was measured in this run.`
        : `${unmatched.length} (a notebook changed its claim text, failed or was not run; fix docs/claims-map.json or the run):`,
    );
    for (const u of unmatched)
      out.push(`- ${u.item.article} §${u.item.section}: \`${u.ref.notebook}\` › “${u.ref.claim}” — ${u.why}`);
    out.push(``);
  }
  return out.join("\n");
}
