// YaRN context extension of RoPE as DeepSeek-V3 uses it: per-pair frequencies blended between θ^(−2i/d) and that over
// `factor` by a linear ramp across the correction range, and the attention-temperature factor mscale. References:
// DeepSeek-V3 inference/model.py `precompute_freqs_cis` (find_correction_dim/range, linear_ramp_factor) and the MLA
// softmax scale; Hugging Face DeepseekV3 `yarn_get_mscale` (mscale vs mscale_all_dim); Peng et al., "YaRN" (2023).
import { checkPositiveInt } from "../check";

/** YaRN settings, Hugging Face DeepseekV3Config `rope_scaling` names in camelCase (V3: factor 40 from 4096, β 32/1). */
export interface YarnScaling {
  /** Only "yarn" is implemented. */
  type: "yarn";
  /** Context extension factor s (inference ModelArgs `rope_factor`). */
  factor: number;
  /** Training context length the extension starts from (ModelArgs `original_seq_len`). */
  originalMaxPositionEmbeddings: number;
  /** Rotations that mark the fast end of the correction range (ModelArgs `beta_fast`). */
  betaFast: number;
  /** Rotations that mark the slow end of the correction range (ModelArgs `beta_slow`). */
  betaSlow: number;
  /** mscale of the cos/sin amplitude: tables are scaled by yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim). */
  mscale: number;
  /** mscale of the softmax scale, which is multiplied by yarnMscale(factor, mscaleAllDim)² (ModelArgs `mscale`). */
  mscaleAllDim: number;
}

/** DeepSeek-V3's published values (config_671B.json / HF config.json). */
export const DEFAULT_YARN: Readonly<YarnScaling> = Object.freeze({
  type: "yarn",
  factor: 40,
  originalMaxPositionEmbeddings: 4096,
  betaFast: 32,
  betaSlow: 1,
  mscale: 1,
  mscaleAllDim: 1,
});

/** `partial` merged over DEFAULT_YARN, checked (errors name the field). */
export function yarnScaling(partial: Partial<YarnScaling> = {}): YarnScaling {
  const s = { ...DEFAULT_YARN, ...partial };
  const fn = "yarnScaling";
  if (s.type !== "yarn") throw new Error(`${fn}: type must be "yarn", got ${String(s.type)}`);
  if (!(Number.isFinite(s.factor) && s.factor >= 1))
    throw new Error(`${fn}: factor must be a finite number ≥ 1, got ${s.factor}`);
  checkPositiveInt(fn, "originalMaxPositionEmbeddings", s.originalMaxPositionEmbeddings);
  if (!(Number.isFinite(s.betaFast) && Number.isFinite(s.betaSlow) && s.betaFast > s.betaSlow && s.betaSlow > 0)) {
    throw new Error(
      `${fn}: betaFast and betaSlow must be finite with betaFast > betaSlow > 0, got ${s.betaFast} and ${s.betaSlow}`,
    );
  }
  for (const key of ["mscale", "mscaleAllDim"] as const) {
    if (!(Number.isFinite(s[key]) && s[key] >= 0))
      throw new Error(`${fn}: ${key} must be a finite number ≥ 0, got ${s[key]}`);
  }
  return s;
}

/** The (fractional) pair index whose wavelength fits `numRotations` times into `maxSeqLen` positions. */
export function correctionDim(numRotations: number, dim: number, base: number, maxSeqLen: number): number {
  return (dim * Math.log(maxSeqLen / (numRotations * 2 * Math.PI))) / (2 * Math.log(base));
}

/** Pair indices [low, high] between which the ramp blends: floor/ceil of the two correction dims, clamped to [0, dim − 1]. */
export function correctionRange(
  betaFast: number,
  betaSlow: number,
  dim: number,
  base: number,
  maxSeqLen: number,
): [number, number] {
  const low = Math.floor(correctionDim(betaFast, dim, base, maxSeqLen));
  const high = Math.ceil(correctionDim(betaSlow, dim, base, maxSeqLen));
  return [Math.max(low, 0), Math.min(high, dim - 1)];
}

/** YaRN's temperature factor: 1 for factor ≤ 1, else 0.1·mscale·ln(factor) + 1. */
export function yarnMscale(factor: number, mscale: number): number {
  return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
}

/**
 * Inverse frequencies of the dim/2 rotation pairs (float64): θ^(−2i/dim) blended with θ^(−2i/dim)/factor,
 * f_i = f_i/factor · ramp_i + f_i · (1 − ramp_i) with ramp_i = clamp((i − low)/(high − low), 0, 1) (high bumped by
 * 0.001 when equal): pairs below `low` (fast, many rotations) keep their frequency, pairs above `high` are interpolated.
 */
export function yarnFrequencies(dim: number, theta: number, s: YarnScaling): Float64Array {
  checkPositiveInt("yarnFrequencies", "dim", dim);
  if (dim % 2) throw new Error(`yarnFrequencies: dim must be even, got ${dim}`);
  const [low, high0] = correctionRange(s.betaFast, s.betaSlow, dim, theta, s.originalMaxPositionEmbeddings);
  const high = low === high0 ? high0 + 0.001 : high0;
  const freqs = new Float64Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const base = Math.pow(theta, (-2 * i) / dim);
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    freqs[i] = (base / s.factor) * ramp + base * (1 - ramp);
  }
  return freqs;
}
