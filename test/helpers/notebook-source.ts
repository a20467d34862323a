// The code cells of a repository notebook as one string, for tests that check what notebooks are allowed to write.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const repoRoot = join(__dirname, "..", "..");

/** The code cells' source of notebooks/<name>.ipynb, joined by newlines. */
export function notebookCode(name: string): string {
  const nb = JSON.parse(readFileSync(join(repoRoot, "notebooks", `${name}.ipynb`), "utf8")) as {
    cells: { cell_type: string; source: string | string[] }[];
  };
  return nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source))
    .join("\n");
}
