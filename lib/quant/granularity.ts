// Scaling granularities: which elements share one scale. Every granularity is a block layout over the tensor viewed
// as a matrix [rows, cols] (cols = the last dimension: a weight's input dimension, an activation's hidden dimension).
// Reference: DeepSeek-V3 (arXiv 2412.19437) §3.3.2 — activations 1×128 tiles, weights 128×128 blocks; GPTQ/AWQ
// INT4 g128 = 1×128 groups along the input dimension; DESIGN.md §3.

/** Which elements share a scale. */
export type Granularity =
  | { kind: "tensor" } // one scale for everything
  | { kind: "channel" } // one per row: a weight's output channel, an activation's token
  | { kind: "group"; size: number } // 1×size tiles along the last dimension (per-token 1×128; INT4 g128)
  | { kind: "block"; size: number }; // size×size blocks (DeepSeek weights 128×128)

export const PER_TENSOR: Granularity = Object.freeze({ kind: "tensor" });
export const PER_CHANNEL: Granularity = Object.freeze({ kind: "channel" });
/** DeepSeek-V3's activation tiles (and the INT4 g128 groups). */
export const TILE_1X128: Granularity = Object.freeze({ kind: "group", size: 128 });
/** DeepSeek-V3's weight blocks. */
export const BLOCK_128X128: Granularity = Object.freeze({ kind: "block", size: 128 });

/** A [rows, cols] view cut into groupRows × groupCols blocks: element (r, c) uses scale ⌊r/groupRows⌋·(cols/groupCols) + ⌊c/groupCols⌋. */
export interface BlockLayout {
  rows: number;
  cols: number;
  groupRows: number;
  groupCols: number;
  /** Number of scales: ⌈rows/groupRows⌉ · cols/groupCols. */
  blocks: number;
}

/** A short name: "tensor", "channel", "1x128", "128x128". */
export function granularityName(g: Granularity): string {
  return g.kind === "group" ? `1x${g.size}` : g.kind === "block" ? `${g.size}x${g.size}` : g.kind;
}

/**
 * The block layout of `granularity` over a tensor of `shape` (rank ≥ 1; the last dimension is cols). A group or block
 * size must be a positive integer dividing the last dimension; a block's last row strip may be short (as DeepSeek's
 * weight_dequant allows). Errors name `fn`.
 */
export function blockLayout(fn: string, shape: readonly number[], granularity: Granularity): BlockLayout {
  if (!Array.isArray(shape) || shape.length < 1 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${fn}: shape must be a list of ≥ 1 non-negative integers, got [${shape}]`);
  }
  const cols = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const g = granularity as Granularity | undefined;
  let groupRows: number;
  let groupCols: number;
  if (g?.kind === "tensor") [groupRows, groupCols] = [Math.max(rows, 1), Math.max(cols, 1)];
  else if (g?.kind === "channel") [groupRows, groupCols] = [1, Math.max(cols, 1)];
  else if (g?.kind === "group" || g?.kind === "block") {
    if (!Number.isSafeInteger(g.size) || g.size < 1 || cols % g.size !== 0) {
      throw new Error(
        `${fn}: ${g.kind} size ${g.size} must be a positive integer dividing the last dimension ${cols} (shape [${shape}])`,
      );
    }
    [groupRows, groupCols] = [g.kind === "group" ? 1 : g.size, g.size];
  } else {
    throw new Error(
      `${fn}: granularity must be {kind: "tensor" | "channel"} or {kind: "group" | "block", size}, got ${JSON.stringify(granularity)}`,
    );
  }
  return { rows, cols, groupRows, groupCols, blocks: Math.ceil(rows / groupRows) * (cols / groupCols) };
}

/** Calls visit(block, begin, end) for every run of flat indices in one row and one block, in order. */
export function forEachRun(layout: BlockLayout, visit: (block: number, begin: number, end: number) => void): void {
  const { rows, cols, groupRows, groupCols } = layout;
  const blockCols = cols / groupCols;
  for (let r = 0; r < rows; r++) {
    const base = Math.floor(r / groupRows) * blockCols;
    for (let c = 0; c < cols; c += groupCols) visit(base + c / groupCols, r * cols + c, r * cols + c + groupCols);
  }
}

/** max |x| over each block (NaN ignored; 0 for an empty or all-zero block). Native for large arrays. */
export function blockAmaxJs(x: Float32Array, layout: BlockLayout): Float32Array {
  const amax = new Float32Array(layout.blocks);
  forEachRun(layout, (b, begin, end) => {
    let m = amax[b];
    for (let i = begin; i < end; i++) {
      const a = Math.abs(x[i]);
      if (a > m) m = a;
    }
    amax[b] = m;
  });
  return amax;
}
