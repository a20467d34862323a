// The OpenBLAS helper: compiles with gcc + libopenblas-dev, computes C = op(A)·op(B) correctly for every transpose
// combination on a small odd-sized case, prints valid bench JSON, and the engine says "not installed" when it cannot build.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { compileOpenblasHelper, openblasBench, openblasCheck, openblasEngine } from "../../lib/bench/openblas";
import { benchCases } from "../../lib/bench/workloads";

/** The helper's fill (documented in native/bench/gemm_openblas.c). */
const fillA = (i: number) => (((7 * i + 3) % 17) - 8) / 8;
const fillB = (i: number) => (((5 * i + 1) % 13) - 6) / 6;

/** float64 reference of op(A)·op(B), A stored k×m when transposed (else m×k), B n×k when transposed (else k×n). */
function reference(m: number, n: number, k: number, ta: boolean, tb: boolean): number[] {
  const c: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += fillA(ta ? p * m + i : i * k + p) * fillB(tb ? j * k + p : p * n + j);
      c.push(s);
    }
  }
  return c;
}

describe("OpenBLAS helper", () => {
  let dir: string;
  let exe: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "moelab-openblas-test-"));
    exe = await compileOpenblasHelper(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("computes op(A)·op(B) for all four transpose combinations", async () => {
    const [m, n, k] = [5, 3, 7];
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const got = await openblasCheck(exe, { m, n, k, transposeA: ta, transposeB: tb });
        const want = reference(m, n, k, ta, tb);
        expect(got).toHaveLength(m * n);
        got.forEach((v, i) => expect(v, `transposeA=${ta} transposeB=${tb} element ${i}`).toBeCloseTo(want[i], 5));
      }
    }
  });

  it("times the requested repeats of a batched GEMM and names its build", async () => {
    const r = await openblasBench(
      exe,
      { batch: 3, m: 16, n: 8, k: 4, transposeA: false, transposeB: true },
      { warmup: 1, warmupMs: 0, repeats: 4 },
      { threads: 2 },
    );
    expect(r.samples_ms).toHaveLength(4);
    for (const s of r.samples_ms) expect(s).toBeGreaterThanOrEqual(0);
    expect(r.config).toMatch(/OpenBLAS \d+\.\d+/);
    expect(r.threads).toBeGreaterThanOrEqual(1);
  });

  it("as an engine: GEMMs only, and 'not installed' when the helper cannot be built", async () => {
    const cases = benchCases({ gemmSizes: [8], only: ["gemm", "mlp"] });
    const engine = openblasEngine({ threads: 1 });
    expect(await engine.open()).toBeNull();
    try {
      expect(engine.info().openblas).toMatch(/OpenBLAS/);
      expect(engine.unsupported(cases[0])).toBeNull();
      expect(engine.unsupported(cases[1])).toBe("GEMM only");
      const r = await engine.measure(cases[0], { warmup: 0, warmupMs: 0, repeats: 2, budgetMs: 1000 });
      expect(r.samples).toHaveLength(2);
    } finally {
      await engine.close();
    }
    const broken = openblasEngine({ compiler: path.join(os.tmpdir(), "no-such-cc") });
    expect(await broken.open()).toMatch(/^not installed \(libopenblas-dev: .*no-such-cc not found\)/);
    await broken.close();
  });
});
