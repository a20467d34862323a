// The PyTorch twin of the lab's KV-cached decoding (scripts/bench_serve_torch.py, Debian's python3-torch): the lab
// model's weights go over by parameter name, the twin's greedy decode returns its logits and tokens for a check, and
// its decode tokens/s at given batch sizes for the benchmark. Reference: lib/bench/torch.ts (the training twin).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { DEFAULT_TORCH_CONFIG } from "../bench/torch";
import type { TransformerLM } from "../model";
import { repoRoot } from "../repo-root";

/** What to ask the twin. */
export interface TwinRequest {
  /** Greedy-decode these equal-length prompts for `steps` tokens and return every step's logits. */
  check: { prompts: number[][]; steps: number } | null;
  /** Decode tokens/s per batch size (random prompts of inputLen, outputLen tokens, after warm-up runs). */
  bench: { batches: number[]; inputLen: number; outputLen: number; warmup: number; repeats: number } | null;
  /** torch.set_num_threads. */
  threads: number;
}

/** The twin's reply. */
export interface TwinReply {
  torch: string;
  threads: number;
  check: { logits: number[][][]; tokens: number[][] } | null;
  bench: { batch: number; decode_tokens_per_s: number[]; prefill_ms: number[] }[] | null;
}

/** The twin script's path. */
export function torchServeScript(): string {
  return path.join(repoRoot(), "scripts", "bench_serve_torch.py");
}

/** Runs the twin on `model`'s weights (dense MHA models; the script names unsupported settings). */
export function torchTwinDecode(
  model: TransformerLM,
  request: TwinRequest,
  python = DEFAULT_TORCH_CONFIG.python,
): TwinReply {
  const weights = Object.fromEntries([...model.namedParameters()].map(([name, v]) => [name, Array.from(v.dataSync())]));
  const input = JSON.stringify({ model: model.config, weights, ...request });
  const env = { ...process.env, OMP_WAIT_POLICY: DEFAULT_TORCH_CONFIG.ompWaitPolicy ?? "" };
  const out = spawnSync(python, [torchServeScript()], {
    input,
    env,
    encoding: "utf8",
    maxBuffer: 1 << 30,
    timeout: DEFAULT_TORCH_CONFIG.timeoutMs,
  });
  if (out.error) throw new Error(`torchTwinDecode: ${python} failed to start: ${out.error.message}`);
  if (out.status !== 0)
    throw new Error(
      `torchTwinDecode: the twin exited with status ${out.status}: ${out.stderr.trim().split("\n").slice(-3).join(" | ")}`,
    );
  return JSON.parse(out.stdout) as TwinReply;
}
