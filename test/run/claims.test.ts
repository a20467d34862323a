// claims(), record(), recordEnvironment(): validation and the one bundle each shows (results JSON + HTML + text).
import { afterEach, describe, expect, it } from "vitest";
import { RESULTS_MIME, claims, record, recordEnvironment, type ClaimRow } from "../../lib/claims";
import { setKernelHost, type DisplayBundle } from "../../lib/display";

function capture(): DisplayBundle[] {
  const shown: DisplayBundle[] = [];
  setKernelHost({ live: false, display: (bundle) => shown.push(bundle), track: () => undefined });
  return shown;
}

afterEach(() => setKernelHost(null));

const rows: ClaimRow[] = [
  {
    claim: "INT4 g128 loses < 0.6% <accuracy>",
    source: "article §4",
    expected: "< 0.6%",
    measured: 0.004213,
    verdict: "reproduced",
  },
  { claim: "KV cache 1/5–1/100 of MHA", measured: "1/28", verdict: "partly", note: "tiny model" },
  { claim: "FP8 training error < 0.25%", measured: 123456789, verdict: "not reproduced" },
];

describe("claims", () => {
  it("shows one bundle with the rows, an HTML table and an aligned text table", () => {
    const shown = capture();
    claims(rows);
    expect(shown).toHaveLength(1);
    const data = shown[0].data;
    expect(Object.keys(data).sort()).toEqual([RESULTS_MIME, "text/html", "text/plain"].sort());
    expect(data[RESULTS_MIME]).toEqual({ claims: rows });
    const html = data["text/html"] as string;
    expect(html).toContain("INT4 g128 loses &lt; 0.6% &lt;accuracy&gt;");
    expect(html.match(/<tr>/g)).toHaveLength(4);
    const text = (data["text/plain"] as string).split("\n");
    expect(text[1]).toMatch(/^\| Claim +\| Source +\| Expected +\| Measured +\| Verdict +\| Note +\|$/);
    expect(text.filter((l) => l.startsWith("|")).every((l) => l.length === text[1].length)).toBe(true);
    expect(text.join("\n")).toContain("| 0.004213 ");
    expect(text.join("\n")).toContain("| 1.235e8 ");
  });

  it("leaves out source, expected and note columns no row uses", () => {
    const shown = capture();
    claims([{ claim: "c", measured: 1, verdict: "not measured" }]);
    expect((shown[0].data["text/plain"] as string).split("\n")[1]).toMatch(/^\| Claim \| Measured \| Verdict +\|$/);
  });

  it("names the row and field of invalid input", () => {
    capture();
    expect(() => claims([])).toThrow("claims(rows): expected a non-empty array of claim rows");
    expect(() => claims([{ ...rows[0], verdict: "yes" as never }])).toThrow(
      /rows\[0\]\.verdict is "yes"; expected one of "reproduced", "partly", "not reproduced", "not measured"/,
    );
    expect(() => claims([rows[0], { ...rows[1], measured: Number.NaN }])).toThrow(
      /rows\[1\]\.measured is NaN; expected a finite number or a string/,
    );
    expect(() => claims([{ ...rows[0], verdit: "x" } as never])).toThrow(/rows\[0\] has unknown field\(s\) verdit/);
    expect(() => claims([{ ...rows[0], claim: " " }])).toThrow(/rows\[0\]\.claim: expected a non-empty string/);
    expect(() => claims([{ ...rows[0], timed: "yes" as never }])).toThrow(/rows\[0\]\.timed: expected true or false/);
  });

  it("keeps timed: true on a timing row and leaves it off the others", () => {
    const shown = capture();
    claims([
      { ...rows[0], timed: true },
      { ...rows[1], timed: false },
    ]);
    const sent = (shown[0].data[RESULTS_MIME] as { claims: { timed?: boolean }[] }).claims;
    expect(sent.map((row) => row.timed)).toEqual([true, undefined]);
  });
});

describe("record and recordEnvironment", () => {
  it("show the metrics / environment under the results MIME type and as text", () => {
    const shown = capture();
    record({ loss: 1.23456, tokens: 1024, note: "quick" });
    recordEnvironment({ backend: "wasm" });
    expect(shown.map((b) => b.data[RESULTS_MIME])).toEqual([
      { metrics: { loss: 1.23456, tokens: 1024, note: "quick" } },
      { environment: { backend: "wasm" } },
    ]);
    expect(shown[0].data["text/plain"]).toBe("metrics:\n  loss = 1.235\n  tokens = 1024\n  note = quick");
  });

  it("reject empty records and values of the wrong type", () => {
    capture();
    expect(() => record({})).toThrow("record(metrics): expected a non-empty object of name → value");
    expect(() => record({ loss: Infinity })).toThrow(/"loss" is Infinity; expected a finite number or a string/);
    expect(() => recordEnvironment({ cores: 2 as never })).toThrow(/"cores" is number; expected a string/);
  });
});
