// A planner figure: a number with its unit, the formula that produced it (with the inputs substituted) and the
// published source of the formula or constant, so a reader can check every number the planner shows.
// Reference: the sources listed in SOURCES (papers and datasheets, cited by section).

/** One computed quantity. */
export interface Figure {
  value: number;
  /** "bytes", "s", "FLOP", "fraction", "GPU-hours", "USD", ... */
  unit: string;
  /** The formula with its inputs, e.g. "sbh(34 + 5as/h) = 2048·1·12288·(34 + 5·96·2048/12288)". */
  formula: string;
  /** Where the formula or constant comes from. */
  source: string;
}

/** Builds a figure; the value must be finite (a planner bug otherwise). */
export function figure(value: number, unit: string, formula: string, source: string): Figure {
  if (!Number.isFinite(value)) throw new Error(`figure: ${formula} gave ${value}; expected a finite number`);
  return { value, unit, formula, source };
}

/** The published sources the planner cites. */
export const SOURCES = Object.freeze({
  korthikanti: "Korthikanti et al. 2022, Reducing Activation Recomputation in Large Transformer Models, §4 and Table 2",
  zero: "Rajbhandari et al. 2020, ZeRO: Memory Optimizations Toward Training Trillion Parameter Models, §5 (K = 12) and §7 (communication)",
  narayanan:
    "Narayanan et al. 2021, Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM, §2.2 (bubbles), §5.1 and Appendix (FLOPs)",
  megatronTp:
    "Shoeybi et al. 2019, Megatron-LM §3 (two all-reduces forward, two backward per layer); Korthikanti et al. 2022 §4.2.2 (sequence parallelism: all-gather + reduce-scatter, same volume)",
  ring: "Ring all-reduce: each rank sends 2(n−1)/n of the buffer (Patarasuk & Yuan 2009; NCCL tests' bus bandwidth); reduce-scatter and all-gather (n−1)/n each",
  v3: "DeepSeek-V3 Technical Report (arXiv 2412.19437)",
  v3Dualpipe: "DeepSeek-V3 Technical Report §3.2.1, Table 2 (F, B, W, F&B chunk times)",
  v3Nodes:
    "DeepSeek-V3 Technical Report §2.1.2 (node-limited routing, M = 4) and §3.2.2 (IB 50 GB/s, NVLink 160 GB/s; one IB send per node, then NVLink)",
  v3Cost:
    "DeepSeek-V3 Technical Report Table 1 (2.664M pre-training, 119K context extension, 5K post-training H800 GPU hours; $2 per GPU hour)",
  gpt3: "Brown et al. 2020, Language Models are Few-Shot Learners, Table 2.1 (175B: 96 layers, d 12288, 96 heads, context 2048) and Table D.1 (3.14e23 FLOPs, 300B tokens)",
  kaplan: "Kaplan et al. 2020, Scaling Laws §2.1: training FLOPs ≈ 6N per token (forward 2N, backward 4N)",
});
