// Forward latency of the FFN sub-layer (and optionally a whole block) of several model configurations at one width,
// timed in interleaved rounds on the same random activations. The moe-vs-dense notebook's per-layer latency table.
// Reference: the articles' per-layer latency comparison (MoE 18 ms vs dense 22 ms), re-measured on our layers.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../check";
import { randomNormal } from "../random";
import { Block } from "../model/block";
import type { LMConfig } from "../model/config";
import { ropeTables } from "../model/rope";
import { timeInterleaved, type TimedCall } from "./interleaved";

/** What to time. */
export interface FfnLatencyConfig {
  /** Tokens per forward (a multiple of seqLen). */
  tokens: number;
  /** Sequence length of the whole-block input [tokens/seqLen, seqLen, d]. */
  seqLen: number;
  /** Timed interleaved rounds (after two warmup rounds). */
  rounds: number;
  /** Also time block 0 as a whole (attention + FFN). */
  wholeBlock: boolean;
}

/** One timed part of one configuration, ms over the rounds. */
export interface LatencyRow {
  /** The configuration's key. */
  name: string;
  /** "FFN layer d=<dim>" or "whole block d=<dim>". */
  part: string;
  median: number;
  min: number;
  max: number;
}

/**
 * Builds block 0 of each configuration (same width d; weights from the global seeded stream, in key order), draws
 * random inputs [tokens, d], times the FFN forward (and the whole block) of all of them in the same interleaved rounds,
 * frees everything, and returns one row per (configuration, part) in that order.
 */
export function ffnLatency(configs: Record<string, LMConfig>, config: FfnLatencyConfig): LatencyRow[] {
  const fn = "ffnLatency(configs, config)";
  const { tokens, seqLen, rounds, wholeBlock } = config;
  checkPositiveInt(fn, "config.tokens", tokens);
  checkPositiveInt(fn, "config.seqLen", seqLen);
  if (tokens % seqLen)
    throw new Error(`${fn}: config.tokens (${tokens}) must be a multiple of config.seqLen (${seqLen})`);
  const dims = new Set(Object.values(configs).map((c) => c.dim));
  if (dims.size !== 1) throw new Error(`${fn}: configs must share one width dim, got ${[...dims].join(", ")}`);
  const parts = Object.entries(configs).map(([name, c]) => {
    const d = c.dim;
    const block = new Block(c, 0);
    const xs = randomNormal([tokens / seqLen, seqLen, d]) as tf.Tensor3D; // [B, T, d]
    const flat = tf.reshape(xs, [tokens, d]) as tf.Tensor2D; // [N, d]
    const rope = c.positions === "rope" ? ropeTables(0, seqLen, d / c.nHeads, c.ropeTheta) : null; // [T, dh/2] each
    const ffn = block.ffn;
    const calls: (TimedCall & { part: string })[] = [
      { name, part: `FFN layer d=${d}`, run: () => tf.tidy(() => void ffn.apply(flat).dataSync()) },
    ];
    if (wholeBlock)
      calls.push({
        name,
        part: `whole block d=${d}`,
        run: () => tf.tidy(() => void block.apply(xs, rope).x.dataSync()),
      });
    return { calls, free: () => (block.dispose(), tf.dispose([xs, flat, ...(rope ? [rope.cos, rope.sin] : [])])) };
  });
  const calls = parts.flatMap((p) => p.calls);
  try {
    return timeInterleaved(calls, { rounds }).map(({ median, min, max }, i) => ({
      name: calls[i].name,
      part: calls[i].part,
      median,
      min,
      max,
    }));
  } finally {
    parts.forEach((p) => p.free());
  }
}
