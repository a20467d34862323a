// lab.teach.check: passes the library's own implementations and correct student code written independently; fails
// each known-mistake variant (written here as a student would) with that mistake's hint; records a TEACH_MIME result.
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import { setKernelHost, type DisplayBundle } from "../../lib/display";
import * as lab from "../../lib";
import { CheckFailedError, TEACH_MIME, check, runCheck } from "../../lib/teach";

type Cfg = { topK: number; scoreFunc: "softmax" | "sigmoid"; nGroups: number; topkGroups: number; routeScale: number };

// A student's gate, with switches for the usual mistakes.
function studentGate(opts: { mask?: number; axis?: number; biasedWeights?: boolean } = {}) {
  return (logits: tf.Tensor2D, bias: tf.Tensor1D | null, cfg: Cfg) => {
    const [T, E] = logits.shape;
    const s =
      cfg.scoreFunc === "softmax"
        ? opts.axis === 0
          ? tf.softmax(logits.transpose()).transpose()
          : tf.softmax(logits)
        : tf.sigmoid(logits);
    let sel = bias ? s.add(bias) : s;
    if (cfg.nGroups > 1) {
      const rows = sel.arraySync() as number[][];
      const S = E / cfg.nGroups;
      const masked = rows.map((row) => {
        const groups = Array.from({ length: cfg.nGroups }, (_, g) => row.slice(g * S, (g + 1) * S));
        const score = groups.map((g) =>
          bias
            ? [...g]
                .sort((a, b) => b - a)
                .slice(0, 2)
                .reduce((a, b) => a + b, 0)
            : Math.max(...g),
        );
        const keep = new Set(
          score
            .map((v, g) => [v, g])
            .sort((a, b) => b[0] - a[0])
            .slice(0, cfg.topkGroups)
            .map((p) => p[1]),
        );
        return row.map((v, e) => (keep.has(Math.floor(e / S)) ? v : (opts.mask ?? -Infinity)));
      });
      sel = tf.tensor2d(masked, [T, E]);
    }
    const indices = tf.topk(sel, cfg.topK).indices as tf.Tensor2D;
    const src = (opts.biasedWeights && bias ? s.add(bias) : s) as tf.Tensor2D;
    let w = lab.moe.takeAlongRows(src, indices);
    if (cfg.scoreFunc === "sigmoid") w = w.div(w.sum(-1, true));
    return { weights: w.mul(cfg.routeScale) as tf.Tensor2D, indices };
  };
}

function studentSwitch(opts: { perToken?: boolean; noE?: boolean } = {}) {
  return (probs: tf.Tensor2D, indices: tf.Tensor2D) => {
    const [T, E] = probs.shape;
    const k = indices.shape[1];
    const counts = tf.oneHot(indices.reshape([-1]), E).sum(0);
    const f = counts.div(opts.perToken ? T : T * k);
    const loss = f.mul(probs.mean(0)).sum();
    return (opts.noE ? loss : loss.mul(E)) as tf.Scalar;
  };
}

function studentSurrogate(opts: { quotient?: boolean; min?: boolean; noClip?: boolean } = {}) {
  return (nl: tf.Tensor1D, ol: tf.Tensor1D, adv: tf.Tensor1D, eps: number) => {
    const ratio = opts.quotient ? nl.div(ol) : nl.sub(ol).exp();
    const a = adv.mul(ratio);
    const b = adv.mul(opts.noClip ? ratio : ratio.clipByValue(1 - eps, 1 + eps));
    return (opts.min ? tf.maximum(a, b) : tf.minimum(a, b)).mean().neg() as tf.Scalar;
  };
}

