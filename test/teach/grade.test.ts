// The autograder on the lab's runner: full marks for the solution notebooks, zero for the released stubs, and the
// right partial marks and notes for the crafted submissions in test/fixtures/teach/submissions (one per failure mode:
// infinite loop, crash, process.exit, a killed kernel, huge output, an edited locked cell, missing cells, and the
// kernel compiler's internal error that triggers a regrade).
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readNotebook, writeNotebook } from "../../lib/run/notebook";
import { listNotebooks } from "../../lib/run/runner";
import { gradeAll, type SubmissionGrade } from "../../lib/teach/grade";
import { releaseNotebook } from "../../lib/teach/release";

const EXERCISES = join(__dirname, "..", "..", "exercises");
const CRAFTED = join(__dirname, "..", "fixtures", "teach", "submissions");
const CELL_TIMEOUT = 6; // seconds: the infinite loop costs this much; every real cell takes under 1 s
const work = mkdtempSync(join(tmpdir(), "moelab-grade-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Notes about a regrade after the kernel's compiler failed internally (tslab; see GradeConfig.compilerRetries) are not
// the submission's: leave them out of the comparisons.
const byStudent = (grades: SubmissionGrade[]) =>
  Object.fromEntries(
    grades.map((g) => [
      `${g.student}/${g.lab}`,
      { ...g, issues: g.issues.filter((i) => !/compiler failed internally/.test(i)) },
    ]),
  );

describe("teach:grade", () => {
  it("gives full marks to the solution notebooks and zero to the released stubs", async () => {
    const submissions = join(work, "reference");
    for (const name of listNotebooks(EXERCISES)) {
      const source = readNotebook(join(EXERCISES, `${name}.ipynb`));
      mkdirSync(join(submissions, "solution"), { recursive: true });
      mkdirSync(join(submissions, "stub"), { recursive: true });
      writeNotebook(join(submissions, "solution", `${name}.ipynb`), source);
      writeNotebook(join(submissions, "stub", `${name}.ipynb`), releaseNotebook(source, {}, name));
    }
    const grades = byStudent(
      await gradeAll(submissions, join(work, "reference-feedback"), {
        exercisesDir: EXERCISES,
        cellTimeout: CELL_TIMEOUT,
      }),
    );
    const max = { attention: 3, ppo: 3, quantization: 6, routing: 5 };
    for (const [lab, points] of Object.entries(max)) {
      const solution = grades[`solution/${lab}`];
      expect(solution, JSON.stringify(solution.cells)).toMatchObject({
        status: "graded",
        autoScore: points,
        autoMax: points,
        manualMax: 2,
        issues: [],
      });
      expect(
        solution.cells
          .filter((c) => c.kind === "auto")
          .every((c) => c.checks.length === 2 && c.checks.every((r) => r.passed === r.total)),
      ).toBe(true);
      const executed = readNotebook(join(work, "reference-feedback", "solution", `${lab}.ipynb`)); // ran headless, solutions in place
      expect(
        executed.cells
          .flatMap((c) => (c.cell_type === "code" ? c.outputs : []))
          .filter((o) => o.output_type === "error"),
      ).toEqual([]);
      const stub = grades[`stub/${lab}`];
      expect(stub).toMatchObject({ status: "graded", autoScore: 0, autoMax: points, issues: [] });
      expect(
        stub.cells
          .filter((c) => c.kind === "auto")
          .every((c) => c.status === "failed" && /not implemented/.test(c.message)),
      ).toBe(true);
      expect(stub.cells.find((c) => c.kind === "manual")).toMatchObject({
        score: null,
        status: "needs manual grading",
        message: "YOUR ANSWER HERE",
      });
    }
  }, 600_000);

  it("grades the crafted submissions with the right partial marks and notes, each in its own kernel", async () => {
    const out = join(work, "crafted-feedback");
    const all = await gradeAll(CRAFTED, out, {
      exercisesDir: EXERCISES,
      cellTimeout: CELL_TIMEOUT,
      maxOutputChars: 5000,
      compilerRetries: 1,
    });
    const grades = byStudent(all);
    const internal = all.find((g) => g.student === "compiler-internal-error")!;
    expect(internal.autoScore).toBe(3);
    expect(internal.issues).toEqual([
      "run 1: the kernel's TypeScript compiler failed internally (Unexpected pending rebuildTimer); graded again in a fresh kernel",
    ]);
    const status = (g: SubmissionGrade) =>
      Object.fromEntries(g.cells.filter((c) => c.kind === "auto").map((c) => [c.gradeId, c.status]));
    const loop = grades["infinite-loop/routing"];
    expect(loop.autoScore).toBe(2);
    expect(status(loop)).toEqual({ "gate-check": "failed", "switch-check": "passed" });
    expect(loop.issues).toEqual([`cell gate-check ran past the ${CELL_TIMEOUT} s cell timeout and was interrupted`]);
    const crash = grades["crash/routing"];
    expect(crash.autoScore).toBe(3);
    expect(crash.cells.find((c) => c.gradeId === "switch-check")!.message).toMatch(/TypeError/);
    const exit = grades["process-exit/routing"];
    expect(exit.autoScore).toBe(3);
    expect(exit.cells.find((c) => c.gradeId === "switch-check")!.message).toMatch(
      /process\.exit\(1\) is not allowed in a graded notebook/,
    );
    const killed = grades["kernel-killed/routing"];
    expect(killed.autoScore).toBe(3);
    expect(status(killed)).toEqual({ "gate-check": "passed", "switch-check": "not run" });
    expect(killed.issues).toEqual([
      "the kernel could not go on after cell switch-loss (DeadKernelError); the cells after it were not run",
    ]);
    const huge = grades["huge-output/routing"];
    expect(huge).toMatchObject({ autoScore: 5, issues: [] });
    const executed = readNotebook(join(out, "huge-output", "routing.ipynb"));
    const gateCell = executed.cells.find(
      (c) => (c.metadata.nbgrader as { grade_id?: string } | undefined)?.grade_id === "gate",
    )!;
    const printed =
      gateCell.cell_type === "code"
        ? gateCell.outputs.map((o) => (o.output_type === "stream" ? o.text : "")).join("")
        : "";
    expect(printed.length).toBeLessThan(5200);
    expect(printed).toMatch(/more characters cut by the grader/);
    const edited = grades["edited-locked/routing"];
    expect(edited.autoScore).toBe(2);
    expect(edited.issues).toEqual([
      "edited locked cell gate-check: its checksum differs from the released version's; restored from the source version",
    ]);
    expect(edited.cells.find((c) => c.gradeId === "gate-check")!.message).toMatch(/I give up/);
    const missing = grades["missing-cells/routing"];
    expect(missing.autoScore).toBe(3);
    expect(missing.issues).toEqual([
      "missing cell switch-loss: graded as the unanswered stub",
      "missing cell switch-check: restored from the source version",
    ]);
    const csv = readFileSync(join(out, "grades.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("student,lab,status,auto_score,auto_max,manual_max,issues");
    expect(csv).toHaveLength(9);
    expect(csv.filter((line) => line.startsWith("crash,routing,graded,3,5,2,"))).toHaveLength(1);
    const html = readFileSync(join(out, "edited-locked", "routing.html"), "utf8");
    expect(html).toContain("Autograded score: <b>2 / 5</b>");
    expect(html).toContain("edited locked cell gate-check");
    expect(JSON.parse(readFileSync(join(out, "kernel-killed", "routing.json"), "utf8"))).toMatchObject({
      student: "kernel-killed",
      autoScore: 3,
    });
  }, 600_000);
});
