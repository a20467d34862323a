// Where the benchmark's companion sources live in the repository.
import * as path from "node:path";
import { repoRoot } from "../repo-root";

/** The OpenBLAS GEMM helper's C source. */
export function openblasSource(): string {
  return path.join(repoRoot(), "native", "bench", "gemm_openblas.c");
}

/** The PyTorch benchmark script. */
export function torchScript(): string {
  return path.join(repoRoot(), "scripts", "bench_torch.py");
}
