import { describe, expect, it } from "vitest";
import { CellRunner } from "../../lib/jupyter/cells";
import { expandShorthand } from "../../lib/jupyter/shorthand";

describe("object shorthand across cells (tslab 1.0.22 bug)", () => {
  it("spells out shorthand properties, including destructuring defaults, and nothing else", () => {
    expect(expandShorthand("const o = { repeats, b: 2, c };")).toBe("const o = { repeats: repeats, b: 2, c: c };");
    expect(expandShorthand("({ a = 1, d } = obj);")).toBe("({ a: a = 1, d: d } = obj);");
    const untouched = "const { a, b } = obj;\nconst o = { a: 1, [k]: 2, m() { return 1; }, ...rest };";
    expect(expandShorthand(untouched)).toBe(untouched);
  });

  it("lets a cell use shorthand for variables of earlier cells", async () => {
    const runner = new CellRunner(process.cwd());
    try {
      expect(await runner.run("let repeats = 3;")).toEqual({ status: "ok", hasValue: false });
      expect(await runner.run("const o = { repeats };\no")).toEqual({
        status: "ok",
        hasValue: true,
        value: { repeats: 3 },
      });
      const typeError = await runner.run("const p = { missing };");
      expect(typeError.status).toBe("error");
      if (typeError.status === "error") expect(typeError.error.evalue).toMatch(/missing/);
    } finally {
      runner.close();
    }
  });
});
