// The repository root, found in one place from where this file sits: lib/repo-root.ts (ts-node, vitest, Deno) or
// dist/lib/repo-root.js (compiled, tsconfig outDir "dist"). Whatever reads the repository's own files (datasets/,
// notebooks/, native/, scripts/) builds its path from here.
import * as path from "node:path";

/** The repository root: the folder holding package.json, lib/, datasets/ and native/. */
export function repoRoot(): string {
  const parent = path.dirname(path.dirname(__filename)); // the root, or dist/ when compiled
  return path.basename(parent) === "dist" ? path.dirname(parent) : parent;
}
