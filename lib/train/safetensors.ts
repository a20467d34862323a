// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON (name → {dtype, shape,
// data_offsets: [begin, end]} plus an optional "__metadata__" of string → string, padded with spaces to a multiple of
// 8), then the raw little-endian tensor bytes, contiguous, in header order. Reference:
// https://github.com/huggingface/safetensors (README "Format"; safetensors/src/tensor.rs for the padding and checks).
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { decodeE4M3, decodeHalf, decodeI64, encodeE4M3, encodeHalf, encodeI64 } from "./safetensors-dtypes";
import { writeFileAtomic } from "./atomic";

/**
 * The safetensors dtypes this module reads and writes, the tfjs dtype they load as and their byte width. F16, BF16
 * and F8_E4M3 load as float32 (exact: every such value is a float32); I64 loads as int32 (values outside int32 are an
 * error). Writing them converts float32 (int32 for I64), rounding to nearest even.
 */
const DTYPES = {
  F32: { tf: "float32", bytes: 4 },
  F16: { tf: "float32", bytes: 2 },
  BF16: { tf: "float32", bytes: 2 },
  F8_E4M3: { tf: "float32", bytes: 1 },
  I64: { tf: "int32", bytes: 8 },
  I32: { tf: "int32", bytes: 4 },
  BOOL: { tf: "bool", bytes: 1 },
} as const;
export type SafetensorsDtype = keyof typeof DTYPES;

/** The bytes of `values` stored as `dtype` (whose tfjs dtype the caller has checked). */
function encodeValues(fn: string, name: string, values: tf.TypedArray, dtype: SafetensorsDtype): Uint8Array {
  switch (dtype) {
    case "F16":
    case "BF16":
      return encodeHalf(values, dtype);
    case "F8_E4M3":
      return encodeE4M3(fn, name, values as Float32Array);
    case "I64":
      return encodeI64(values);
    case "BOOL":
      return Uint8Array.from(values as Uint8Array);
    default:
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  }
}

/** The values of `raw` (an aligned copy) stored as `dtype`, in its tfjs dtype's array. */
function decodeValues(fn: string, name: string, raw: Uint8Array, dtype: SafetensorsDtype): tf.TypedArray {
  switch (dtype) {
    case "F32":
      return new Float32Array(raw.buffer);
    case "F16":
    case "BF16":
      return decodeHalf(raw, dtype);
    case "F8_E4M3":
      return decodeE4M3(raw);
    case "I64":
      return decodeI64(fn, name, raw);
    case "I32":
      return new Int32Array(raw.buffer);
    default:
      return raw;
  }
}

const FROM_TF: Partial<Record<tf.DataType, SafetensorsDtype>> = { float32: "F32", int32: "I32", bool: "BOOL" };

/** Header entry of one tensor. */
interface HeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

