// Every notebook awaits what it displays: under Deno's kernel (and any asynchronous display host) an output sent
// without await can arrive after its cell ends and be lost or filed under the next cell (issue 21).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listNotebooks } from "../../lib/run/runner";
import { notebookCode, repoRoot } from "../helpers/notebook-source";

/** Calls of lab.show / claims / record / recordEnvironment not preceded by `await`. */
function unawaited(src: string): string[] {
  return [...src.matchAll(/(?<!await )\blab\.(show|claims|record|recordEnvironment)\(/g)].map((m) => m[0]);
}

describe("notebooks await their outputs", () => {
  it("the scan finds an unawaited call and passes an awaited one", () => {
    expect(unawaited("lab.show(fig);\nawait lab.claims(rows);")).toEqual(["lab.show("]);
    expect(unawaited("await lab.show(fig);")).toEqual([]);
  });

  for (const name of listNotebooks(join(repoRoot, "notebooks"))) {
    it(`${name}: every lab.show / claims / record is awaited`, () => {
      expect(unawaited(notebookCode(name))).toEqual([]);
    });
  }
});
