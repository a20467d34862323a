// Node-limited routing measured: place experts on nodes (E/G consecutive experts per node, as expert parallelism lays
// them out), route tokens, and count per token the nodes its experts live on, the copies that cross to other nodes
// ("traditional" all-to-all: one send per remote expert) and the sends when each remote node gets one copy that is
// forwarded inside the node (DeepSeek-V3 §3.2.2), with or without the M-node limit of the gate (§2.1.2).
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../check";
import { randomNormal } from "../random";
import type { GateConfig } from "./config";
import { gate } from "./gate";

/** Per-token node statistics of one routing. */
export interface NodeTraffic {
  tokens: number;
  /** Mean distinct nodes holding a token's selected experts (its own node included when selected). */
  meanNodes: number;
  /** Largest distinct-node count of any token. */
  maxNodes: number;
  /** tokens by distinct-node count: histogram[n] = tokens whose experts sit on n nodes. */
  histogram: number[];
  /** Mean selected experts on another node than the token's: inter-node copies without de-duplication. */
  remoteCopies: number;
  /** Mean distinct other nodes: inter-node sends with one copy per node. */
  remoteSends: number;
}

/**
 * Counts node traffic of selected experts `indices` ([T·k] row-major, from a gate or a model) when E experts are
 * spread over G nodes (expert e on node ⌊e·G/E⌋) and token t lives on node `tokenNode(t)` (default t mod G: every
 * node holds tokens of every sequence position range equally).
 */
export function nodeTraffic(
  indices: ArrayLike<number>,
  k: number,
  nExperts: number,
  nNodes: number,
  tokenNode: (t: number) => number = (t) => t % nNodes,
): NodeTraffic {
  const fn = "moe.nodeTraffic";
  checkPositiveInt(fn, "k", k);
  checkPositiveInt(fn, "nNodes", nNodes);
  if (nExperts % nNodes) throw new Error(`${fn}: nExperts (${nExperts}) must be divisible by nNodes (${nNodes})`);
  if (indices.length % k) throw new Error(`${fn}: indices has ${indices.length} entries, not a multiple of k = ${k}`);
  const T = indices.length / k;
  const perNode = nExperts / nNodes;
  const histogram = new Array<number>(nNodes + 1).fill(0);
  let nodes = 0,
    copies = 0,
    sends = 0,
    maxNodes = 0;
  const seen = new Int32Array(nNodes).fill(-1);
  for (let t = 0; t < T; t++) {
    const home = tokenNode(t);
    let distinct = 0;
    for (let j = 0; j < k; j++) {
      const e = indices[t * k + j];
      if (!(Number.isInteger(e) && e >= 0 && e < nExperts))
        throw new Error(`${fn}: expert index ${e} at token ${t} is outside [0, ${nExperts})`);
      const n = Math.floor(e / perNode);
      if (n !== home) copies++;
      if (seen[n] !== t) {
        seen[n] = t;
        distinct++;
        if (n !== home) sends++;
      }
    }
    nodes += distinct;
    histogram[distinct]++;
    maxNodes = Math.max(maxNodes, distinct);
  }
  return { tokens: T, meanNodes: nodes / T, maxNodes, histogram, remoteCopies: copies / T, remoteSends: sends / T };
}

/**
 * Routes T synthetic tokens (x ~ N(0, 1) in `dim` dimensions, router weights ~ N(0, 1/dim), zero bias: the V3 gate's
 * group score is then the sum of each group's top-2) with lab.moe.gate and returns the selected experts [T·k].
 * Seeded by the global stream (lab.seed).
 */
export function syntheticRouting(T: number, dim: number, nExperts: number, config: Partial<GateConfig>): Int32Array {
  checkPositiveInt("moe.syntheticRouting", "T", T);
  checkPositiveInt("moe.syntheticRouting", "dim", dim);
  return tf.tidy(() => {
    const x = randomNormal([T, dim]) as tf.Tensor2D; // [T, d]
    const w = randomNormal([nExperts, dim], 0, 1 / Math.sqrt(dim)) as tf.Tensor2D; // [E, d]
    const bias = tf.zeros([nExperts]) as tf.Tensor1D; // [E]
    return gate(x, w, bias, config).indices.dataSync() as Int32Array; // [T·k]
  });
}
