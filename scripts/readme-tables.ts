// `npm run readme-tables [-- --check]`: rewrites the README's generated blocks (reference run summary, where the time
// goes, every claim row) from results/reference. --check only compares. Reference: issue 19 items 5 and 6.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readmeBlocks, replaceBlocks } from "../lib/run/readme-tables";
import { readResultsFolder } from "../lib/run/run-record";
import { listNotebooks } from "../lib/run/runner";
import { repoRoot } from "../lib/repo-root";

const ROOT = repoRoot();

function main(): number {
  const { values } = parseArgs({ options: { check: { type: "boolean" } } });
  const dir = join(ROOT, "results", "reference");
  const folder = existsSync(dir) ? readResultsFolder(dir) : null;
  const path = join(ROOT, "README.md");
  const readme = readFileSync(path, "utf8");
  const text = replaceBlocks(readme, readmeBlocks(folder, listNotebooks(join(ROOT, "notebooks"))));
  if (values.check) {
    console.error(
      text === readme
        ? "README.md agrees with results/reference"
        : "README.md is out of date: run npm run readme-tables",
    );
    return text === readme ? 0 : 1;
  }
  writeFileSync(path, text);
  console.log(
    `README.md: generated blocks ${folder ? "from results/reference" : "say no reference run is committed yet"}`,
  );
  return 0;
}

try {
  process.exit(main());
} catch (e) {
  console.error(`readme-tables: ${(e as Error).message}`);
  process.exit(2);
}
