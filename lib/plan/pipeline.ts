// Pipeline bubbles: 1F1B, interleaved 1F1B and DualPipe, as time (in chunk units) and as a fraction of the step.
// References: Narayanan et al. 2021 §2.2 ((p − 1)/m idle per ideal step, /v interleaved); DeepSeek-V3 Table 2
// (1F1B (PP−1)(F+B), ZB1P (PP−1)(F+B−2W), DualPipe (PP/2−1)(F&B+B−3W)).
import { figure, Figure, SOURCES } from "./figure";
import type { PipelineSchedule } from "./parallel";

/** Chunk times of one micro-batch on one stage (any unit): F forward, B full backward, W the weight part of B,
 * FB a forward and a backward chunk run overlapped (DualPipe). */
export interface ChunkTimes {
  F: number;
  B: number;
  W: number;
  FB: number;
}

/** Chunk times when backward = 2 × forward, the weight half W = F, and F&B = F + B (compute does not shrink by overlap). */
export function defaultChunks(F = 1): ChunkTimes {
  return { F, B: 2 * F, W: F, FB: 3 * F };
}

/** Bubble time of a schedule, in the chunk units (V3 Table 2; interleaved: Narayanan's (p−1)(F+B)/v). */
export function bubbleTime(
  schedule: PipelineSchedule | "zb1p",
  p: number,
  c: ChunkTimes = defaultChunks(),
  v = 1,
): Figure {
  switch (schedule) {
    case "1f1b":
      return figure(
        (p - 1) * (c.F + c.B),
        "chunk time",
        `(PP − 1)(F + B) = ${p - 1}·(${c.F} + ${c.B})`,
        SOURCES.v3Dualpipe,
      );
    case "interleaved":
      return figure(
        ((p - 1) * (c.F + c.B)) / v,
        "chunk time",
        `(PP − 1)(F + B)/v = ${p - 1}·(${c.F} + ${c.B})/${v}`,
        SOURCES.narayanan,
      );
    case "zb1p":
      return figure(
        (p - 1) * (c.F + c.B - 2 * c.W),
        "chunk time",
        `(PP − 1)(F + B − 2W) = ${p - 1}·(${c.F} + ${c.B} − 2·${c.W})`,
        SOURCES.v3Dualpipe,
      );
    case "dualpipe":
      return figure(
        (p / 2 - 1) * (c.FB + c.B - 3 * c.W),
        "chunk time",
        `(PP/2 − 1)(F&B + B − 3W) = ${p / 2 - 1}·(${c.FB} + ${c.B} − 3·${c.W})`,
        SOURCES.v3Dualpipe,
      );
    default:
      throw new Error(`bubbleTime(schedule): expected 1f1b, interleaved, zb1p or dualpipe, got ${String(schedule)}`);
  }
}

/** Fraction of the step the pipeline idles: bubble / (m(F + B) + bubble). For 1F1B this is (p − 1)/(m + p − 1). */
export function bubbleFraction(
  schedule: PipelineSchedule | "zb1p",
  p: number,
  m: number,
  c: ChunkTimes = defaultChunks(),
  v = 1,
): Figure {
  if (p === 1) return figure(0, "fraction", "p = 1: no pipeline", SOURCES.narayanan);
  const bubble = bubbleTime(schedule, p, c, v);
  const work = m * (c.F + c.B);
  const closed =
    schedule === "1f1b"
      ? ` = (p − 1)/(m + p − 1) = ${p - 1}/${m + p - 1}`
      : schedule === "interleaved"
        ? ` = (p − 1)/(vm + p − 1) = ${p - 1}/${v * m + p - 1}`
        : "";
  return figure(
    bubble.value / (work + bubble.value),
    "fraction",
    `bubble/(m(F + B) + bubble) with bubble ${bubble.formula}, m = ${m}${closed}`,
    bubble.source,
  );
}
