// `npm run claims-doc [-- --results DIR] [--check]`: writes docs/claims.md from docs/claims-map.json and a results
// folder (default results/reference; without one, the map alone). --check only compares. Reference: issue 19 item 4.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderClaimsDoc, validateClaimsMap } from "../lib/run/claims-doc";
import { readResultsFolder } from "../lib/run/run-record";
import { listNotebooks } from "../lib/run/runner";
import { repoRoot } from "../lib/repo-root";

const ROOT = repoRoot();
const USAGE = `usage: npm run claims-doc -- [--results DIR] [--check]
  --results DIR   the run whose claim rows fill the page (default results/reference; absent: the map alone)
  --check         do not write: exit 1 when docs/claims.md differs from what would be written`;

function main(): number {
  const { values } = parseArgs({
    options: { results: { type: "string" }, check: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dir = resolve(values.results ?? join(ROOT, "results", "reference"));
  if (values.results && !existsSync(dir)) throw new Error(`--results ${values.results}: no such folder`);
  const notebooks = listNotebooks(join(ROOT, "notebooks"));
  const mapPath = join(ROOT, "docs", "claims-map.json");
  const map = validateClaimsMap(JSON.parse(readFileSync(mapPath, "utf8")), notebooks, "docs/claims-map.json");
  const folder = existsSync(dir) ? readResultsFolder(dir) : null;
  const text = renderClaimsDoc(map, notebooks, folder, relative(ROOT, dir) || ".");
  const out = join(ROOT, "docs", "claims.md");
  if (values.check) {
    const same = existsSync(out) && readFileSync(out, "utf8") === text;
    console.error(same ? "docs/claims.md is up to date" : "docs/claims.md is out of date: run npm run claims-doc");
    return same ? 0 : 1;
  }
  writeFileSync(out, text);
  console.log(
    `wrote ${relative(ROOT, out)} (${map.items.length} article items${folder ? `, rows from ${relative(ROOT, dir)}` : ", no run"})`,
  );
  return 0;
}

try {
  process.exit(main());
} catch (e) {
  console.error(`claims-doc: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