/** A decoded file: tensors by name (the caller owns them), the metadata strings and each tensor's stored dtype. */
export interface Safetensors {
  tensors: Map<string, tf.Tensor>;
  metadata: Record<string, string>;
  /** The dtype each tensor had in the file (F16/BF16/F8_E4M3 load as float32, I64 as int32). */
  dtypes: Map<string, SafetensorsDtype>;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function checkHost(fn: string): void {
  if (!LITTLE_ENDIAN) throw new Error(`${fn}: this host is big-endian; safetensors data is little-endian`);
}

/**
 * The bytes of a safetensors file holding `tensors` (in iteration order) and `metadata`. `dtypes` names the stored
 * dtype of some tensors (float32 → F16, BF16 or F8_E4M3; int32 → I64); the others keep their own (F32, I32, BOOL).
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, tf.Tensor>,
  metadata: Record<string, string> = {},
  dtypes: ReadonlyMap<string, SafetensorsDtype> = new Map(),
): Uint8Array {
  const fn = "encodeSafetensors(tensors, metadata)";
  checkHost(fn);
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") throw new Error(`${fn}: metadata["${key}"] must be a string, got ${typeof value}`);
  }
  if (Object.keys(metadata).length) header.__metadata__ = { ...metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__" || name === "") throw new Error(`${fn}: "${name}" is not a valid tensor name`);
    const own = FROM_TF[t.dtype];
    if (!own) throw new Error(`${fn}: tensor "${name}" has dtype ${t.dtype}; expected float32, int32 or bool`);
    const dtype = dtypes.get(name) ?? own;
    if (!Object.hasOwn(DTYPES, dtype) || DTYPES[dtype].tf !== t.dtype) {
      throw new Error(
        `${fn}: dtypes["${name}"] = ${dtype} cannot store a ${t.dtype} tensor (${t.dtype} stores as ${Object.entries(
          DTYPES,
        )
          .filter(([, s]) => s.tf === t.dtype)
          .map(([k]) => k)
          .join(", ")})`,
      );
    }
    const bytes = encodeValues(fn, name, t.dataSync(), dtype);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const jsonBytes = new TextEncoder().encode(json).length;
  json += " ".repeat((8 - (jsonBytes % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Decodes safetensors bytes; checks the header (dtypes, shapes against byte ranges, contiguous coverage). */
export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  const fn = "decodeSafetensors(bytes)";
  checkHost(fn);
  if (bytes.length < 8) throw new Error(`${fn}: ${bytes.length} bytes is shorter than the 8-byte header length`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`${fn}: header length ${n} runs past the end (${bytes.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${fn}: the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  const data = bytes.subarray(8 + n);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries = Object.entries(header).filter(([k]) => k !== "__metadata__") as [string, HeaderEntry][];
  entries.sort((a, b) => a[1].data_offsets?.[0] - b[1].data_offsets?.[0]);
  const tensors = new Map<string, tf.Tensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  let expectBegin = 0;
  try {
    for (const [name, e] of entries) {
      if (!e || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
        throw new Error(`${fn}: header entry "${name}" must be {dtype, shape: number[], data_offsets: [begin, end]}`);
      }
      const spec = Object.hasOwn(DTYPES, e.dtype) ? DTYPES[e.dtype] : undefined;
      if (!spec)
        throw new Error(
          `${fn}: tensor "${name}" has dtype ${e.dtype}; this reader knows ${Object.keys(DTYPES).join(", ")}`,
        );
      const [begin, end] = e.data_offsets;
      const size = e.shape.reduce((a, b) => a * b, 1);
      if (begin !== expectBegin || end - begin !== size * spec.bytes || end > data.length) {
        throw new Error(
          `${fn}: tensor "${name}" [${e.shape}] ${e.dtype} has data_offsets [${begin}, ${end}]; expected [${expectBegin}, ${expectBegin + size * spec.bytes}] within ${data.length} bytes`,
        );
      }
      const raw = new Uint8Array(end - begin); // a copy: aligned, and independent of `bytes` (a Buffer may share a pool)
      raw.set(data.subarray(begin, end));
      tensors.set(name, tf.tensor(decodeValues(fn, name, raw, e.dtype), e.shape, spec.tf));
      dtypes.set(name, e.dtype);
      expectBegin = end;
    }
    if (expectBegin !== data.length) throw new Error(`${fn}: ${data.length - expectBegin} bytes after the last tensor`);
  } catch (e) {
    tf.dispose([...tensors.values()]);
    throw e;
  }
  return { tensors, metadata, dtypes };
}

/** Writes `tensors` and `metadata` to `path` as a safetensors file, atomically (a crash leaves the old file or the new; `dtypes`: stored dtypes, see encodeSafetensors). */
export function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, tf.Tensor>,
  metadata: Record<string, string> = {},
  dtypes: ReadonlyMap<string, SafetensorsDtype> = new Map(),
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata, dtypes));
}

/** Reads a safetensors file (tensors in file order of their data). */
export function loadSafetensors(path: string): Safetensors {
  return decodeSafetensors(readFileSync(path));
}
