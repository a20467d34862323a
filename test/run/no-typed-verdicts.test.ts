// Issue 19: no notebook types a verdict. Every claim row's verdict comes from the rule in lib/verdict.ts
// (comparePaired, checkRange, holds, byConstruction, outOfReach, unlessQuick), applied to values measured in the run.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VERDICTS } from "../../lib/verdict";
import { listNotebooks } from "../../lib/run/runner";
import { notebookCode, repoRoot } from "../helpers/notebook-source";

/** Every verdict written as a string literal ("…", '…' or `…`) in `src`. */
function typedVerdicts(src: string): string[] {
  const found: string[] = [];
  for (const v of VERDICTS) {
    for (const q of ['"', "'", "`"]) if (src.includes(`${q}${v}${q}`)) found.push(`${q}${v}${q}`);
  }
  return found;
}

describe("no notebook types a verdict literal", () => {
  it("the scan finds each quoting style", () => {
    expect(typedVerdicts(`x ? "reproduced" : 'partly'; \`within noise\``)).toEqual([
      '"reproduced"',
      "'partly'",
      "`within noise`",
    ]);
    expect(typedVerdicts(`verdict: lab.checkRange(r, { min: 2 })`)).toEqual([]);
  });

  for (const name of listNotebooks(join(repoRoot, "notebooks"))) {
    it(`${name}: verdicts come from lab's rule`, () => {
      expect(typedVerdicts(notebookCode(name))).toEqual([]);
    });
  }
});
