// Argument checks shared by every module: each throws an Error naming the function, the argument and what was expected.

/** Throws unless `value` is a positive integer. */
export function checkPositiveInt(fn: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${value}`);
}

/** Throws unless `value` is a finite number in [min, max] (inclusive). */
export function checkRange(fn: string, name: string, value: number, min: number, max: number): void {
  if (!(typeof value === "number" && Number.isFinite(value) && value >= min && value <= max)) {
    throw new Error(`${fn}: ${name} must be a finite number in [${min}, ${max}], got ${value}`);
  }
}

/** Throws unless `shape` equals `expected`; null entries in `expected` match any size. */
export function checkShape(fn: string, name: string, shape: readonly number[], expected: readonly (number | null)[]): void {
  const ok = shape.length === expected.length && expected.every((e, i) => e === null || e === shape[i]);
  if (!ok) {
    const want = expected.map((e, i) => (e === null ? `d${i}` : String(e))).join(", ");
    throw new Error(`${fn}: ${name} must have shape [${want}], got [${shape.join(", ")}]`);
  }
}
