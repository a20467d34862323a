// docs/claims.md: the hand-kept article map is checked, joined with a small fixture run, and the committed page is the
// generator's output for the committed reference run (or for none, before one is committed).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { matchRows, renderClaimsDoc, unmatchedRefs, validateClaimsMap, type ClaimsMap } from "../../lib/run/claims-doc";
import { readResultsFolder } from "../../lib/run/run-record";
import { listNotebooks } from "../../lib/run/runner";
import { FIXTURE_NOTEBOOKS, writeFixtureRun } from "./fixture-run";

const ROOT = join(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "moelab-claims-doc-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const map: ClaimsMap = {
  articles: [{ id: "A", title: "文章一", files: ["a.txt"] }],
  items: [
    {
      article: "A",
      section: "1.2 MoE",
      kind: "claim",
      what: "MoE wins",
      tests: [{ notebook: "alpha", claim: "moe BEATS  dense" }],
    },
    {
      article: "A",
      section: "3.1 速度",
      kind: "table",
      what: "INT8 2–3×",
      tests: [{ notebook: "beta", claim: "INT8" }],
      reason: "GPU rows: reported data",
    },
    { article: "A", section: "3.2 雷达", kind: "figure", what: "radar scores", reason: "closed-model scores" },
    {
      article: "A",
      section: "4 gone",
      kind: "claim",
      what: "a renamed row",
      tests: [{ notebook: "beta", claim: "no such claim" }],
    },
  ],
};

describe("validateClaimsMap", () => {
  const bad = (patch: (m: ClaimsMap) => void) => {
    const m = JSON.parse(JSON.stringify(map)) as ClaimsMap;
    patch(m);
    return () => validateClaimsMap(m, FIXTURE_NOTEBOOKS);
  };
  it("accepts the fixture map and names the entry at fault otherwise", () => {
    expect(validateClaimsMap(map, FIXTURE_NOTEBOOKS).items).toHaveLength(4);
    expect(bad((m) => delete m.items[2].reason)).toThrow(
      /items\[2\]: "radar scores" needs the rows that test it \(tests\) or why/,
    );
    expect(bad((m) => (m.items[0].article = "Z"))).toThrow(/items\[0\]\.article: "Z" is not one of A/);
    expect(bad((m) => (m.items[0].tests![0].notebook = "gamma"))).toThrow(
      /tests\[0\]\.notebook: "gamma" is not a notebook/,
    );
    expect(bad((m) => ((m.items[1] as unknown as Record<string, string>).verdict = "reproduced"))).toThrow(
      /unknown field\(s\) verdict/,
    );
    expect(bad((m) => ((m.items[1] as unknown as Record<string, string>).kind = "quote"))).toThrow(
      /kind: "quote" is not one of/,
    );
    expect(bad((m) => m.articles.push({ id: "B", title: "二", files: ["b.txt"] }))).toThrow(
      /article\(s\) B have no items/,
    );
  });
});

describe("renderClaimsDoc on a fixture run", () => {
  const dir = join(work, "run");
  mkdirSync(dir);
  writeFixtureRun(dir);
  const folder = readResultsFolder(dir);
  const doc = renderClaimsDoc(map, FIXTURE_NOTEBOOKS, folder, "fixture");

  it("matches rows by claim text, case- and whitespace-insensitive", () => {
    expect(matchRows(map.items[0].tests![0], folder.results.get("alpha")).map((r) => r.claim)).toEqual([
      "MoE beats dense at equal active parameters",
    ]);
  });

  it("shows each item with its rows' measurements and verdicts, or its reason", () => {
    expect(doc).toContain(
      "| 1.2 MoE | claim | MoE wins | `alpha` › MoE beats dense at equal active parameters: 1.503 → **reproduced** |  |",
    );
    expect(doc).toContain(
      "`beta` › INT8 inference is 2–3× faster: 0.99× → **not reproduced** | GPU rows: reported data |",
    );
    expect(doc).toContain("| 3.2 雷达 | figure | radar scores | — | closed-model scores |");
    expect(doc).toContain("### A: 文章一");
    expect(doc).toContain("4 items: 3 tested by a notebook row (1 of them only in part");
  });

  it("lists every notebook row with the items it answers, rows from elsewhere marked, pipes escaped", () => {
    expect(doc).toContain("| Σ gate weights = 2.5 |  |  | 2.5 | by construction | — (not from the articles) |  |");
    expect(doc).toContain("| INT8 inference is 2–3× faster |  | 2–3× | 0.99× | not reproduced | A §3.1 | a \\| pipe |");
    expect(doc).toContain("ran in 1 min 30 s; 1 rows: 1 not reproduced.");
  });

  it("says where the rows come from and which map entries match no row", () => {
    expect(doc).toContain(
      "Rows from `fixture`: the run of 2026-12-06, commit `0123456789ab`, Test CPU 9000 (2 cores), 2 min 05 s in all.",
    );
    expect(unmatchedRefs(map, folder).map((u) => [u.ref.claim, u.why])).toEqual([
      ["no such claim", "no such row in this run"],
    ]);
    expect(doc).toContain("- A §4 gone: `beta` › “no such claim” — no such row in this run");
  });

  it("explains the verdict rule of lib/verdict.ts, every verdict named", () => {
    for (const fn of ["comparePaired", "checkRange", "near", "holds", "byConstruction", "outOfReach", "unlessQuick"])
      expect(doc).toContain(`lab.${fn}(`);
    for (const v of ["reproduced", "partly", "not reproduced", "not measured", "within noise", "by construction"])
      expect(doc).toContain(`**${v}**`);
  });

  it("without a run lists the map alone and says how to make one", () => {
    const none = renderClaimsDoc(map, FIXTURE_NOTEBOOKS, null, "results/reference");
    expect(none).toContain("`results/reference` does not exist yet");
    expect(none).toContain("| 1.2 MoE | claim | MoE wins | `alpha` › “moe BEATS  dense” |  |");
    expect(none).not.toContain("## Map entries that match no row");
  });
});

describe("the committed map and docs/claims.md", () => {
  const notebooks = listNotebooks(join(ROOT, "notebooks"));
  const committed = validateClaimsMap(
    JSON.parse(readFileSync(join(ROOT, "docs", "claims-map.json"), "utf8")),
    notebooks,
    "docs/claims-map.json",
  );

  it("covers the five articles (000 and 002 are one), each with many items and every kind", () => {
    expect(committed.articles.flatMap((a) => a.files).sort()).toEqual(
      ["000", "001", "002", "003", "004"].map((n) => expect.stringMatching(new RegExp(`^${n}_`))),
    );
    for (const a of committed.articles)
      expect(committed.items.filter((it) => it.article === a.id).length).toBeGreaterThan(10);
    expect(new Set(committed.items.map((it) => it.kind))).toEqual(new Set(["claim", "table", "code", "figure"]));
  });

  it("is what npm run claims-doc writes from results/reference (or from none before one is committed)", () => {
    const dir = join(ROOT, "results", "reference");
    const folder = existsSync(dir) ? readResultsFolder(dir) : null;
    const expected = renderClaimsDoc(committed, notebooks, folder, relative(ROOT, dir));
    expect(readFileSync(join(ROOT, "docs", "claims.md"), "utf8")).toBe(expected);
  });
});
