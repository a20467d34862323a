// The one verdict rule: every claim row's verdict comes from these functions, applied to values measured in the run.
// Notebooks never type a verdict (test/run/no-typed-verdicts.test.ts); the rule is documented in docs/claims.md.

/**
 * How a measurement compares with a claim:
 * - "reproduced": the measurement agrees with the claim (a comparison: beyond the seed-to-seed noise);
 * - "partly": the direction holds but the size differs, or it holds only in some settings (checkRange's partly band);
 * - "not reproduced": the measurement contradicts the claim (a comparison: the other way, beyond noise);
 * - "not measured": a quick run (unlessQuick), or reported data out of reach on this machine (outOfReach);
 * - "within noise": a comparison whose measured effect does not exceed the seed-to-seed noise (comparePaired);
 * - "by construction": an identity the code guarantees (byConstruction: shown, never counted as evidence).
 */
export const VERDICTS = Object.freeze([
  "reproduced",
  "partly",
  "not reproduced",
  "not measured",
  "within noise",
  "by construction",
] as const);
export type Verdict = (typeof VERDICTS)[number];

/** A full-budget claim's verdict: "not measured" in a quick run (a smoke test's numbers decide nothing), else `verdict`. */
export function unlessQuick(quick: boolean, verdict: Verdict): Verdict {
  if (typeof quick !== "boolean") throw new Error(`unlessQuick(quick, verdict): quick must be a boolean, got ${quick}`);
  if (!VERDICTS.includes(verdict)) throw new Error(`unlessQuick(quick, verdict): unknown verdict ${String(verdict)}`);
  return quick ? "not measured" : verdict;
}

/** Two-sided 95% Student-t critical values t(0.975, df) for df = 1 … 30 (beyond 30 the normal 1.96 is within 2%). */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** A paired comparison of two arms over the same seeds, and its verdict. */
export interface PairedComparison {
  /** Seeds (pairs). */
  n: number;
  /** Mean of a − b over the seeds. */
  diff: number;
  /** Standard error of that mean (Infinity with one seed). */
  se: number;
  /** 95% interval of the mean difference (Student t, n − 1 degrees of freedom). */
  ci95: [number, number];
  /** The shared rule: see comparePaired. */
  verdict: Verdict;
}

/**
 * The rule for comparisons (seeds, or repeated timings paired by repeat): arm `a` and arm `b` measured on the same
 * seeds (`a[i]`, `b[i]` from seed i), and the claim that a's value is `claimed` ("lower" or "higher") than b's.
 * - "reproduced" when the 95% interval of the paired difference a − b lies entirely on the claimed side of 0;
 * - "not reproduced" when it lies entirely on the other side (the effect goes the other way beyond noise);
 * - "within noise" when it contains 0;
 * - "not measured" with fewer than two seeds (one seed has no noise band: a quick run decides nothing).
 * `margin` (≥ 0, in a's units) demands the effect exceed it: a "lower" claim needs the interval below −margin.
 */
export function comparePaired(
  a: readonly number[],
  b: readonly number[],
  claimed: "lower" | "higher",
  margin = 0,
): PairedComparison {
  const fn = "comparePaired(a, b, claimed)";
  if (a.length !== b.length || a.length === 0)
    throw new Error(
      `${fn}: a and b must be equally long, non-empty (one value per seed), got ${a.length} and ${b.length}`,
    );
  if (![...a, ...b].every(Number.isFinite)) throw new Error(`${fn}: every value must be a finite number`);
  if (claimed !== "lower" && claimed !== "higher")
    throw new Error(`${fn}: claimed must be "lower" or "higher", got ${String(claimed)}`);
  if (!(Number.isFinite(margin) && margin >= 0))
    throw new Error(`${fn}: margin must be a finite number ≥ 0, got ${margin}`);
  const n = a.length;
  const d = a.map((x, i) => x - b[i]);
  const diff = d.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { n, diff, se: Infinity, ci95: [-Infinity, Infinity], verdict: "not measured" };
  const se = Math.sqrt(d.reduce((s, x) => s + (x - diff) ** 2, 0) / (n - 1) / n);
  const half = (T95[n - 2] ?? 1.96) * se;
  const ci95: [number, number] = [diff - half, diff + half];
  const [lo, hi] = claimed === "lower" ? [-ci95[1], -ci95[0]] : ci95; // the claimed direction made positive
  const verdict: Verdict = lo > margin ? "reproduced" : hi < 0 ? "not reproduced" : "within noise";
  return { n, diff, se, ci95, verdict };
}

/** A closed interval [min, max]; a missing end is unbounded. */
export interface ClaimRange {
  min?: number;
  max?: number;
}

function checkRangeArg(fn: string, name: string, r: ClaimRange | undefined): void {
  if (r === undefined) return;
  if (r === null || typeof r !== "object") throw new Error(`${fn}: ${name} must be { min?, max }, got ${String(r)}`);
  const { min = -Infinity, max = Infinity } = r;
  if (Number.isNaN(min) || Number.isNaN(max) || typeof min !== "number" || typeof max !== "number" || min > max)
    throw new Error(`${fn}: ${name} must be { min?, max } with numbers min ≤ max, got ${JSON.stringify(r)}`);
  if (r.min === undefined && r.max === undefined) throw new Error(`${fn}: ${name} needs min, max or both`);
}

