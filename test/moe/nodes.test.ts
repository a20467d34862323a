// Node traffic of a routing: hand-counted small cases, and V3-sized synthetic routing through lab.moe.gate — the
// M = 4 group limit caps every token at 4 nodes, the unlimited gate does not; no tensor growth.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { nodeTraffic, ROUTER_PRESETS, syntheticRouting } from "../../lib/moe";

beforeAll(async () => {
  await selectBackend();
});

describe("nodeTraffic", () => {
  it("counts nodes, remote copies and de-duplicated sends by hand", () => {
    // E = 8 over G = 4 nodes (2 experts each); k = 3; tokens on nodes 0, 1.
    const idx = [0, 1, 2, /* token 0 (node 0): nodes {0, 1} */ 0, 4, 6 /* token 1 (node 1): nodes {0, 2, 3} */];
    const r = nodeTraffic(idx, 3, 8, 4);
    expect(r.tokens).toBe(2);
    expect(r.meanNodes).toBe((2 + 3) / 2);
    expect(r.maxNodes).toBe(3);
    expect(r.histogram).toEqual([0, 0, 1, 1, 0]);
    expect(r.remoteCopies).toBe((1 + 3) / 2); // token 0: expert 2; token 1: experts 0, 4, 6
    expect(r.remoteSends).toBe((1 + 3) / 2);
    const same = nodeTraffic([2, 3], 2, 8, 4, () => 0); // both experts on node 1: two copies, one send
    expect([same.remoteCopies, same.remoteSends]).toEqual([2, 1]);
  });
  it("rejects bad input by name", () => {
    expect(() => nodeTraffic([0, 9], 2, 8, 4)).toThrow(/expert index 9/);
    expect(() => nodeTraffic([0, 1, 2], 2, 8, 4)).toThrow(/multiple of k/);
    expect(() => nodeTraffic([0, 1], 2, 8, 3)).toThrow(/divisible by nNodes/);
  });
});

describe("V3-sized synthetic routing (256 experts, 8 nodes, top-8, M = 4)", () => {
  it("the group limit caps tokens at M nodes and cuts inter-node sends", () => {
    seed(3);
    const before = tf.memory().numTensors;
    const v3 = ROUTER_PRESETS.deepseekV3;
    const limited = nodeTraffic(syntheticRouting(512, 32, 256, v3), 8, 256, 8);
    seed(3);
    const free = nodeTraffic(syntheticRouting(512, 32, 256, { ...v3, nGroups: 1, topkGroups: 1 }), 8, 256, 8);
    expect(tf.memory().numTensors).toBe(before);
    expect(limited.maxNodes).toBeLessThanOrEqual(4);
    expect(free.maxNodes).toBeGreaterThan(4);
    expect(limited.remoteSends).toBeLessThan(free.remoteSends);
    expect(free.remoteCopies).toBeGreaterThan(free.remoteSends);
  });
});
