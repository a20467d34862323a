// Benchmark workloads: the GEMM shapes and train steps `npm run bench` measures on every engine, grouped in suites.
// Reference: the list (GEMM 256³…2048³, transformer-shaped GEMMs, MLP and tiny-transformer train steps).
import { gemmFlops, lmStepFlops, mlpStepFlops } from "../flops";
import { DENSE_LM, LmFitConfig, MOE_LM, lmFitConfig } from "./models/lm-fit";
import { DEFAULT_MLP_CONFIG, MlpConfig, mlpConfig, mlpWidths } from "./models/mlp";
import {
  DEFAULT_TRANSFORMER_CONFIG,
  TransformerConfig,
  TransformerPatch,
  transformerConfig,
} from "./models/transformer";
import { withDefaults } from "../check";

/**
 * Suites, in run order: square GEMMs, transformer-shaped GEMMs, MLP train step, tiny-transformer train step, and the
 * lab's TransformerLM (dense and MoE) trained through lab.train.fit (tokens/s and cores used are what to read there).
 */
export const SUITES = ["gemm", "tgemm", "mlp", "transformer", "lm"] as const;
export type SuiteName = (typeof SUITES)[number];

/** C[b] (m×n) = op(A[b]) · op(B[b]) for b < batch; A is stored k×m when transposed (m×k otherwise), B n×k or k×n. */
export interface GemmShape {
  batch: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** What one case runs. */
export type Workload =
  | { kind: "gemm"; shape: GemmShape }
  | { kind: "mlp"; config: MlpConfig }
  | { kind: "transformer"; config: TransformerConfig }
  | { kind: "lm-fit"; config: LmFitConfig };

/** One measured row of the table. */
export interface BenchCase {
  /** Stable key (bench.json, targets). */
  id: string;
  suite: SuiteName;
  /** Row label in the table. */
  label: string;
  /** Short label (chart axis). */
  short: string;
  /** Floating-point operations of one call (matmuls only for train steps: forward + 2× backward). */
  flops: number;
  /** Tokens one call trains on (suite "lm": tokens/s = tokens / time). */
  tokens?: number;
  workload: Workload;
}

/** Which cases to build. */
export interface CaseOptions {
  /** Square GEMM sizes n (n×n×n). */
  gemmSizes: readonly number[];
  /** Model shapes the transformer-shaped GEMMs and the transformer step use (merged by transformerConfig). */
  transformer: TransformerPatch;
  /** The MLP of the MLP step. */
  mlp: MlpConfig;
  /** The LM-through-fit cases (suite "lm"): dense and MoE. */
  lm: readonly LmFitConfig[];
  /** Suites to include (all when empty). */
  only: readonly SuiteName[];
}

/** All four suites, GEMM 256³…2048³, the default models. */
export const DEFAULT_CASE_OPTIONS: Readonly<CaseOptions> = Object.freeze({
  gemmSizes: Object.freeze([256, 512, 1024, 2048]),
  transformer: DEFAULT_TRANSFORMER_CONFIG,
  mlp: DEFAULT_MLP_CONFIG,
  lm: Object.freeze([lmFitConfig(DENSE_LM), lmFitConfig(MOE_LM)]),
  only: Object.freeze([]),
});

function gemm(
  id: string,
  suite: SuiteName,
  short: string,
  label: string,
  shape: Omit<GemmShape, "transposeA" | "transposeB"> & Partial<GemmShape>,
): BenchCase {
  const full: GemmShape = { transposeA: false, transposeB: false, ...shape };
  return { id, suite, label, short, flops: gemmFlops(full), workload: { kind: "gemm", shape: full } };
}

/**
 * The GEMMs of one transformer train step (N = B·T tokens, d, FFN hidden f, h heads of dh): the FFN projections
 * forward, their backward products (dW = Xᵀ·dY: transposed A; dX = dY·Wᵀ: transposed B), the fused QKV projection,
 * and batched attention over B·h.
 */
export function transformerGemms(c: TransformerConfig): BenchCase[] {
  const N = c.batchSize * c.seqLen;
  const { dim: d, ffnHidden: f, nHeads } = c.model;
  const bh = c.batchSize * nHeads;
  const T = c.seqLen;
  const dh = d / nHeads;
  const s = "tgemm";
  return [
    gemm("qkv", s, "QKV", `QKV [BT,d]·[d,3d] ${N}×${d}×${3 * d}`, { batch: 1, m: N, n: 3 * d, k: d }),
    gemm("mlp-up", s, "MLP up", `MLP up [BT,d]·[d,f] ${N}×${d}×${f}`, { batch: 1, m: N, n: f, k: d }),
    gemm("mlp-down", s, "MLP down", `MLP down [BT,f]·[f,d] ${N}×${f}×${d}`, { batch: 1, m: N, n: d, k: f }),
    gemm("mlp-up-dw", s, "dW up (Aᵀ)", `dW up [BT,d]ᵀ·[BT,f] ${d}×${N}×${f}`, {
      batch: 1,
      m: d,
      n: f,
      k: N,
      transposeA: true,
    }),
    gemm("mlp-up-dx", s, "dX up (Bᵀ)", `dX up [BT,f]·[d,f]ᵀ ${N}×${f}×${d}`, {
      batch: 1,
      m: N,
      n: d,
      k: f,
      transposeB: true,
    }),
    gemm("attn-scores", s, "attn QK", `attn [Bh,T,dh]·[Bh,dh,T] ${bh}×${T}×${dh}×${T}`, {
      batch: bh,
      m: T,
      n: T,
      k: dh,
    }),
    gemm("attn-qkt", s, "attn QKᵀ", `attn QKᵀ [Bh,T,dh]·[Bh,T,dh]ᵀ`, {
      batch: bh,
      m: T,
      n: T,
      k: dh,
      transposeB: true,
    }),
    gemm("attn-pv", s, "attn PV", `attn PV [Bh,T,T]·[Bh,T,dh]`, { batch: bh, m: T, n: dh, k: T }),
  ];
}

/** The cases of the selected suites, in run order. */
export function benchCases(options: Partial<CaseOptions> = {}): BenchCase[] {
  const o: CaseOptions = withDefaults("benchCases(options)", DEFAULT_CASE_OPTIONS, options);
  for (const s of o.only)
    if (!(SUITES as readonly string[]).includes(s))
      throw new Error(`benchCases(options.only): unknown suite "${s}"; expected one of ${SUITES.join(", ")}`);
  o.gemmSizes.forEach((n, i) => {
    if (!Number.isSafeInteger(n) || n < 1)
      throw new Error(`benchCases(options.gemmSizes[${i}]): expected a positive integer, got ${n}`);
  });
  const mlp = mlpConfig(o.mlp);
  const tr = transformerConfig(o.transformer);
  const want = (s: SuiteName) => o.only.length === 0 || o.only.includes(s);
  const cases: BenchCase[] = [];
  if (want("gemm"))
    for (const n of o.gemmSizes)
      cases.push(gemm(`gemm-${n}`, "gemm", `GEMM ${n}³`, `GEMM ${n}³`, { batch: 1, m: n, n, k: n }));
  if (want("tgemm")) cases.push(...transformerGemms(tr));
  if (want("mlp")) {
    const w = mlpWidths(mlp).join("→");
    cases.push({
      id: "mlp-step",
      suite: "mlp",
      label: `MLP step ${w} B=${mlp.batchSize}`,
      short: "MLP step",
      flops: mlpStepFlops(mlpWidths(mlp), mlp.batchSize),
      workload: { kind: "mlp", config: mlp },
    });
  }
  if (want("transformer")) {
    const m = tr.model;
    const label = `transformer step d=${m.dim} h=${m.nHeads} L=${m.nLayers} T=${tr.seqLen} B=${tr.batchSize}`;
    const flops = lmStepFlops(m, tr.batchSize, tr.seqLen);
    cases.push({
      id: "transformer-step",
      suite: "transformer",
      label,
      short: "transformer step",
      flops,
      workload: { kind: "transformer", config: tr },
    });
  }
  if (want("lm")) {
    for (const lc of o.lm) {
      const m = lc.model;
      const kind =
        m.ffn === "moe"
          ? `MoE ${m.moe.nRouted}e top-${m.moe.topK} + ${m.moe.nShared} shared ×${m.moe.expertHidden}`
          : `dense SwiGLU ${m.ffnHidden}`;
      const attn =
        m.attention === "mla"
          ? "MLA"
          : m.nKVHeads !== null && m.nKVHeads !== m.nHeads
            ? `GQA ${m.nKVHeads} KV heads`
            : "MHA";
      const label = `TransformerLM ${attn}, ${kind} via fit: d=${m.dim} h=${m.nHeads} L=${m.nLayers} T=${lc.seqLen} B=${lc.batchSize}, ${lc.steps} steps`;
      const id = `lm-${m.ffn}`;
      cases.push({
        id,
        suite: "lm",
        label,
        short: `LM ${m.ffn} (fit)`,
        flops: lc.steps * lmStepFlops(m, lc.batchSize, lc.seqLen),
        tokens: lc.steps * lc.batchSize * lc.seqLen,
        workload: { kind: "lm-fit", config: lc },
      });
    }
  }
  return cases;
}
