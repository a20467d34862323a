// Per-step series of a run as the notebooks plot them: trailing moving averages, means over seeds, and the routing
// loads of an LM run ([step][MoE layer][expert]) as per-expert means, shares over spans of training and MaxVio curves.
// Reference: DeepSeek-V3 §2.1.2 / Wang et al. 2024 (aux-loss-free balancing) for MaxVio = max load / mean load − 1.
import { loadMetrics } from "../moe/metrics";
import { checkPositiveInt } from "../check";

/** Trailing moving average: entry i is the mean of ys[max(0, i − window + 1) … i]. */
export function movingAverage(ys: readonly number[], window: number): number[] {
  checkPositiveInt("movingAverage(ys, window)", "window", window);
  return ys.map((_, i) => mean(ys.slice(Math.max(0, i - window + 1), i + 1)));
}

/** Mean of the values (NaN for none). */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Entry-wise mean of equally long series (e.g. one per seed): [series][i] → [i]. */
export function meanSeries(series: readonly (readonly number[])[]): number[] {
  if (series.length === 0) throw new Error("meanSeries(series): expected at least one series");
  return series[0].map((_, i) => mean(series.map((s) => s[i])));
}

/** Each expert's share of the layer's routed tokens: load [E] → [E], summing to 1. */
export function loadShare(load: readonly number[]): number[] {
  const total = load.reduce((a, b) => a + b, 0);
  return load.map((v) => v / total);
}

/** Mean tokens per expert over the steps: loads [step][layer][expert] → [layer][expert]. */
export function meanLoads(loads: readonly number[][][]): number[][] {
  if (loads.length === 0) throw new Error("meanLoads(loads): expected at least one step");
  return loads[0].map((perLayer, layer) =>
    perLayer.map((_, e) => loads.reduce((s, step) => s + step[layer][e], 0) / loads.length),
  );
}

/**
 * Layer `layer`'s load share per expert in `spans` consecutive spans of training (as equal as the step count
 * allows; rows early → late): loads [step][layer][expert] → [span][expert].
 */
export function loadShareSpans(loads: readonly number[][][], layer: number, spans: number): number[][] {
  checkPositiveInt("loadShareSpans(loads, layer, spans)", "spans", spans);
  if (spans > loads.length)
    throw new Error(
      `loadShareSpans(loads, layer, spans): spans (${spans}) must be at most the number of steps ${loads.length}`,
    );
  return Array.from({ length: spans }, (_, s) => {
    const part = loads.slice(Math.floor((s * loads.length) / spans), Math.floor(((s + 1) * loads.length) / spans));
    return loadShare(part[0][layer].map((_, e) => part.reduce((acc, step) => acc + step[layer][e], 0)));
  });
}

/** Per step, MaxVio of each MoE layer's load averaged over the layers: loads [step][layer][expert] → [step]. */
export function maxVioCurve(loads: readonly number[][][]): number[] {
  return loads.map((layers) => layers.reduce((s, l) => s + loadMetrics(l).maxVio, 0) / layers.length);
}
