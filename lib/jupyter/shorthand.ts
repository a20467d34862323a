// Works around a tslab 1.0.22 bug: it rewrites references to earlier cells' variables as `exports.x` but leaves
// object shorthand `{ x }` alone, so `{ x }` throws ReferenceError when x came from an earlier cell.
// Spelling each shorthand property out (`{ x: x }`, `{ x: x = 1 }` in destructuring) means the same in every
// context and lets tslab's rewrite see the reference.
import { createRequire } from "node:module";

interface Node {
  kind: number;
  end: number;
  name?: Node;
  getText(): string;
}

interface TypeScriptApi {
  ScriptTarget: { Latest: number };
  ScriptKind: { TS: number };
  SyntaxKind: { ShorthandPropertyAssignment: number };
  createSourceFile(fileName: string, text: string, target: number, setParentNodes: boolean, kind: number): Node;
  forEachChild(node: Node, visit: (child: Node) => void): void;
}

/** tslab's own TypeScript, so the parse matches the compiler that runs the cell. */
const ts: TypeScriptApi = createRequire(require.resolve("tslab/package.json"))("@tslab/typescript-for-tslab");

/** `code` with every shorthand property `x` written as `x: x` (unchanged when it has none). */
export function expandShorthand(code: string): string {
  const file = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const inserts: { at: number; text: string }[] = [];
  const visit = (node: Node): void => {
    if (node.kind === ts.SyntaxKind.ShorthandPropertyAssignment && node.name) {
      inserts.push({ at: node.name.end, text: `: ${node.name.getText()}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = code;
  for (const { at, text } of inserts.sort((a, b) => b.at - a.at)) out = out.slice(0, at) + text + out.slice(at);
  return out;
}
