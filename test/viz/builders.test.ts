// Figure builders: traces, layout and text summaries on small hand-checked inputs, and every validation error.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_STYLE,
  FigureInputError,
  bar,
  groupedBar,
  heatmap,
  line,
  pie,
  radar,
  scatter,
  table,
} from "../../lib/viz";

/** Expects `fn` to throw a FigureInputError naming `argument`, with a message matching `message`. */
function rejects(fn: () => unknown, argument: string, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FigureInputError);
  expect((caught as FigureInputError).argument).toBe(argument);
  expect((caught as FigureInputError).name).toBe("FigureInputError");
  expect((caught as Error).message).toMatch(message);
}

describe("layout template", () => {
  it("gives every figure the default size, white background and font", () => {
    const f = bar(["a"], [1]);
    expect(f.layout.width).toBe(720);
    expect(f.layout.height).toBe(420);
    expect(f.layout.paper_bgcolor).toBe("#ffffff");
    expect(f.layout.plot_bgcolor).toBe("#ffffff");
    expect(f.layout.font).toEqual({ family: DEFAULT_STYLE.fontFamily, size: 13, color: "#222222" });
    expect(f.layout.title).toBeUndefined();
  });

  it("applies title and size options, and makes room for the title", () => {
    const f = bar(["a"], [1], { title: "T", width: 300, height: 200 });
    expect(f.layout.title).toEqual({ text: "T", font: { size: DEFAULT_STYLE.titleSize } });
    expect([f.layout.width, f.layout.height]).toEqual([300, 200]);
    expect(f.layout.margin!.t).toBeGreaterThan(DEFAULT_STYLE.margin.t);
    expect(f.summary.split("\n")[0]).toBe("T");
  });

  it("rejects sizes that are not positive integers", () => {
    rejects(() => bar(["a"], [1], { width: 0 }), "options.width", /positive integer/);
    rejects(() => pie(["a"], [1], { height: 10.5 }), "options.height", /positive integer/);
  });
});

describe("line", () => {
  it("builds one scatter trace per series with shared or default x", () => {
    const f = line(
      [
        { name: "train", y: [3, 1, 2] },
        { name: "val", y: [4, NaN, 1], x: [10, 20, 30] },
      ],
      {
        title: "Loss",
        xTitle: "step",
        yTitle: "loss",
        logY: true,
      },
    );
    expect(f.data).toEqual([
      { type: "scatter", mode: "lines", name: "train", x: [0, 1, 2], y: [3, 1, 2] },
      { type: "scatter", mode: "lines", name: "val", x: [10, 20, 30], y: [4, null, 1] },
    ]);
    expect(f.layout.yaxis).toMatchObject({ type: "log", title: { text: "loss" } });
    expect(f.layout.xaxis).toMatchObject({ title: { text: "step" } });
    expect(f.layout.showlegend).toBe(true);
    expect(f.summary).toBe(
      [
        "Loss",
        "train: 3 points, 3 → 2, min 1 at x=1, max 3 at x=0",
        "val: 3 points (1 NaN), 4 → 1, min 1 at x=30, max 4 at x=10",
      ].join("\n"),
    );
  });

  it("takes a single series, the options' x and markers", () => {
    const f = line({ name: "lr", y: [0.001, 0.0005] }, { x: [100, 200], markers: true });
    expect(f.data[0]).toMatchObject({ mode: "lines+markers", x: [100, 200] });
    expect(f.layout.showlegend).toBe(false);
    expect(f.summary).toBe("lr: 2 points, 0.001 → 5e-4, min 5e-4 at x=200, max 0.001 at x=100");
  });

  it("validates its arguments", () => {
    rejects(() => line([]), "series", /must not be empty/);
    rejects(() => line({ name: "a", y: [] }), "series[0].y", /must not be empty/);
    rejects(() => line({ name: "a", y: [1, 2], x: [1] }), "series[0].y", /has 2 entries but series\[0\]\.x has 1/);
    rejects(() => line({ name: "a", y: [1, 2] }, { x: [1, 2, 3] }), "series[0].y", /options\.x has 3/);
    rejects(() => line({ name: "a", y: [1, 0] }, { logY: true }), "series[0].y[1]", /> 0 \(log axis\)/);
    rejects(() => line({ name: "a", y: [NaN, NaN] }), "series[0].y", /all NaN/);
    rejects(() => line({ name: "a", y: [1, Infinity] }), "series[0].y[1]", /finite/);
    rejects(() => line({ name: "a", y: [1, 2], x: [0, NaN] }), "series[0].x[1]", /NaN/);
    rejects(() => line({ y: [1] } as never), "series[0].name", /string/);
  });
});

