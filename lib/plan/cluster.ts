// GPUs and clusters the planner runs on: published per-GPU specifications as data (with their datasheet), and a
// cluster = GPUs per node × nodes with its intra-node (NVLink) and inter-node (InfiniBand, per GPU) bandwidths.
// References: NVIDIA A100/H100/V100 datasheets, DeepSeek-V3 report §3.1–3.2.2 (H800 cluster), DGX system guides.
import { checkPositiveInt } from "../check";
import { SOURCES } from "./figure";

const GiB = 2 ** 30;

/** One GPU model. Bandwidths are per GPU, per direction, in bytes/s. */
export interface GpuSpec {
  name: string;
  /** Device memory in bytes. */
  memoryBytes: number;
  /** Dense BF16/FP16 tensor-core peak, FLOP/s (no sparsity). */
  peakFlops: number;
  /** Device-memory bandwidth, bytes/s. */
  memoryBandwidth: number;
  /** NVLink bandwidth per GPU per direction, bytes/s (0: none). */
  nvlinkBandwidth: number;
  /** Inter-node network per GPU per direction in the reference system, bytes/s. */
  networkBandwidth: number;
  /** GPUs per node in the reference system. */
  gpusPerNode: number;
  source: string;
}

/** Published specifications. */
export const GPUS = Object.freeze({
  A100: Object.freeze<GpuSpec>({
    name: "A100 SXM4 80GB",
    memoryBytes: 80 * GiB,
    peakFlops: 312e12,
    memoryBandwidth: 2.039e12,
    nvlinkBandwidth: 300e9,
    networkBandwidth: 25e9,
    gpusPerNode: 8,
    source:
      "NVIDIA A100 datasheet (BF16 312 TFLOPS dense, 2,039 GB/s HBM2e, NVLink 600 GB/s bidirectional); DGX A100: one 200 Gb/s HDR InfiniBand per GPU",
  }),
  H100: Object.freeze<GpuSpec>({
    name: "H100 SXM5 80GB",
    memoryBytes: 80 * GiB,
    peakFlops: 989e12,
    memoryBandwidth: 3.35e12,
    nvlinkBandwidth: 450e9,
    networkBandwidth: 50e9,
    gpusPerNode: 8,
    source:
      "NVIDIA H100 datasheet (BF16 989 TFLOPS dense, 3.35 TB/s HBM3, NVLink 900 GB/s bidirectional); DGX H100: one 400 Gb/s NDR InfiniBand per GPU",
  }),
  H800: Object.freeze<GpuSpec>({
    name: "H800 SXM5 80GB",
    memoryBytes: 80 * GiB,
    peakFlops: 989e12,
    memoryBandwidth: 3.35e12,
    nvlinkBandwidth: 160e9,
    networkBandwidth: 50e9,
    gpusPerNode: 8,
    source: `H100 compute (989 TFLOPS BF16 dense) with NVLink cut for export; achievable bandwidths as DeepSeek measured them: ${SOURCES.v3Nodes}`,
  }),
  V100: Object.freeze<GpuSpec>({
    name: "V100 SXM2 32GB",
    memoryBytes: 32 * GiB,
    peakFlops: 125e12,
    memoryBandwidth: 900e9,
    nvlinkBandwidth: 150e9,
    networkBandwidth: 12.5e9,
    gpusPerNode: 8,
    source:
      "NVIDIA V100 datasheet (FP16 tensor 125 TFLOPS, 900 GB/s HBM2, NVLink 300 GB/s bidirectional); DGX-2/EDR 100 Gb/s per GPU",
  }),
  RTX5090: Object.freeze<GpuSpec>({
    name: "GeForce RTX 5090 32GB",
    memoryBytes: 32 * GiB,
    peakFlops: 21760 * 2 * 2.407e9,
    memoryBandwidth: 1.792e12,
    nvlinkBandwidth: 0,
    networkBandwidth: 0,
    gpusPerNode: 1,
    source:
      "NVIDIA GeForce RTX 5090 specifications (32 GB GDDR7, 1,792 GB/s); peak here = FP32 shader rate 21,760 cores × 2 × 2.407 GHz (tensor cores are faster)",
  }),
});

export type GpuName = keyof typeof GPUS;

/** A homogeneous cluster. */
export interface Cluster {
  gpu: GpuSpec;
  nodes: number;
  gpusPerNode: number;
  /** Per-GPU per-direction bandwidth inside a node, bytes/s (default: the GPU's NVLink). */
  intraBandwidth: number;
  /** Per-GPU per-direction bandwidth between nodes, bytes/s (default: the reference system's network). */
  interBandwidth: number;
  /** Fraction of device memory the plan may use (default 1: the formulas alone decide; lower it for framework reserve). */
  usableMemory: number;
}

/** A cluster of `nodes` nodes of `gpu` (a preset name or a spec); `overrides` replace any field. */
export function cluster(
  gpu: GpuName | GpuSpec,
  nodes: number,
  overrides: Partial<Omit<Cluster, "gpu" | "nodes">> = {},
): Cluster {
  const spec = typeof gpu === "string" ? GPUS[gpu] : gpu;
  if (!spec)
    throw new Error(`cluster(gpu): expected one of ${Object.keys(GPUS).join(", ")} or a GpuSpec, got ${String(gpu)}`);
  checkPositiveInt("cluster", "nodes", nodes);
  const c: Cluster = {
    gpu: spec,
    nodes,
    gpusPerNode: spec.gpusPerNode,
    intraBandwidth: spec.nvlinkBandwidth,
    interBandwidth: spec.networkBandwidth,
    usableMemory: 1,
    ...overrides,
  };
  checkPositiveInt("cluster", "gpusPerNode", c.gpusPerNode);
  if (!(c.usableMemory > 0 && c.usableMemory <= 1))
    throw new Error(`cluster: usableMemory must be in (0, 1], got ${c.usableMemory}`);
  return c;
}

/** GPUs in the cluster. */
export function worldSize(c: Cluster): number {
  return c.nodes * c.gpusPerNode;
}
