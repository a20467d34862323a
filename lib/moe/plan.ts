// Routing plan: the discrete part of dispatch, computed once per call on the host from the selected experts — which
// (token, choice) pairs each expert keeps under its capacity, in which slot of the expert-sorted buffer, and which
// slots each token reads back. Priority (Switch/GShard, DeepSpeed top2gating): all first choices by position, then
// second choices by position, ...; an expert's overflow is dropped (the token passes through the residual).
import { checkPositiveInt } from "../check";
import type { KernelRoutingPlan } from "../kernel-names";

/**
 * Where every routed (token, expert) pair goes. Slots are sorted by expert: expert e owns [offsets[e], offsets[e+1]),
 * M = nSlots = offsets[E]. The fields the MoE kernels read (nTokens, nSlots, slotToken, tokenStart, tokenSlots) are
 * KernelRoutingPlan's (lib/kernel-names.ts).
 */
export interface RoutingPlan extends KernelRoutingPlan {
  /** Experts E. */
  nExperts: number;
  /** Slot ranges per expert, E + 1 entries. */
  offsets: number[];
  /** Index of each slot's weight in the flattened gate weights ([T·k] token-choice, [E·C] expert-choice), [M]. */
  slotPair: Int32Array;
  /** Pairs each expert was selected for before capacity (the load balancing sees), [E]. */
  routed: Int32Array;
  /** Capacity per expert, or null (dropless). */
  capacity: number | null;
  /** Selected pairs that did not fit (token-choice; 0 for expert-choice). */
  dropped: number;
}

/** Token CSR of a slot → token map (counting sort, slots in increasing order within a token). */
function tokenCsr(
  slotToken: Int32Array,
  slotOrder: Int32Array,
  nTokens: number,
): { tokenStart: Int32Array; tokenSlots: Int32Array } {
  const tokenStart = new Int32Array(nTokens + 1);
  for (const t of slotToken) tokenStart[t + 1]++;
  for (let t = 0; t < nTokens; t++) tokenStart[t + 1] += tokenStart[t];
  const fill = tokenStart.slice(0, nTokens);
  const tokenSlots = new Int32Array(slotToken.length);
  for (const s of slotOrder) tokenSlots[fill[slotToken[s]]++] = s;
  return { tokenStart, tokenSlots };
}

/**
 * Plan for token-choice routing: `indices` [T·k] (row-major [T, k], values in [0, E)), capacity per expert or null.
 * Priority: choice rank first, then position.
 */
export function tokenChoicePlan(
  indices: Int32Array,
  nTokens: number,
  topK: number,
  nExperts: number,
  capacity: number | null,
): RoutingPlan {
  const fn = "tokenChoicePlan";
  checkPositiveInt(fn, "nTokens", nTokens);
  checkPositiveInt(fn, "topK", topK);
  checkPositiveInt(fn, "nExperts", nExperts);
  if (capacity !== null) checkPositiveInt(fn, "capacity", capacity);
  if (indices.length !== nTokens * topK)
    throw new Error(`${fn}: indices must have ${nTokens}·${topK} entries, got ${indices.length}`);
  const routed = new Int32Array(nExperts);
  const rank = new Int32Array(indices.length).fill(-1); // position of each pair within its expert, −1 = dropped
  const cap = capacity ?? Number.MAX_SAFE_INTEGER;
  for (let j = 0; j < topK; j++) {
    for (let t = 0; t < nTokens; t++) {
      const p = t * topK + j;
      const e = indices[p];
      if (!(e >= 0 && e < nExperts))
        throw new Error(`${fn}: indices[${p}] must be an expert in [0, ${nExperts}), got ${e}`);
      if (routed[e] < cap) rank[p] = routed[e];
      routed[e]++;
    }
  }
  const offsets = [0];
  for (let e = 0; e < nExperts; e++) offsets.push(offsets[e] + Math.min(routed[e], cap));
  const nSlots = offsets[nExperts];
  const slotToken = new Int32Array(nSlots);
  const slotPair = new Int32Array(nSlots);
  const pairOrder: number[] = [];
  for (let p = 0; p < indices.length; p++) {
    if (rank[p] < 0) continue;
    const s = offsets[indices[p]] + rank[p];
    slotToken[s] = Math.floor(p / topK);
    slotPair[s] = p;
    pairOrder.push(s);
  }
  return {
    nTokens,
    nExperts,
    nSlots,
    offsets,
    slotToken,
    slotPair,
    ...tokenCsr(slotToken, Int32Array.from(pairOrder), nTokens),
    routed,
    capacity,
    dropped: indices.length - nSlots,
  };
}

/** Plan for expert-choice routing: `tokens` [E·C] (row-major [E, C], values in [0, T)): expert e's c-th choice → slot e·C + c. */
export function expertChoicePlan(tokens: Int32Array, nTokens: number, nExperts: number, capacity: number): RoutingPlan {
  const fn = "expertChoicePlan";
  checkPositiveInt(fn, "nTokens", nTokens);
  checkPositiveInt(fn, "nExperts", nExperts);
  checkPositiveInt(fn, "capacity", capacity);
  if (tokens.length !== nExperts * capacity)
    throw new Error(`${fn}: tokens must have ${nExperts}·${capacity} entries, got ${tokens.length}`);
  for (let s = 0; s < tokens.length; s++) {
    if (!(tokens[s] >= 0 && tokens[s] < nTokens))
      throw new Error(`${fn}: tokens[${s}] must be a token in [0, ${nTokens}), got ${tokens[s]}`);
  }
  const slotToken = Int32Array.from(tokens);
  const slotPair = Int32Array.from({ length: tokens.length }, (_, s) => s);
  return {
    nTokens,
    nExperts,
    nSlots: tokens.length,
    offsets: Array.from({ length: nExperts + 1 }, (_, e) => e * capacity),
    slotToken,
    slotPair,
    ...tokenCsr(slotToken, slotPair, nTokens),
    routed: new Int32Array(nExperts).fill(capacity),
    capacity,
    dropped: 0,
  };
}

/** Kept slots per expert, [E]. */
export function planCounts(plan: RoutingPlan): number[] {
  return plan.offsets.slice(1).map((end, e) => end - plan.offsets[e]);
}
