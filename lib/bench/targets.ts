// The issue's speed targets as ratios measured in the same run, and the speedup arithmetic behind the table.
import { ENGINE_TITLES, EngineName } from "./engine";
import type { Measurement } from "./run";

/** A target: `engine` on `caseId` at least `atLeast` times as fast as `over`, or at least `atLeast` of the measured peak. */
export type Target = {
  id: string;
  /** The sentence printed with PASS/FAIL. */
  text: string;
  caseId: string;
  engine: EngineName;
  atLeast: number;
} & ({ kind: "speedup"; over: EngineName } | { kind: "peak" });

/** The targets of issues 3 (native backend) and 14 (the lab's own models through fit). */
export const TARGETS: readonly Target[] = Object.freeze([
  {
    id: "gemm1024-torch",
    text: "GEMM 1024³: native ≥ 1.0× PyTorch",
    caseId: "gemm-1024",
    engine: "native",
    kind: "speedup",
    over: "torch",
    atLeast: 1,
  },
  {
    id: "gemm1024-peak",
    text: "GEMM 1024³: native ≥ 90% of measured peak",
    caseId: "gemm-1024",
    engine: "native",
    kind: "peak",
    atLeast: 0.9,
  },
  {
    id: "mlp-cpu",
    text: "MLP train step: native ≥ 50× tfjs cpu",
    caseId: "mlp-step",
    engine: "native",
    kind: "speedup",
    over: "cpu",
    atLeast: 50,
  },
  {
    id: "mlp-wasm",
    text: "MLP train step: native ≥ 10× tfjs wasm",
    caseId: "mlp-step",
    engine: "native",
    kind: "speedup",
    over: "wasm",
    atLeast: 10,
  },
  {
    id: "transformer-torch",
    text: "tiny-transformer train step: native ≥ 1.0× PyTorch eager",
    caseId: "transformer-step",
    engine: "native",
    kind: "speedup",
    over: "torch",
    atLeast: 1,
  },
  {
    id: "lm-dense-torch-floor",
    text: "TransformerLM dense through fit: native ≥ 1.2× PyTorch (issue 14 floor)",
    caseId: "lm-dense",
    engine: "native",
    kind: "speedup",
    over: "torch",
    atLeast: 1.2,
  },
  {
    id: "lm-dense-torch",
    text: "TransformerLM dense through fit: native ≥ 1.5× PyTorch (issue 14 target)",
    caseId: "lm-dense",
    engine: "native",
    kind: "speedup",
    over: "torch",
    atLeast: 1.5,
  },
  {
    id: "lm-moe-torch-floor",
    text: "TransformerLM MoE through fit: native ≥ 1.2× PyTorch (issue 14 floor)",
    caseId: "lm-moe",
    engine: "native",
    kind: "speedup",
    over: "torch",
    atLeast: 1.2,
  },
  {
    id: "lm-moe-torch",
    text: "TransformerLM MoE through fit: native ≥ 1.5× PyTorch (issue 14 target)",
    caseId: "lm-moe",
    engine: "native",
    kind: "speedup",
    over: "torch",
    atLeast: 1.5,
  },
] as Target[]);

/** A target's outcome. */
export interface TargetResult {
  id: string;
  text: string;
  status: "pass" | "fail" | "n/a";
  /** The measured ratio (speedup, or fraction of peak), null when not measured. */
  measured: number | null;
  required: number;
  /** Why "n/a", or the numbers behind the ratio. */
  note: string;
}

function find(ms: readonly Measurement[], caseId: string, engine: EngineName): Measurement | undefined {
  return ms.find((m) => m.caseId === caseId && m.engine === engine);
}

/** Why a cell has no usable time, or null when it has one. */
function missing(m: Measurement | undefined, engine: EngineName): string | null {
  if (!m) return `${ENGINE_TITLES[engine]} not measured in this run`;
  if (m.status !== "ok") return `${ENGINE_TITLES[engine]} ${m.status}${m.note ? ` (${m.note})` : ""}`;
  return null;
}

/** How many times faster `engine` ran `caseId` than `baseline` (baseline median / engine median); null if either is missing. */
export function speedup(
  ms: readonly Measurement[],
  caseId: string,
  engine: EngineName,
  baseline: EngineName,
): number | null {
  const a = find(ms, caseId, engine);
  const b = find(ms, caseId, baseline);
  if (missing(a, engine) || missing(b, baseline)) return null;
  return b!.timing!.median / a!.timing!.median;
}

/** Fraction of `peakGflops` that `engine` reached on `caseId`; null if not measured. */
export function peakFraction(
  ms: readonly Measurement[],
  caseId: string,
  engine: EngineName,
  peakGflops: number,
): number | null {
  const m = find(ms, caseId, engine);
  return missing(m, engine) ? null : m!.gflops! / peakGflops;
}

/** Evaluates `targets` on the measurements. */
export function evaluateTargets(
  ms: readonly Measurement[],
  peakGflops: number,
  targets: readonly Target[] = TARGETS,
): TargetResult[] {
  return targets.map((t) => {
    const base = { id: t.id, text: t.text, required: t.atLeast };
    const why =
      missing(find(ms, t.caseId, t.engine), t.engine) ??
      (t.kind === "speedup" ? missing(find(ms, t.caseId, t.over), t.over) : null);
    if (why) return { ...base, status: "n/a", measured: null, note: why };
    const measured =
      t.kind === "speedup"
        ? speedup(ms, t.caseId, t.engine, t.over)!
        : peakFraction(ms, t.caseId, t.engine, peakGflops)!;
    const note =
      t.kind === "speedup"
        ? `${measured.toFixed(2)}× (${ENGINE_TITLES[t.engine]} ${find(ms, t.caseId, t.engine)!.timing!.median.toFixed(2)} ms, ` +
          `${ENGINE_TITLES[t.over]} ${find(ms, t.caseId, t.over)!.timing!.median.toFixed(2)} ms)`
        : `${(measured * 100).toFixed(1)}% (${find(ms, t.caseId, t.engine)!.gflops!.toFixed(1)} of ${peakGflops.toFixed(1)} GFLOP/s)`;
    return { ...base, status: measured >= t.atLeast ? "pass" : "fail", measured, note };
  });
}

/** "PASS  GEMM 1024³: … — 1.05× (…)" lines. */
export function targetLines(results: readonly TargetResult[]): string[] {
  return results.map((r) => `${r.status.toUpperCase().padEnd(4)}  ${r.text} — ${r.note}`);
}
