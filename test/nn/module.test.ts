import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { Linear, Module } from "../../lib/nn";
import { seed } from "../../lib/random";
import { decodeSafetensors, encodeSafetensors } from "../../lib/train/safetensors";

class Pair extends Module {
  readonly a: Linear;
  readonly b: Linear;
  readonly state: tf.Variable;
  constructor() {
    super();
    this.a = this.child("a", new Linear(3, 4, { bias: true }));
    this.b = this.child("b", new Linear(4, 2));
    this.state = this.buffer("state", tf.zeros([2]));
  }
}

describe("Module", () => {
  it("names parameters with dotted paths, counts them, and keeps buffers apart", () => {
    seed(1);
    const m = new Pair();
    expect([...m.namedParameters().keys()]).toEqual(["a.weight", "a.bias", "b.weight"]);
    expect([...m.namedBuffers().keys()]).toEqual(["state"]);
    expect(m.numParams()).toBe(3 * 4 + 4 + 4 * 2);
    expect(m.trainableVariables()).toHaveLength(3);
    m.dispose();
  });

  it("loadStateDict copies values and names missing, unexpected and mis-shaped entries", () => {
    seed(2);
    const m = new Pair();
    seed(3);
    const n = new Pair();
    n.loadStateDict(m.stateDict());
    for (const [k, v] of m.stateDict()) expect(n.stateDict().get(k)!.dataSync()).toEqual(v.dataSync());
    const partial = new Map(m.stateDict());
    partial.delete("b.weight");
    expect(() => n.loadStateDict(partial)).toThrow(/missing \[b.weight\]/);
    const wrong = new Map<string, tf.Tensor>(m.stateDict());
    const bad = tf.zeros([2, 2]);
    wrong.set("b.weight", bad);
    expect(() => n.loadStateDict(wrong)).toThrow(/"b.weight" has shape \[2,2\], expected \[2,4\]/);
    bad.dispose();
    m.dispose();
    n.dispose();
  });

  it("loadStateDict checks every entry before assigning any: a bad last entry leaves all variables as they were", () => {
    class Many extends Module {
      constructor() {
        super();
        for (let i = 0; i < 16; i++) this.param(`p${i}`, tf.fill([2], i));
      }
    }
    const m = new Many();
    const state = new Map<string, tf.Tensor>(
      [...m.stateDict()].map(([k], i) => [k, i === 15 ? tf.zeros([3]) : tf.fill([2], -1)]),
    );
    expect(() => m.loadStateDict(state)).toThrow(
      'loadStateDict(state): "p15" has shape [3], expected [2]; nothing was loaded',
    );
    expect([...m.stateDict().values()].map((v) => v.dataSync()[0])).toEqual([...Array(16).keys()]);
    tf.dispose([...state.values()]);
    m.dispose();
  });

  it("loadStateDict refuses a dtype change (an F32 header edited to I32 no longer loads bytes as integers)", () => {
    const m = new Pair();
    const bytes = encodeSafetensors(m.stateDict());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const head = new TextDecoder()
      .decode(bytes.subarray(8, 8 + n))
      .replace('"a.bias":{"dtype":"F32"', '"a.bias":{"dtype":"I32"');
    bytes.set(new TextEncoder().encode(head), 8);
    const edited = decodeSafetensors(bytes);
    const before = Array.from(m.a.bias!.dataSync());
    expect(() => m.loadStateDict(edited.tensors)).toThrow(
      'loadStateDict(state): "a.bias" has dtype int32, expected float32; nothing was loaded',
    );
    expect(Array.from(m.a.bias!.dataSync())).toEqual(before);
    tf.dispose([...edited.tensors.values()]);
    m.dispose();
  });

  it("summarises the tree (shapes, frozen, buffers, counts) in toString, util.inspect and console output", () => {
    class Stack extends Module {
      constructor() {
        super();
        this.param("scale", tf.ones([4]), false);
        this.child("pair", new Pair());
        for (let i = 0; i < 3; i++) this.child(String(i), new Linear(4, 4));
        this.child("3", new Linear(4, 2));
      }
    }
    const m = new Stack();
    const expected = [
      "Stack( · 84",
      "  scale: [4] frozen",
      "  (pair): Pair( · 24",
      "    state: [2] buffer",
      "    (a): Linear(weight: [4, 3], bias: [4]) · 16",
      "    (b): Linear(weight: [2, 4]) · 8",
      "  )",
      "  (0-2): 3 × Linear(weight: [4, 4]) · 16",
      "  (3): Linear(weight: [2, 4]) · 8",
      ")",
      "84 parameters (80 trainable), 2 buffer elements",
    ].join("\n");
    expect(m.summary()).toBe(expected);
    expect(String(m)).toBe(expected);
    expect(inspect(m)).toBe(expected);
    expect(inspect({ model: m }, { depth: 0 })).not.toContain("ownParams");
    m.dispose();
  });

  it("rejects duplicate and malformed names", () => {
    class Dup extends Module {
      constructor(name: string) {
        super();
        this.param("w", tf.zeros([1]));
        this.param(name, tf.zeros([1]));
      }
    }
    expect(() => new Dup("w")).toThrow(/"w" is already registered/);
    expect(() => new Dup("a.b")).toThrow(/must match/);
  });
});

describe("Linear", () => {
  it("computes x·Wᵀ + b on any leading shape without leaking tensors", () => {
    seed(4);
    const lin = new Linear(3, 2, { bias: true });
    lin.weight.assign(
      tf.tensor2d([
        [1, 2, 3],
        [-1, 0, 1],
      ]),
    );
    lin.bias!.assign(tf.tensor1d([0.5, -0.5]));
    const x = tf.tensor3d([[[1, 1, 1]], [[0, 1, 2]]]); // [2, 1, 3]
    const before = tf.memory().numTensors;
    const y = lin.apply(x);
    expect(y.shape).toEqual([2, 1, 2]);
    expect(Array.from(y.dataSync())).toEqual([6.5, -0.5, 8.5, 1.5]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => lin.apply(tf.zeros([2, 4]))).toThrow(/Linear.apply\(x\): expected shape \[..., 3\], got \[2,4\]/);
    expect(() => new Linear(0, 2)).toThrow(/inFeatures must be a positive integer, got 0/);
    x.dispose();
    lin.dispose();
  });

  it("initialises with std 1/sqrt(in) by default", () => {
    seed(5);
    const lin = new Linear(256, 512);
    const w = lin.weight.dataSync();
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.0625 * 0.95);
    expect(std).toBeLessThan(0.0625 * 1.05);
    lin.dispose();
  });
});
