// Generated text of a given size: whole lines from a seeded generator, as many as fit in `bytes`. The text is built
// in memory (an array of lines, then one string), so the size is bounded: 2^31 bytes exhausted Node's heap and killed
// the kernel; above MAX_GENERATED_BYTES is a named error instead. Reference: V8's string length limit (2^29 − 24
// UTF-16 units) and default old-space size (~2–4 GB) — 128 MiB of short lines stays well inside both.

/** The largest `bytes` a text generator accepts (128 MiB). */
export const MAX_GENERATED_BYTES = 2 ** 27;

/** Lines from `next()` (each ending in "\n") while the total stays within `bytes`; errors name `fn` and `bytes`. */
export function linesWithin(fn: string, bytes: number, next: () => string): string {
  if (!(Number.isSafeInteger(bytes) && bytes >= 1 && bytes <= MAX_GENERATED_BYTES)) {
    throw new Error(
      `${fn}: bytes must be an integer in [1, ${MAX_GENERATED_BYTES}] (128 MiB; the text is built in memory), got ${bytes}`,
    );
  }
  const lines: string[] = [];
  let size = 0;
  for (;;) {
    const line = next();
    if (size + line.length > bytes) break;
    lines.push(line);
    size += line.length;
  }
  return lines.join("");
}
