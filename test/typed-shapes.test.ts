// Shape-typed random tensors: lab.randomNormal([10, 16]) is a tf.Tensor2D, so `layer.forward(x)` compiles without a
// cast (it failed with TS2345: Tensor<Rank> is not assignable to Tensor2D). Compiles test/fixtures/typed-shapes.ts
// with the project's compiler options and expects no diagnostics (its @ts-expect-error lines check the negative case).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as ts from "typescript";

describe("shape-typed tensor constructors", () => {
  it("type-check a first cell without casts, and reject a wrong rank", () => {
    const root = path.resolve(__dirname, "..");
    const config = ts.readConfigFile(path.join(root, "tsconfig.json"), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram([path.join(root, "test", "fixtures", "typed-shapes.ts")], {
      ...options,
      noEmit: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where =
        d.file && d.start !== undefined
          ? `${path.relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}`
          : "";
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    expect(diagnostics).toEqual([]);
  });
});
