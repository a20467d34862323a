// `npm run teach:release [-- --out DIR]`: student versions of exercises/*.ipynb (solutions stubbed, hidden tests removed,
// leak-checked). `npm run teach:grade -- <submissions-dir> [--out DIR] [--timeout S]`: autogrades
// <submissions-dir>/<student>/<lab>.ipynb, writes per-student JSON + HTML feedback and grades.csv. See docs/teaching.md.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_GRADE, gradeAll } from "../lib/teach/grade";
import { releaseAll } from "../lib/teach/release";
import { repoRoot } from "../lib/repo-root";

const USAGE = `usage: npm run teach:release -- [--exercises DIR] [--out DIR]
       npm run teach:grade -- <submissions-dir> [--exercises DIR] [--out DIR] [--timeout S]
  --exercises DIR   source versions (default ${DEFAULT_GRADE.exercisesDir})
  --out DIR         release: student versions (default release/); grade: feedback (default <submissions-dir>/../feedback)
  --timeout S       grade: seconds a cell may run (default ${DEFAULT_GRADE.cellTimeout})`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      exercises: { type: "string" },
      out: { type: "string" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || (command !== "release" && command !== "grade")) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const exercisesDir = resolve(values.exercises ?? DEFAULT_GRADE.exercisesDir);
  if (command === "release") {
    if (positionals.length)
      throw new Error(`teach release takes no positional arguments, got ${positionals.join(" ")}`);
    const out = resolve(values.out ?? join(repoRoot(), "release"));
    const names = releaseAll(exercisesDir, out);
    console.log(`released ${names.length} exercise notebooks to ${out} (no solution text leaked): ${names.join(", ")}`);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`teach grade needs one submissions directory\n${USAGE}`);
    return 2;
  }
  const timeout = values.timeout === undefined ? DEFAULT_GRADE.cellTimeout : Number(values.timeout);
  if (!(timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, got ${values.timeout}`);
  const submissions = resolve(positionals[0]);
  const out = resolve(values.out ?? join(submissions, "..", "feedback"));
  const grades = await gradeAll(submissions, out, {
    exercisesDir,
    cellTimeout: timeout,
    onProgress: (line) => console.log(line),
  });
  console.log(`graded ${grades.length} submissions; feedback and grades.csv in ${out}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error((e as Error).message);
    process.exit(1);
  },
);