describe("bar and groupedBar", () => {
  it("bar: one trace, category axis, aligned label: value summary", () => {
    const f = bar(["dense", "moe-64"], [12.5, 101], { title: "Throughput", yTitle: "tok/s" });
    expect(f.data).toEqual([{ type: "bar", x: ["dense", "moe-64"], y: [12.5, 101] }]);
    expect(f.layout.xaxis).toMatchObject({ type: "category" });
    expect(f.summary).toBe(["Throughput", "dense:   12.5", "moe-64:   101"].join("\n"));
  });

  it("bar: horizontal puts labels on y, first at the top", () => {
    const f = bar(["a", "b"], [1, 2], { horizontal: true });
    expect(f.data[0]).toMatchObject({ orientation: "h", x: [1, 2], y: ["a", "b"] });
    expect(f.layout.yaxis).toMatchObject({ type: "category", autorange: "reversed" });
  });

  it("groupedBar: a trace per group, barmode group or stack, category × group summary", () => {
    const f = groupedBar(
      ["fp32", "int4"],
      [
        { name: "latency", values: [1, 0.4] },
        { name: "error", values: [0, 0.05] },
      ],
    );
    expect(f.data).toEqual([
      { type: "bar", name: "latency", x: ["fp32", "int4"], y: [1, 0.4] },
      { type: "bar", name: "error", x: ["fp32", "int4"], y: [0, 0.05] },
    ]);
    expect(f.layout.barmode).toBe("group");
    expect(groupedBar(["a"], [{ name: "g", values: [1] }], { stacked: true }).layout.barmode).toBe("stack");
    expect(f.summary).toBe(["       latency  error", "fp32:        1      0", "int4:      0.4   0.05"].join("\n"));
  });

  it("validates its arguments", () => {
    rejects(() => bar([], []), "labels", /must not be empty/);
    rejects(() => bar(["a", "b"], [1]), "values", /has 1 entries but labels has 2/);
    rejects(() => bar(["a"], [NaN]), "values[0]", /NaN/);
    rejects(() => bar(["a", 3 as never], [1, 2]), "labels[1]", /string/);
    rejects(() => groupedBar(["a"], []), "groups", /must not be empty/);
    rejects(
      () => groupedBar(["a", "b"], [{ name: "g", values: [1] }]),
      "groups[0].values",
      /has 1 entries but categories has 2/,
    );
  });
});

describe("heatmap", () => {
  it("builds a heatmap trace with labels, reversed rows and a matrix summary", () => {
    const f = heatmap(
      [
        [1, 2, 3],
        [4, NaN, 6],
      ],
      {
        title: "Routing",
        rowLabels: ["a", "b"],
        colLabels: ["e0", "e1", "e2"],
        colorscale: "Blues",
        showValues: true,
      },
    );
    expect(f.data).toEqual([
      {
        type: "heatmap",
        z: [
          [1, 2, 3],
          [4, null, 6],
        ],
        x: ["e0", "e1", "e2"],
        y: ["a", "b"],
        colorscale: "Blues",
        hoverongaps: false,
        text: [
          ["1", "2", "3"],
          ["4", "", "6"],
        ],
        texttemplate: "%{text}",
      },
    ]);
    expect(f.layout.yaxis).toMatchObject({ autorange: "reversed" });
    expect(f.summary).toBe(
      [
        "Routing",
        "2×3 matrix (rows × columns), min 1 at (a, e0), max 6 at (b, e2)",
        "   e0   e1  e2",
        "a   1    2   3",
        "b   4  NaN   6",
      ].join("\n"),
    );
  });

  it("truncates the summary of a matrix larger than 12×12 with a note", () => {
    const z = Array.from({ length: 20 }, (_, i) => Array.from({ length: 13 }, (_, j) => i * 13 + j));
    const lines = heatmap(z).summary.split("\n");
    expect(lines[0]).toBe("20×13 matrix (rows × columns), min 0 at (0, 0), max 259 at (19, 12)");
    expect(lines).toHaveLength(1 + 13 + 1);
    expect(lines[1].trim().split(/\s+/)).toEqual(Array.from({ length: 12 }, (_, j) => String(j)));
    expect(lines[14]).toBe("(truncated: showing the first 12 of 20 rows and 12 of 13 columns)");
  });

  it("validates its arguments", () => {
    rejects(() => heatmap([]), "z", /must not be empty/);
    rejects(() => heatmap([[]]), "z[0]", /must not be empty/);
    rejects(() => heatmap([[1, 2], [3]]), "z[1]", /has 1 columns but z\[0\] has 2 \(the matrix must be rectangular\)/);
    rejects(() => heatmap([[1], [Infinity]]), "z[1][0]", /finite/);
    rejects(() => heatmap([[NaN]]), "z", /all NaN/);
    rejects(
      () => heatmap([[1, 2]], { rowLabels: ["a", "b"] }),
      "options.rowLabels",
      /has 2 entries but z \(rows\) has 1/,
    );
    rejects(
      () => heatmap([[1, 2]], { colLabels: ["a"] }),
      "options.colLabels",
      /has 1 entries but z\[0\] \(columns\) has 2/,
    );
    rejects(() => heatmap([[1, 2]], { zmin: 3, zmax: 1 }), "options.zmin", /below options\.zmax/);
  });
});

