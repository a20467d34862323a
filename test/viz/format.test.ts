// Text helpers of figure summaries: compact numbers and aligned tables.
import { describe, expect, it } from "vitest";
import { alignColumns, asciiTable, compact, extremes, formatNumber } from "../../lib/viz/format";

describe("compact", () => {
  it("keeps about four significant digits and switches to exponents outside [1e-3, 1e6)", () => {
    const cases: [number, string][] = [
      [0, "0"],
      [-0, "0"],
      [1, "1"],
      [0.123456, "0.1235"],
      [12.5, "12.5"],
      [-999.96, "-1000"],
      [123456.7, "123457"],
      [1234567, "1.235e6"],
      [1e6, "1e6"],
      [0.00002, "2e-5"],
      [0.001, "0.001"],
      [NaN, "NaN"],
      [Infinity, "inf"],
      [-Infinity, "-inf"],
    ];
    for (const [n, s] of cases) expect([n, compact(n)]).toEqual([n, s]);
  });

  it("formatNumber uses fixed decimals when given", () => {
    expect(formatNumber(2.1, 3)).toBe("2.100");
    expect(formatNumber(2.1)).toBe("2.1");
    expect(formatNumber(NaN, 2)).toBe("NaN");
  });
});

describe("tables", () => {
  it("alignColumns pads columns left or right and trims line ends", () => {
    expect(
      alignColumns(
        [
          ["a", "1"],
          ["bbb", "22"],
        ],
        ["l", "r"],
      ),
    ).toEqual(["a     1", "bbb  22"]);
  });

  it("asciiTable draws borders around header and rows", () => {
    expect(asciiTable(["x", "y"], [["1", "22"]], ["l", "r"])).toEqual([
      "+---+----+",
      "| x |  y |",
      "+---+----+",
      "| 1 | 22 |",
      "+---+----+",
    ]);
  });

  it("extremes skips NaN and returns first occurrences", () => {
    expect(extremes([NaN, 2, 1, 2, 1])).toEqual({ min: 2, max: 1 });
    expect(extremes([NaN])).toBeNull();
  });
});