function studentInt8(
  round: (v: number) => number = (v) => {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
  qmax = 127,
) {
  return (x: Float32Array) => {
    let amax = 0;
    for (const v of x) amax = Math.max(amax, Math.abs(v));
    const scale = amax === 0 ? 1 : Math.fround(amax / qmax);
    return { scale, codes: Int8Array.from(x, (v) => round(v / scale)) };
  };
}

function studentE4M3(opts: { round?: (v: number) => number; flush?: boolean; overflowNaN?: boolean } = {}) {
  const rhe = (v: number) => {
    const f = Math.floor(v);
    const d = v - f;
    return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  };
  const round = opts.round ?? rhe;
  return (x: Float32Array) =>
    Uint8Array.from(x, (v) => {
      if (v !== v) return 0x7f;
      const s = v < 0 || 1 / v < 0 ? 0x80 : 0;
      let a = Math.abs(v);
      if (a >= 448) return s | (opts.overflowNaN && a > 464 ? 0x7f : 0x7e);
      if (a < 2 ** -6) return opts.flush ? s : s | round(a * 2 ** 9); // subnormal: m · 2^-9
      let e = 0;
      while (a >= 2) {
        a /= 2;
        e++;
      }
      while (a < 1) {
        a *= 2;
        e--;
      }
      const m = round((a - 1) * 8); // 0..8; 8 carries into the next binade
      const code = ((e + 7) << 3) + m;
      return s | Math.min(code, 0x7e);
    });
}

function studentStep(opts: { noOffset?: boolean; prepend?: boolean; shift?: number; noScale?: boolean } = {}) {
  return (cache: { k: tf.Tensor3D | null; v: tf.Tensor3D | null }, q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D) => {
    const K = cache.k ? tf.concat(opts.prepend ? [k, cache.k] : [cache.k, k], 1) : k;
    const V = cache.v ? tf.concat(opts.prepend ? [v, cache.v] : [cache.v, v], 1) : v;
    const [, T, dh] = q.shape;
    const N = K.shape[1];
    const L = opts.noOffset ? 0 : N - T;
    const shift = opts.shift ?? 0;
    const mask = tf.tensor2d(
      Array.from({ length: T }, (_, t) => Array.from({ length: N }, (_, j) => (j <= L + t + shift ? 0 : -1e9))),
    );
    const att = tf.softmax(
      tf
        .matMul(q, K, false, true)
        .div(opts.noScale ? 1 : Math.sqrt(dh))
        .add(mask),
    );
    return { out: tf.matMul(att, V) as tf.Tensor3D, k: K as tf.Tensor3D, v: V as tf.Tensor3D };
  };
}

const displays: DisplayBundle[] = [];
setKernelHost({ live: false, display: (b) => displays.push(b), clear: () => undefined, track: () => undefined });
afterEach(() => void (displays.length = 0));

describe("teach.check", () => {
  it("passes the library's own implementations (visible and hidden cases)", () => {
    const libGate = (l: tf.Tensor2D, b: tf.Tensor1D | null, c: Cfg) =>
      lab.moe.gate(l, tf.eye(l.shape[1]) as tf.Tensor2D, b, c);
    const libSwitch = (p: tf.Tensor2D, i: tf.Tensor2D) => lab.moe.switchLoss(p, i).loss;
    const libE4M3 = (x: Float32Array) => lab.quant.fp8Encode(x, "e4m3");
    const libInt8 = (x: Float32Array) => {
      const q = lab.quant.quantize(x, { format: "int8", symmetric: true }, { shape: [x.length] });
      return { codes: q.codes, scale: q.scales[0] };
    };
    const libPpo = (n: tf.Tensor1D, o: tf.Tensor1D, a: tf.Tensor1D, clipCoef: number) => {
      const z = tf.zerosLike(n);
      return lab.rl.ppo(
        { newLogProb: n, oldLogProb: o, advantages: a, newValues: z, oldValues: z, returns: z, entropy: z },
        { clipCoef, normAdv: false },
      ).pgLoss;
    };
    const fns = [
      ["moe.topkGate", libGate],
      ["moe.switchLoss", libSwitch],
      ["ppo.clippedSurrogate", libPpo],
      ["quant.int8Symmetric", libInt8],
      ["quant.e4m3Encode", libE4M3],
    ] as const;
    for (const [id, fn] of fns) {
      const r = runCheck(id, fn, "all");
      expect(r.passed, `${id}: ${r.hint}`).toBe(r.total);
    }
  });

  it("passes correct student code on every case and records the result", () => {
    const before = tf.memory().numTensors;
    for (const [id, fn] of [
      ["moe.topkGate", studentGate()],
      ["moe.switchLoss", studentSwitch()],
      ["ppo.clippedSurrogate", studentSurrogate()],
      ["quant.int8Symmetric", studentInt8()],
      ["quant.e4m3Encode", studentE4M3()],
      ["attention.kvCacheStep", studentStep()],
    ] as const) {
      const r = check(id, fn, { suite: "all" });
      expect(r.passed, `${id}: ${r.hint}`).toBe(r.total);
      expect(r.hint).toBeNull();
      expect(r.total).toBeGreaterThan(3);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(displays).toHaveLength(6);
    expect(displays[0].data[TEACH_MIME]).toMatchObject({
      check: { exercise: "moe.topkGate", suite: "all", hint: null },
    });
    expect(displays[0].data["text/html"]).toContain("moe.topkGate");
  });

  it.each([
    [
      "moe.topkGate",
      studentGate({ mask: 0 }),
      "sigmoid + negative bias, 4 groups keep 2",
      /masked with -Infinity, not 0/,
    ],
    [
      "moe.topkGate",
      studentGate({ axis: 0 }),
      "softmax, 3 tokens × 4 experts, top-2",
      /softmax runs over the wrong axis/,
    ],
    [
      "moe.topkGate",
      studentGate({ biasedWeights: true }),
      "sigmoid + negative bias, 4 groups keep 2",
      /weights come from the unbiased scores/,
    ],
    [
      "moe.switchLoss",
      studentSwitch({ perToken: true }),
      "softmax router, 6 tokens × 4 experts, top-2",
      /divide the counts by T·k/,
    ],
    [
      "moe.switchLoss",
      studentSwitch({ noE: true }),
      "uniform routing: 4 tokens, 4 experts, top-1 (loss 1)",
      /number of experts E/,
    ],
    [
      "ppo.clippedSurrogate",
      studentSurrogate({ quotient: true }),
      "ratio inside [1−ε, 1+ε], mixed advantages",
      /exp\(newLogProb − oldLogProb\)/,
    ],
    [
      "ppo.clippedSurrogate",
      studentSurrogate({ min: true }),
      "ratio above 1+ε, positive advantage (clipped)",
      /pessimistic bound/,
    ],
    [
      "quant.int8Symmetric",
      studentInt8(Math.round),
      "amax 127 (scale 1), ties ±0.5, ±1.5, ±2.5, 3.5",
      /Math.round rounds ties up/,
    ],
    [
      "ppo.clippedSurrogate",
      studentSurrogate({ noClip: true }),
      "ratio above 1+ε, positive advantage (clipped)",
      /clip the ratio to \[1 − clipCoef, 1 \+ clipCoef\]/,
    ],
    [
      "quant.int8Symmetric",
      studentInt8(undefined, 128),
      "amax 127 (scale 1), ties ±0.5, ±1.5, ±2.5, 3.5",
      /scale = amax \/ 127/,
    ],
    [
      "quant.e4m3Encode",
      studentE4M3({ overflowNaN: true }),
      "overflow saturates: 470, −1000, Infinity; NaN",
      /saturates/,
    ],
    [
      "attention.kvCacheStep",
      studentStep({ shift: -1 }),
      "empty cache, prefill 3 tokens, 2 heads",
      /must also see its own key/,
    ],
    ["attention.kvCacheStep", studentStep({ shift: 1 }), "empty cache, prefill 3 tokens, 2 heads", /a future token/],
    ["attention.kvCacheStep", studentStep({ noScale: true }), "empty cache, prefill 3 tokens, 2 heads", /1\/√dh/],
    ["quant.int8Symmetric", studentInt8(Math.trunc), "amax 127 (scale 1), ties ±0.5, ±1.5, ±2.5, 3.5", /Math.trunc/],
    [
      "quant.e4m3Encode",
      studentE4M3({ round: Math.round }),
      "ties between codes: 1 + 1/16, 1 + 3/16, 17, 19",
      /Math.round rounds ties up/,
    ],
    ["quant.e4m3Encode", studentE4M3({ flush: true }), "subnormals: 2⁻⁹, 3·2⁻¹⁰, 2⁻⁷, 2⁻¹⁰", /subnormals/],
    ["attention.kvCacheStep", studentStep({ noOffset: true }), "cache of 4, decode 1 token", /offset by L/],
    [
      "attention.kvCacheStep",
      studentStep({ prepend: true }),
      "cache of 4, decode 1 token",
      /append the new keys and values after/,
    ],
  ])("%s fails a known mistake with its hint (%#)", (id, fn, firstFailing, hint) => {
    let error: unknown;
    try {
      check(id, fn);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckFailedError);
    const r = (error as CheckFailedError).result;
    expect(r.passed).toBeLessThan(r.total);
    expect(r.hint).toContain(`Case "${firstFailing}" failed`);
    expect(r.hint).toMatch(/expected .*, got /);
    expect(r.hint).toMatch(hint);
    expect((error as Error).message).toContain(r.hint!);
    expect(displays[0].data[TEACH_MIME]).toEqual({ check: r });
  });

  it("reports a throwing stub and bad arguments clearly", () => {
    const r = runCheck("ppo.clippedSurrogate", () => {
      throw new Error("not implemented");
    });
    expect(r.passed).toBe(0);
    expect(r.cases[0].detail).toBe("threw not implemented");
    expect(r.hint).toMatch(/Your function must run on this case and return tf.Scalar/);
    expect(() => runCheck("nope", () => 0)).toThrow(/unknown exercise "nope"; expected one of moe.topkGate/);
    expect(() => runCheck("moe.switchLoss", 3)).toThrow(/studentImpl must be a function \(probs: tf.Tensor2D/);
  });
});