describe("radar", () => {
  it("builds closed scatterpolar traces over the same axes and an axis × series summary", () => {
    const f = radar(
      ["speed", "quality", "memory"],
      [
        { name: "dense", values: [1, 3, 2] },
        { name: "moe", values: [3, 3.25, 1] },
      ],
      {
        range: [0, 4],
      },
    );
    expect(f.data).toEqual([
      {
        type: "scatterpolar",
        name: "dense",
        r: [1, 3, 2, 1],
        theta: ["speed", "quality", "memory", "speed"],
        fill: "toself",
        opacity: 0.6,
      },
      {
        type: "scatterpolar",
        name: "moe",
        r: [3, 3.25, 1, 3],
        theta: ["speed", "quality", "memory", "speed"],
        fill: "toself",
        opacity: 0.6,
      },
    ]);
    expect(f.layout.polar).toEqual({ radialaxis: { visible: true, range: [0, 4] } });
    expect(f.summary).toBe(
      ["         dense   moe", "speed        1     3", "quality      3  3.25", "memory       2     1"].join("\n"),
    );
    expect(radar(["a", "b", "c"], { name: "s", values: [1, 2, 3] }, { fill: false }).data[0].fill).toBeUndefined();
  });

  it("validates its arguments", () => {
    rejects(() => radar(["a", "b"], { name: "s", values: [1, 2] }), "axes", /at least 3 axes, got 2/);
    rejects(() => radar(["a", "b", "c"], []), "series", /must not be empty/);
    rejects(
      () => radar(["a", "b", "c"], { name: "s", values: [1, 2] }),
      "series[0].values",
      /has 2 entries but axes has 3/,
    );
    rejects(() => radar(["a", "b", "c"], { name: "s", values: [1, NaN, 2] }), "series[0].values[1]", /NaN/);
    rejects(
      () => radar(["a", "b", "c"], { name: "s", values: [1, 2, 3] }, { range: [2, 1] }),
      "options.range",
      /low < high/,
    );
  });
});

describe("pie", () => {
  it("builds a pie trace and a label value percent summary", () => {
    const f = pie(["attn", "moe", "embed"], [30, 60, 10], { title: "Params", hole: 0.4 });
    expect(f.data).toEqual([
      {
        type: "pie",
        labels: ["attn", "moe", "embed"],
        values: [30, 60, 10],
        hole: 0.4,
        sort: false,
        textinfo: "percent",
      },
    ]);
    expect(f.summary).toBe(["Params", "attn:   30  30.0%", "moe:    60  60.0%", "embed:  10  10.0%"].join("\n"));
  });

  it("validates its arguments", () => {
    rejects(() => pie(["a"], [-1]), "values[0]", />= 0/);
    rejects(() => pie(["a", "b"], [0, 0]), "values", /not all be 0/);
    rejects(() => pie(["a"], [1, 2]), "values", /has 2 entries but labels has 1/);
    rejects(() => pie(["a"], [1], { hole: 1 }), "options.hole", /\[0, 1\)/);
  });
});

