// safetensors F16 / BF16 / F8_E4M3 / I64: bits against independent converters (numpy float16 and torch bfloat16, both
// round to nearest even), hand-computed E4M3 codes, exact round trips, and named errors.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { decodeSafetensors, encodeSafetensors, type SafetensorsDtype } from "../../lib/train/safetensors";
import { bf16Bits, bf16Value, f16Bits, f16Value } from "../../lib/train/safetensors-dtypes";

const PYTHON = "/usr/bin/python3";

/** Values that exercise rounding ties, subnormals, overflow, signed zeros and specials, as float32. */
const PROBES = Float32Array.from([
  0,
  -0,
  1,
  -1,
  0.1,
  1 / 3,
  65504,
  65519,
  65520,
  1e5,
  -1e5,
  6.1e-5,
  5.96e-8,
  2.98e-8,
  2.99e-8,
  1e-10,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  1 + 2 ** -8,
  1 + 3 * 2 ** -8,
  3.4e38,
  -3.4e38,
  1e-39,
  Infinity,
  -Infinity,
  123.456,
  -7.77e-3,
]);

describe("safetensors half and FP8 dtypes", () => {
  it.skipIf(!existsSync(PYTHON))(
    "F16 and BF16 bits equal numpy float16 and torch bfloat16 (round to nearest even)",
    () => {
      const script = `
import json, sys, numpy as np, torch
x = np.array(json.loads(sys.argv[1]), dtype=np.float32)
f16 = x.astype(np.float16).view(np.uint16).tolist()
bf16 = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16).tolist()
print(json.dumps({"f16": f16, "bf16": bf16}))`;
      // JSON has no ±Inf (±1e300 becomes float32 ±Inf) and JSON.stringify drops the sign of −0.
      const values = Array.from(PROBES, (v) =>
        Object.is(v, -0) ? "-0.0" : String(Number.isFinite(v) ? v : v > 0 ? 1e300 : -1e300),
      );
      const r = spawnSync(PYTHON, ["-c", script, `[${values.join(",")}]`], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const ref = JSON.parse(r.stdout) as { f16: number[]; bf16: number[] };
      expect(Array.from(PROBES, f16Bits)).toEqual(ref.f16);
      expect(Array.from(PROBES, bf16Bits)).toEqual(ref.bf16);
    },
  );

  it("decodes every F16 and BF16 bit pattern back to the same bits", () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16Value(h);
      if (Number.isNaN(v)) continue;
      if (f16Bits(v) !== h) throw new Error(`F16 ${h.toString(16)} → ${v} → ${f16Bits(v).toString(16)}`);
      const b = bf16Value(h);
      if (!Number.isNaN(b) && bf16Bits(b) !== h)
        throw new Error(`BF16 ${h.toString(16)} → ${b} → ${bf16Bits(b).toString(16)}`);
    }
    expect([f16Value(0x3c00), f16Value(0x0001), f16Value(0x7bff), f16Value(0xfc00)]).toEqual([
      1,
      2 ** -24,
      65504,
      -Infinity,
    ]);
    expect([bf16Value(0x3f80), bf16Value(0xc040), bf16Value(0x0001)]).toEqual([1, -3, 2 ** -133]);
  });

  it("stores float32 as F16, BF16 and F8_E4M3 and int32 as I64; reads them back with their stored dtypes", () => {
    const t = new Map<string, tf.Tensor>([
      ["h", tf.tensor1d([1, -2.5, 65504, 2 ** -24])],
      [
        "b",
        tf.tensor2d([
          [1, -3],
          [0.5, 2 ** 100],
        ]),
      ],
      ["q", tf.tensor1d([1, -448, 2 ** -9, 0.3, 450])],
      ["i", tf.tensor1d([-5, 2147483647], "int32")],
      ["f", tf.tensor1d([0.1])],
    ]);
    const dtypes = new Map<string, SafetensorsDtype>([
      ["h", "F16"],
      ["b", "BF16"],
      ["q", "F8_E4M3"],
      ["i", "I64"],
    ]);
    const bytes = encodeSafetensors(t, {}, dtypes);
    const back = decodeSafetensors(bytes);
    expect(Object.fromEntries(back.dtypes)).toEqual({ h: "F16", b: "BF16", q: "F8_E4M3", i: "I64", f: "F32" });
    expect(Array.from(back.tensors.get("h")!.dataSync())).toEqual([1, -2.5, 65504, 2 ** -24]);
    expect(Array.from(back.tensors.get("b")!.dataSync())).toEqual([1, -3, 0.5, 2 ** 100]);
    // E4M3: 0.3 rounds to 0.3125 (1.25·2⁻²); 450 rounds to the max 448.
    expect(Array.from(back.tensors.get("q")!.dataSync())).toEqual([1, -448, 2 ** -9, 0.3125, 448]);
    expect(back.tensors.get("i")!.dtype).toBe("int32");
    expect(Array.from(back.tensors.get("i")!.dataSync())).toEqual([-5, 2147483647]);
    // The raw bytes of q: E4M3 codes 0x38 (1), 0xfe (−448), 0x01 (2⁻⁹), 0x2a (0.3125), 0x7e (448).
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const [begin, end] = header.q.data_offsets;
    expect(Array.from(bytes.subarray(8 + n + begin, 8 + n + end))).toEqual([0x38, 0xfe, 0x01, 0x2a, 0x7e]);
    tf.dispose([...t.values(), ...back.tensors.values()]);
  });

  it("names the tensor for out-of-range FP8 values, I64 beyond int32 and dtypes that cannot hold the tensor", () => {
    const before = tf.memory().numTensors;
    const big = new Map([["w", tf.tensor1d([1, 500])]]);
    expect(() => encodeSafetensors(big, {}, new Map([["w", "F8_E4M3"]]))).toThrow(
      'tensor "w" stored as F8_E4M3 has value 500 at index 1',
    );
    expect(() => encodeSafetensors(big, {}, new Map([["w", "I64"]]))).toThrow(
      'dtypes["w"] = I64 cannot store a float32 tensor (float32 stores as F32, F16, BF16, F8_E4M3)',
    );
    tf.dispose([...big.values()]);
    const json =
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"i":{"dtype":"I64","shape":[1],"data_offsets":[4,12]}}';
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    const file = new Uint8Array(8 + padded.length + 12);
    new DataView(file.buffer).setBigUint64(0, BigInt(padded.length), true);
    file.set(new TextEncoder().encode(padded), 8);
    new DataView(file.buffer).setBigInt64(8 + padded.length + 4, 2n ** 40n, true);
    expect(() => decodeSafetensors(file)).toThrow('tensor "i" I64 value 1099511627776 at index 0 does not fit int32');
    expect(tf.memory().numTensors).toBe(before);
  });
});