/** Validates a claimed range and, when given, a partly range that contains it; errors name `fn`. */
function checkRanges(fn: string, claimed: ClaimRange, partly: ClaimRange | undefined): void {
  checkRangeArg(fn, "claimed", claimed);
  checkRangeArg(fn, "partly", partly);
  if (
    partly &&
    !((partly.min ?? -Infinity) <= (claimed.min ?? -Infinity) && (partly.max ?? Infinity) >= (claimed.max ?? Infinity))
  )
    throw new Error(`${fn}: partly ${JSON.stringify(partly)} must contain claimed ${JSON.stringify(claimed)}`);
}

function inside(x: number, r: ClaimRange): boolean {
  return x >= (r.min ?? -Infinity) && x <= (r.max ?? Infinity);
}

/**
 * The rule for one deterministic measurement (a formula's value, a size, a ratio of medians): "reproduced" when
 * `measured` lies in the claimed range, "partly" when it lies only in the wider `partly` range (which must contain
 * the claimed one), else "not reproduced". A measurement that is not a finite number is "not reproduced".
 */
export function checkRange(measured: number, claimed: ClaimRange, partly?: ClaimRange): Verdict {
  const fn = "checkRange(measured, claimed, partly)";
  if (typeof measured !== "number") throw new Error(`${fn}: measured must be a number, got ${typeof measured}`);
  checkRanges(fn, claimed, partly);
  if (!Number.isFinite(measured)) return "not reproduced";
  return inside(measured, claimed) ? "reproduced" : partly && inside(measured, partly) ? "partly" : "not reproduced";
}

/** The range within a relative tolerance of `target`: near(5.576e6, 0.01) is 5.576e6 ± 1%. */
export function near(target: number, relTolerance: number): ClaimRange {
  if (!Number.isFinite(target)) throw new Error(`near(target, relTolerance): target must be finite, got ${target}`);
  if (!(Number.isFinite(relTolerance) && relTolerance >= 0))
    throw new Error(`near(target, relTolerance): relTolerance must be a finite number ≥ 0, got ${relTolerance}`);
  const a = target * (1 - relTolerance);
  const b = target * (1 + relTolerance);
  return { min: Math.min(a, b), max: Math.max(a, b) };
}

/**
 * The rule for a measured yes/no outcome (a run solved the task, a plan fits, two outputs are identical): "reproduced"
 * when `holds`, else "partly" when the weaker `partlyHolds`, else "not reproduced". Both must be computed from the run.
 */
export function holds(condition: boolean, partlyHolds = false): Verdict {
  if (typeof condition !== "boolean" || typeof partlyHolds !== "boolean")
    throw new Error(
      `holds(condition, partlyHolds): both must be booleans, got ${typeof condition}, ${typeof partlyHolds}`,
    );
  return condition ? "reproduced" : partlyHolds ? "partly" : "not reproduced";
}

/**
 * An identity the code guarantees (Σ of V3's gate weights = route scale, NMI ∈ [0, 1]): "by construction" when it
 * holds, which the report never counts as evidence; "not reproduced" when it fails (then the code is wrong).
 */
export function byConstruction(identityHolds: boolean): Verdict {
  if (typeof identityHolds !== "boolean")
    throw new Error(`byConstruction(identityHolds): expected a boolean, got ${typeof identityHolds}`);
  return identityHolds ? "by construction" : "not reproduced";
}

/**
 * A claim shown as reported data that this machine cannot measure (closed-model benchmark scores, a 2048-GPU
 * cluster's wall clock): "not measured". `reason` says why, and must be non-empty; put it in the row's note.
 */
export function outOfReach(reason: string): Verdict {
  if (typeof reason !== "string" || reason.trim() === "")
    throw new Error("outOfReach(reason): reason must be a non-empty string saying why this cannot be measured here");
  return "not measured";
}

/**
 * The rule for a size claim measured over seeds ("costs ~0.3 points", "within 0.25%"): `ci95` is the 95% interval of
 * the measured quantity (comparePaired's ci95 for a paired difference). "reproduced" when the interval lies inside
 * the claimed range; "within noise" when it straddles an end of it; outside it, "partly" when the interval lies
 * inside the wider `partly` range, else "not reproduced". An unbounded interval (one seed) is "not measured".
 */
export function checkInterval(ci95: readonly [number, number], claimed: ClaimRange, partly?: ClaimRange): Verdict {
  const fn = "checkInterval(ci95, claimed, partly)";
  if (!Array.isArray(ci95) || ci95.length !== 2 || ci95.some((x) => typeof x !== "number" || Number.isNaN(x)))
    throw new Error(`${fn}: ci95 must be [lo, hi] numbers, got ${JSON.stringify(ci95)}`);
  const [lo, hi] = ci95;
  if (lo > hi) throw new Error(`${fn}: ci95 must have lo ≤ hi, got [${lo}, ${hi}]`);
  checkRanges(fn, claimed, partly);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return "not measured";
  if (inside(lo, claimed) && inside(hi, claimed)) return "reproduced";
  if (hi >= (claimed.min ?? -Infinity) && lo <= (claimed.max ?? Infinity)) return "within noise";
  return partly && inside(lo, partly) && inside(hi, partly) ? "partly" : "not reproduced";
}