describe("scatter", () => {
  it("builds marker traces, text for labels, and ranges in the summary", () => {
    const f = scatter(
      [
        { name: "models", x: [1, 2, 3], y: [30, 10, 20], labels: ["a", "b", "c"] },
        { x: [0.5], y: [5] },
      ],
      {
        logX: true,
        xTitle: "params",
      },
    );
    expect(f.data).toEqual([
      {
        type: "scatter",
        mode: "markers+text",
        name: "models",
        x: [1, 2, 3],
        y: [30, 10, 20],
        marker: { size: 9 },
        text: ["a", "b", "c"],
        textposition: "top center",
      },
      { type: "scatter", mode: "markers", name: "series 1", x: [0.5], y: [5], marker: { size: 9 } },
    ]);
    expect(f.layout.xaxis).toMatchObject({ type: "log", title: { text: "params" } });
    expect(f.summary).toBe(
      [
        "models: 3 points, x 1 … 3, y 10 … 30",
        "  a  (1,  30)",
        "  b  (2,  10)",
        "  c  (3,  20)",
        "series 1: 1 points, x 0.5 … 0.5, y 5 … 5",
      ].join("\n"),
    );
  });

  it("validates its arguments", () => {
    rejects(() => scatter([]), "series", /must not be empty/);
    rejects(() => scatter({ x: [1, 2], y: [1] }), "series[0].y", /has 1 entries but series\[0\]\.x has 2/);
    rejects(() => scatter({ x: [1], y: [NaN] }), "series[0].y[0]", /NaN/);
    rejects(() => scatter({ x: [1], y: [1], labels: ["a", "b"] }), "series[0].labels", /has 2 entries/);
    rejects(() => scatter({ x: [0], y: [1] }, { logX: true }), "series[0].x[0]", /> 0/);
  });
});

describe("table", () => {
  it("builds a column-major table trace with formatted numbers and an ASCII summary", () => {
    const f = table(
      ["model", "params", "loss"],
      [
        ["dense", 1200000, 2.31234],
        ["moe", 8400000, 2.1],
      ],
      {
        title: "Results",
        decimals: [undefined, 0, 3],
      },
    );
    const t = f.data[0] as {
      type: string;
      header: { values: string[]; align: string[] };
      cells: { values: string[][]; align: string[] };
    };
    expect(t.type).toBe("table");
    expect(t.header.values).toEqual(["model", "params", "loss"]);
    expect(t.cells.values).toEqual([
      ["dense", "moe"],
      ["1200000", "8400000"],
      ["2.312", "2.100"],
    ]);
    expect(t.cells.align).toEqual(["left", "right", "right"]);
    // Height fits the rows: top margin (with title) + bottom margin + 3 rows of 28 px + 8.
    expect(f.layout.height).toBe(Math.max(120, f.layout.margin!.t + 16 + 3 * 28 + 8));
    expect(f.summary).toBe(
      [
        "Results",
        "+-------+---------+-------+",
        "| model |  params |  loss |",
        "+-------+---------+-------+",
        "| dense | 1200000 | 2.312 |",
        "| moe   | 8400000 | 2.100 |",
        "+-------+---------+-------+",
      ].join("\n"),
    );
  });

  it("formats numbers compactly by default and mixes text into numeric-looking columns", () => {
    const f = table(
      ["k", "v"],
      [
        ["a", 0.000012346],
        ["b", "n/a"],
      ],
    );
    expect(f.summary.split("\n")[3]).toBe("| a | 1.235e-5 |");
    expect(f.data[0].cells).toMatchObject({ align: ["left", "left"] });
  });

  it("validates its arguments", () => {
    rejects(() => table([], [["a"]]), "header", /must not be empty/);
    rejects(() => table(["a"], []), "rows", /must not be empty/);
    rejects(() => table(["a", "b"], [["x"]]), "rows[0]", /has 1 cells but header has 2/);
    rejects(() => table(["a"], [[null as never]]), "rows[0][0]", /string or a number, got null/);
    rejects(() => table(["a"], [[1]], { decimals: [1, 2] }), "options.decimals", /has 2 entries but header has 1/);
    rejects(() => table(["a"], [[1]], { decimals: -1 }), "options.decimals", /integer in \[0, 20\]/);
  });
});
