// Argument checks shared by every module: each throws an Error naming the function, the argument and what was expected.

/** Throws unless `value` is a positive integer. */
export function checkPositiveInt(fn: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${fn}: ${name} must be a positive integer, got ${value}`);
}

/** Throws unless `value` is a finite number in [min, max] (inclusive). */
export function checkRange(fn: string, name: string, value: number, min: number, max: number): void {
  if (!(typeof value === "number" && Number.isFinite(value) && value >= min && value <= max)) {
    throw new Error(`${fn}: ${name} must be a finite number in [${min}, ${max}], got ${value}`);
  }
}

/**
 * One dimension of an expected shape: a size (16), a name that matches any size ("B", "tokens"), or a named size
 * ({ dim: 16 } shows as "dim=16").
 */
export type Dim = number | string | Readonly<Record<string, number>>;

function dimLabel(d: Dim): string {
  if (typeof d === "number" || typeof d === "string") return String(d);
  const [[name, size]] = Object.entries(d);
  return `${name}=${size}`;
}

function dimSize(d: Dim): number | null {
  return typeof d === "number" ? d : typeof d === "string" ? null : Object.values(d)[0];
}

/**
 * Throws unless `shape` matches `expected` (see Dim); the error names the dimensions, e.g.
 * `MoELayer.forward: x must have shape [tokens, dim=16], got [3, 8] (dim is 8)`.
 */
export function checkShape(fn: string, name: string, shape: readonly number[], expected: readonly Dim[]): void {
  const sizes = expected.map(dimSize);
  const ok = shape.length === expected.length && sizes.every((e, i) => e === null || e === shape[i]);
  if (!ok) {
    const want = expected.map(dimLabel).join(", ");
    const wrong =
      shape.length !== expected.length
        ? `rank ${shape.length}, expected ${expected.length}`
        : expected
            .flatMap((d, i) =>
              sizes[i] !== null && sizes[i] !== shape[i]
                ? [`${typeof d === "number" ? `dimension ${i}` : Object.keys(d)[0]} is ${shape[i]}`]
                : [],
            )
            .join(", ");
    throw new Error(`${fn}: ${name} must have shape [${want}], got [${shape.join(", ")}] (${wrong})`);
  }
}

/**
 * Throws unless every key of `config` is one of `valid` (an unknown key is usually a misspelt or misplaced option
 * that would otherwise be ignored); the error names the key and lists the valid ones.
 */
export function checkKeys(fn: string, name: string, config: object | null | undefined, valid: Iterable<string>): void {
  if (config === undefined || config === null) return;
  if (typeof config !== "object" || Array.isArray(config))
    throw new Error(`${fn}: ${name} must be an object, got ${Array.isArray(config) ? "an array" : typeof config}`);
  const known = new Set(valid);
  for (const key of Object.keys(config)) {
    if (!known.has(key)) throw new Error(`${fn}: unknown ${name} key "${key}"; valid keys: ${[...known].join(", ")}`);
  }
}

/**
 * `config` merged over `defaults` (a shallow copy), after checking that `config` has only keys of `defaults` (plus
 * `extra`: optional keys without a default). The one way configs are resolved.
 */
export function withDefaults<T extends object, C extends object = Partial<T>>(
  fn: string,
  defaults: Readonly<T>,
  config: C | null | undefined,
  extra: readonly string[] = [],
  name = "config",
): T & C {
  checkKeys(fn, name, config, [...Object.keys(defaults), ...extra]);
  return { ...defaults, ...config } as T & C;
}
