// The README's generated blocks: built from a fixture reference run (where the time goes, every claim row), refused
// for a run that is not one full run, and the committed README agreeing with results/reference (or saying none is
// committed yet).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  NO_REFERENCE,
  README_BLOCKS,
  checkReferenceRun,
  markers,
  readmeBlocks,
  replaceBlocks,
} from "../../lib/run/readme-tables";
import { formatDuration, readResultsFolder } from "../../lib/run/run-record";
import { listNotebooks } from "../../lib/run/runner";
import { FIXTURE_NOTEBOOKS, writeFixtureRun } from "./fixture-run";

const ROOT = join(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "moelab-readme-tables-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fixture(name: string, overrides: Parameters<typeof writeFixtureRun>[1] = {}) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFixtureRun(dir, overrides);
  return readResultsFolder(dir);
}

describe("readmeBlocks on a fixture reference run", () => {
  const blocks = readmeBlocks(fixture("full"), FIXTURE_NOTEBOOKS);

  it("states machine, commit, date and total wall time", () => {
    expect(blocks["reference-run-summary"]).toBe(
      "The committed reference run ([`results/reference/`](results/reference/index.html), commit `0123456789ab`, " +
        "2026-12-06): `npm run reproduce` ran the 2 notebooks in **2 min 05 s** on Test CPU 9000 (2 cores, 7.8 GiB, " +
        "Debian GNU/Linux 12 (bookworm), Node v20.0.0); every notebook ran to the end.",
    );
  });

  it("lists where the time goes, slowest notebook first, with its slowest cell and verdict counts", () => {
    expect(blocks["reference-run-time"].split("\n")).toEqual([
      "| notebook | wall time | share | outside cells | slowest cell | reproduced | not reproduced | by construction |",
      "|---|--:|--:|--:|---|--:|--:|--:|",
      "| `beta` | 1 min 30 s | 75.0% | 0.0 s | cell 0: 1 min 20 s (88.9%) | 0 | 1 | 0 |",
      "| `alpha` | 30.0 s | 25.0% | 2.0 s | cell 1: 25.0 s (83.3%) | 1 | 0 | 1 |",
      "| all notebooks (the whole run: 2 min 05 s) | 2 min 00 s | 100% | | | 1 | 1 | 1 |",
    ]);
  });

  it("lists every claim row with its measurement and verdict, pipes escaped", () => {
    const claims = blocks["reference-run-claims"];
    expect(claims).toContain("| `alpha` | MoE beats dense at equal active parameters | 1.503 | reproduced |");
    expect(claims).toContain("| `beta` | INT8 inference is 2–3× faster | 0.99× | not reproduced |");
    expect(claims).toContain("Every claim row of the reference run (3)");
  });

  it("refuses a run that is not one full run of every notebook", () => {
    const quick = fixture("quick", { params: { quick: true } });
    expect(() => checkReferenceRun(quick, FIXTURE_NOTEBOOKS)).toThrow(/a quick run/);
    const only = fixture("only", { only: ["alpha"] });
    expect(() => readmeBlocks(only, FIXTURE_NOTEBOOKS)).toThrow(/ran only alpha/);
    expect(() => checkReferenceRun(fixture("short"), [...FIXTURE_NOTEBOOKS, "gamma"])).toThrow(/lacks gamma/);
    const stale = fixture("stale", { notebooks: [{ name: "alpha", status: "ok", wallSeconds: 30 }] });
    expect(() => checkReferenceRun(stale, ["alpha"])).toThrow(/beta did not run in it \(left from an earlier run\)/);
    const noRecord = fixture("norecord");
    rmSync(join(noRecord.dir, "run.json"));
    expect(() => checkReferenceRun(readResultsFolder(noRecord.dir), FIXTURE_NOTEBOOKS)).toThrow(/no run\.json/);
  });
});

describe("replaceBlocks", () => {
  const page = ["# Title", ...README_BLOCKS.flatMap((b) => [...markers(b), ""])].join("\n");
  it("fills each block between its markers and is idempotent", () => {
    const blocks = readmeBlocks(null, FIXTURE_NOTEBOOKS);
    const once = replaceBlocks(page, blocks);
    expect(once).toContain(`${markers("reference-run-time")[0]}\n${NO_REFERENCE}\n${markers("reference-run-time")[1]}`);
    expect(replaceBlocks(once, blocks)).toBe(once);
  });
  it("refuses a page without a block's markers, or with them twice", () => {
    const blocks = readmeBlocks(null, FIXTURE_NOTEBOOKS);
    expect(() => replaceBlocks("# no markers", blocks)).toThrow(/expected the markers of "reference-run-summary" once/);
    expect(() => replaceBlocks(page + markers("reference-run-claims").join("\n"), blocks)).toThrow(
      /reference-run-claims/,
    );
  });
});

describe("the committed README", () => {
  it("agrees with results/reference (or says no reference run is committed yet)", () => {
    const dir = join(ROOT, "results", "reference");
    const folder = existsSync(dir) ? readResultsFolder(dir) : null;
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toBe(replaceBlocks(readme, readmeBlocks(folder, listNotebooks(join(ROOT, "notebooks")))));
  });
});

describe("formatDuration", () => {
  it("reads seconds, minutes and hours", () => {
    expect([0, 42.04, 60, 125.4, 3599.6, 5400].map(formatDuration)).toEqual([
      "0.0 s",
      "42.0 s",
      "1 min 00 s",
      "2 min 05 s",
      "1 h 00 min",
      "1 h 30 min",
    ]);
    expect(() => formatDuration(-1)).toThrow(/expected a finite number ≥ 0, got -1/);
  });
});

describe("readResultsFolder", () => {
  it("reads run.json and each notebook's results, and names a file it cannot use", () => {
    const folder = fixture("read");
    expect([...folder.results.keys()]).toEqual(["alpha", "beta"]);
    expect(folder.run?.machine.cpu).toBe("Test CPU 9000");
    writeFileSync(join(folder.dir, "broken.json"), "{");
    expect(() => readResultsFolder(folder.dir)).toThrow(/broken\.json is not valid JSON/);
    writeFileSync(join(folder.dir, "broken.json"), '{"bench": 1}');
    expect(() => readResultsFolder(folder.dir)).toThrow(/broken\.json is not a notebook's results/);
    expect(() => readResultsFolder(join(work, "missing"))).toThrow(/does not exist; run npm run reproduce first/);
  });
});
