// The runner's choices before any kernel starts: which notebooks (the manifest, never a scratch Untitled.ipynb),
// which overrides (declared names only, of the default's type, True/False accepted), and output folders that fail
// fast with a clear error instead of Node's endless recursive mkdir under /proc.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Cell, type Notebook } from "../../lib/run/notebook";
import { ParameterError, checkParameters, declaredParameters } from "../../lib/run/parameters";
import { MANIFEST_FILE, listNotebooks, makeDirectory, runNotebooks, selectNotebooks } from "../../lib/run/runner";

const ROOT = join(__dirname, "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures");
const work = mkdtempSync(join(tmpdir(), "moelab-runner-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function notebook(source: string, language = "typescript"): Notebook {
  const cell: Cell = {
    cell_type: "code",
    source,
    metadata: { tags: ["parameters"] },
    outputs: [],
    execution_count: null,
  };
  return { nbformat: 4, nbformat_minor: 4, metadata: { kernelspec: { name: "moelab", language } }, cells: [cell] };
}

describe("the notebook manifest", () => {
  it("lists exactly the lab's tracked notebooks, the tour first", () => {
    const tracked = execFileSync("git", ["ls-files", "notebooks/*.ipynb"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((f) => f.replace(/^notebooks\//, "").replace(/\.ipynb$/, ""));
    const listed = listNotebooks(join(ROOT, "notebooks"));
    expect([...listed].sort()).toEqual(tracked.sort());
    expect(listed[0]).toBe("00-tour");
  });

  it("leaves out notebooks it does not list (a scratch Untitled.ipynb), unless asked for by --only", () => {
    const dir = join(work, "scratch");
    makeDirectory(dir, "test");
    for (const name of ["b", "a", "Untitled"])
      copyFileSync(join(FIXTURES, "passing.ipynb"), join(dir, `${name}.ipynb`));
    writeFileSync(join(dir, MANIFEST_FILE), "# the lab's own\nb\na.ipynb  # order as listed\n\n");
    expect(listNotebooks(dir)).toEqual(["b", "a"]);
    expect(selectNotebooks(dir, [])).toEqual(["b", "a"]);
    expect(selectNotebooks(dir, ["Untitled", "a"])).toEqual(["a", "Untitled"]);
    writeFileSync(join(dir, MANIFEST_FILE), "a\nmissing\n");
    expect(() => listNotebooks(dir)).toThrow(/manifest\.txt:2: lists "missing", but .* has no missing\.ipynb/);
    expect(listNotebooks(FIXTURES)).toEqual(["failing", "passing"]); // no manifest: every *.ipynb
  });
});

describe("parameter overrides", () => {
  const nb = notebook(
    'let quick = false; // smoke run\nlet seed = 0;\nconst lr = 1e-3;\nlet label = "run";\nlet mode: "a" | "b" = "a";\nlet steps = quick ? 5 : 50;',
  );

  it("infers each parameter's type from its default", () => {
    expect(declaredParameters(nb).map((p) => `${p.name}:${p.kind}`)).toEqual([
      "quick:boolean",
      "seed:number",
      "lr:number",
      "label:string",
      "mode:string",
      "steps:other",
    ]);
    expect(
      declaredParameters(notebook("quick = False  # py\nn: int = 3", "python")).map((p) => `${p.name}:${p.kind}`),
    ).toEqual(["quick:boolean", "n:number"]);
  });

  it("accepts values of the default's type and Python's True/False, and refuses the rest by name", () => {
    expect(checkParameters(nb, { quick: "False", seed: 3, label: "x", steps: 7 }, "t.ipynb")).toEqual({
      quick: false,
      seed: 3,
      label: "x",
      steps: 7,
    });
    expect(checkParameters(nb, { quick: "True" }, "t.ipynb")).toEqual({ quick: true });
    expect(() => checkParameters(nb, { quick: "no" }, "t.ipynb")).toThrow(
      /parameter "quick" of t\.ipynb is a boolean \(default false\); expected true or false/,
    );
    expect(() => checkParameters(nb, { quick: 1 }, "t.ipynb")).toThrow(ParameterError);
    expect(() => checkParameters(nb, { seed: "7x" }, "t.ipynb")).toThrow(
      /"seed" .* is a number .* expected a finite number/,
    );
    expect(() => checkParameters(nb, { label: 5 }, "t.ipynb")).toThrow(/expected a string/);
    expect(() => checkParameters(nb, { qiuck: true }, "t.ipynb")).toThrow(
      /-p qiuck: t\.ipynb has no parameter "qiuck"; its parameters: quick \(boolean\), seed \(number\), lr \(number\), label \(string\), mode \(string\), steps \(quick \? 5 : 50\)/,
    );
  });

  it("runNotebooks refuses a misspelt parameter before it starts a kernel or creates a folder", async () => {
    const resultsDir = join(work, "never");
    await expect(
      runNotebooks({ notebooksDir: FIXTURES, params: { qiuck: true }, resultsDir, reportDir: resultsDir }),
    ).rejects.toThrow(/failing\.ipynb has no parameter "qiuck"/);
    expect(existsSync(resultsDir)).toBe(false);
  });

  it("the reproduce command exits 2 naming the parameter and the valid ones", async () => {
    const tsNode = join(ROOT, "node_modules", ".bin", "ts-node");
    const run = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        tsNode,
        [join(ROOT, "scripts", "reproduce.ts"), "--notebooks", FIXTURES, "-p", "qiuck=true"],
        { cwd: ROOT, timeout: 120_000 },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stderr }),
      ),
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /-p qiuck: failing\.ipynb has no parameter "qiuck"; its parameters: quick \(boolean\), seed \(number\)/,
    );
  }, 150_000);
});

describe("output folders", () => {
  it("a folder that cannot be made fails at once with its name and reason (Node's recursive mkdir spins on /proc)", () => {
    // In a child process: before the fix this never returned and ignored SIGTERM.
    const script = `require(${JSON.stringify(join(ROOT, "dist", "lib", "run"))}).runNotebooks({ notebooksDir: ${JSON.stringify(FIXTURES)}, resultsDir: "/proc/moelab-x/results" }).catch((e) => { console.error(e.message); process.exit(3); });`;
    const child = spawnSync(process.execPath, ["-e", script], {
      encoding: "utf8",
      timeout: 30_000,
      killSignal: "SIGKILL",
    });
    expect(child.signal, "still spinning after 30 s").toBeNull();
    expect(child.status).toBe(3);
    expect(child.stderr).toMatch(
      /results folder \(--results\) \/proc\/moelab-x\/results: cannot create \/proc\/moelab-x \(ENOENT\)/,
    );
    const file = join(work, "a-file");
    writeFileSync(file, "");
    expect(() => makeDirectory(join(file, "sub"), "--report")).toThrow(
      /--report .*a-file\/sub: .*a-file is a file, not a folder/,
    );
  });
});
