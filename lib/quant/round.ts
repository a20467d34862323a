// Rounding helpers shared by the quantizers: round half to even (IEEE 754 roundTiesToEven; JS Math.round rounds
// ties up) and exact powers of two. Reference: IEEE 754-2019 §4.3.1; DESIGN.md §3 "INT8/INT4".

/** Rounds to the nearest integer, ties to the even one (2.5 → 2, 3.5 → 4, −2.5 → −2). NaN and ±Inf pass through. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** floor(log2 |x|) exactly, for finite x ≠ 0 (Math.log2 can be off by one next to a power of two). */
export function floorLog2(x: number): number {
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/**
 * `x` rounded (to nearest, ties to even) to a binary floating-point format with `mantBits` fraction bits whose
 * smallest normal exponent is `minExp` (below it the spacing stays 2^(minExp − mantBits): subnormals). No overflow
 * handling: callers clamp. fp16: (10, −14); bf16: (7, −126).
 */
export function roundToFloat(x: number, mantBits: number, minExp: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const quantum = 2 ** (Math.max(floorLog2(x), minExp) - mantBits);
  return roundHalfEven(x / quantum) * quantum;
}
