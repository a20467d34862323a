// Seeded, deterministic train/validation split of a token stream: cut into fixed-size blocks, shuffle the block
// indices with the seed, give the first ceil(valFraction·blocks) to validation; each side keeps its blocks in corpus
// order. Blocks (not single windows) keep validation text unseen in training except across a block edge.
// Reference: nanoGPT's prepare.py (a 90/10 split of the stream), made seeded and block-shuffled.
import { checkPositiveInt, withDefaults } from "../check";
import { Rng } from "../random";

/** Split settings. */
export interface SplitConfig {
  /** Fraction of blocks that go to validation, in (0, 1). */
  valFraction: number;
  /** Tokens per block. */
  blockSize: number;
  /** Seed of the block shuffle. */
  seed: number;
}

/** 10% validation in blocks of 4096 tokens, seed 0. */
export const DEFAULT_SPLIT: Readonly<SplitConfig> = Object.freeze({ valFraction: 0.1, blockSize: 4096, seed: 0 });

/** The two sides of a split. */
export interface Split {
  train: Int32Array;
  val: Int32Array;
}

/** Splits `tokens` into train and validation streams; the same config always gives the same split. */
export function splitTokens(tokens: Int32Array, config: Partial<SplitConfig> = {}): Split {
  const cfg = withDefaults("splitTokens(tokens, config)", DEFAULT_SPLIT, config);
  const fn = "splitTokens(tokens, config)";
  checkPositiveInt(fn, "config.blockSize", cfg.blockSize);
  if (!(cfg.valFraction > 0 && cfg.valFraction < 1))
    throw new Error(`${fn}: config.valFraction must be in (0, 1), got ${cfg.valFraction}`);
  const blocks = Math.ceil(tokens.length / cfg.blockSize);
  if (blocks < 2)
    throw new Error(
      `${fn}: ${tokens.length} tokens make ${blocks} block(s) of ${cfg.blockSize}; need at least 2 (lower config.blockSize)`,
    );
  const nVal = Math.min(blocks - 1, Math.ceil(cfg.valFraction * blocks));
  const order = new Rng(cfg.seed).shuffle(Array.from({ length: blocks }, (_, i) => i));
  const isVal = new Uint8Array(blocks);
  for (const b of order.slice(0, nVal)) isVal[b] = 1;
  const gather = (want: number): Int32Array => {
    const parts: Int32Array[] = [];
    for (let b = 0; b < blocks; b++)
      if (isVal[b] === want) parts.push(tokens.subarray(b * cfg.blockSize, (b + 1) * cfg.blockSize));
    const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  return { train: gather(0), val: gather(1) };
}
