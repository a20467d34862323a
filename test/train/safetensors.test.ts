// safetensors: exact bytes of a hand-built file, round trips of every supported dtype, an independent reader
// (Python's struct/json/numpy, as the format's README describes it), and named errors for malformed files.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { decodeSafetensors, encodeSafetensors, saveSafetensors } from "../../lib/train/safetensors";

const PYTHON = "/usr/bin/python3";

function header(json: string): Uint8Array {
  const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded.length), true);
  out.set(new TextEncoder().encode(padded), 8);
  return out;
}

describe("safetensors", () => {
  it("writes the exact bytes: u64 LE header length, space-padded JSON, little-endian data in order", () => {
    const t = new Map([
      ["w", tf.tensor1d([1, -2])],
      ["i", tf.tensor1d([258], "int32")],
    ]);
    const bytes = encodeSafetensors(t, { step: "3" });
    const json =
      '{"__metadata__":{"step":"3"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"i":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}';
    const expected = [...header(json), 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 2, 1, 0, 0]; // 1.0f, -2.0f, 258 (LE)
    expect(Array.from(bytes)).toEqual(expected);
    tf.dispose([...t.values()]);
  });

  it("round-trips float32, int32 and bool tensors of any rank, scalars and empty tensors, with metadata", () => {
    const t = new Map<string, tf.Tensor>([
      ["layers.0.w", tf.tensor3d([1.5, -0, 3e-39, 7, 8, 9, 10, 11], [2, 2, 2])],
      ["count", tf.scalar(-7, "int32")],
      ["mask", tf.tensor1d([true, false, true], "bool")],
      ["empty", tf.zeros([0, 3])],
    ]);
    const back = decodeSafetensors(encodeSafetensors(t, { a: "1", b: "x y" }));
    expect(back.metadata).toEqual({ a: "1", b: "x y" });
    expect([...back.tensors.keys()]).toEqual([...t.keys()]);
    for (const [name, v] of t) {
      const w = back.tensors.get(name)!;
      expect(w.dtype, name).toBe(v.dtype);
      expect(w.shape, name).toEqual(v.shape);
      expect(Array.from(w.dataSync()), name).toEqual(Array.from(v.dataSync()));
    }
    expect(Object.is(back.tensors.get("layers.0.w")!.dataSync()[1], -0)).toBe(true);
    tf.dispose([...t.values(), ...back.tensors.values()]);
  });

  it.skipIf(!existsSync(PYTHON))("is read by an independent reader (Python struct + json + numpy)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "moelab-st-"));
    const file = path.join(dir, "x.safetensors");
    const t = new Map<string, tf.Tensor>([
      [
        "a",
        tf.tensor2d([
          [1, 2, 3],
          [4, 5, 6.5],
        ]),
      ],
      ["b", tf.tensor1d([-3, 9], "int32")],
    ]);
    saveSafetensors(file, t, { note: "hi" });
    const script = `
import json, struct, sys, numpy as np
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
h = json.loads(raw[8:8 + n])
data = raw[8 + n:]
out = {"meta": h.pop("__metadata__")}
for k, e in h.items():
    b, t = e["data_offsets"]
    arr = np.frombuffer(data[b:t], dtype={"F32": "<f4", "I32": "<i4"}[e["dtype"]]).reshape(e["shape"])
    out[k] = {"shape": list(arr.shape), "values": arr.ravel().tolist()}
print(json.dumps(out))`;
    const r = spawnSync(PYTHON, ["-c", script, file], { encoding: "utf8" });
    rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      meta: { note: "hi" },
      a: { shape: [2, 3], values: [1, 2, 3, 4, 5, 6.5] },
      b: { shape: [2], values: [-3, 9] },
    });
    tf.dispose([...t.values()]);
  });

  it("rejects malformed files and unsupported dtypes by name, freeing what it decoded", () => {
    const before = tf.memory().numTensors;
    expect(() => decodeSafetensors(new Uint8Array(4))).toThrow(
      "decodeSafetensors(bytes): 4 bytes is shorter than the 8-byte header length",
    );
    const f64 = header('{"h":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}');
    expect(() => decodeSafetensors(new Uint8Array([...f64, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(
      'tensor "h" has dtype F64; this reader knows F32, F16, BF16, F8_E4M3, I64, I32, BOOL',
    );
    const gap = header(
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
    );
    expect(() => decodeSafetensors(new Uint8Array([...gap, ...new Array(12).fill(0)]))).toThrow(
      'tensor "b" [1] F32 has data_offsets [8, 12]; expected [4, 8]',
    );
    const extra = header('{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}');
    expect(() => decodeSafetensors(new Uint8Array([...extra, 1, 0, 0, 0, 9]))).toThrow("1 bytes after the last tensor");
    expect(() => decodeSafetensors(new Uint8Array([...header("{nope"), 0]))).toThrow(
      "the header is not valid UTF-8 JSON",
    );
    expect(tf.memory().numTensors).toBe(before);
    const s = tf.tensor1d(["x"], "string");
    expect(() => encodeSafetensors(new Map([["s", s]]))).toThrow(
      'encodeSafetensors(tensors, metadata): tensor "s" has dtype string; expected float32, int32 or bool',
    );
    s.dispose();
  });
});
