// Where the benchmark's companion sources live: the repository root seen from lib/bench (ts-node) or dist/lib/bench.
import { existsSync } from "node:fs";
import * as path from "node:path";

/** The repository root: the nearest folder above this file that holds scripts/bench_torch.py and native/bench/. */
export function benchRoot(): string {
  for (let dir = path.dirname(__filename); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "scripts", "bench_torch.py")) && existsSync(path.join(dir, "native", "bench"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`benchRoot(): no scripts/bench_torch.py and native/bench/ above ${__filename}`);
  }
}

/** The OpenBLAS GEMM helper's C source. */
export function openblasSource(): string {
  return path.join(benchRoot(), "native", "bench", "gemm_openblas.c");
}

/** The PyTorch benchmark script. */
export function torchScript(): string {
  return path.join(benchRoot(), "scripts", "bench_torch.py");
}
