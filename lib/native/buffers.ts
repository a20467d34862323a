// Output-buffer pool of the native backend: kernels take their output arrays from here instead of allocating fresh
// zero-filled ones, and an output's buffer comes back when its tensor data is disposed, unless anyone else can
// still see it. Reference: DESIGN.md §2 (the native backend stores tensors as typed arrays, like MathBackendCPU).
//
// Safety rules (NativeBackend calls the hooks: write -> track, readSync/read -> expose, disposeData -> release):
// - only buffers this pool allocated are ever recycled, never arrays from user data or other kernels;
import * as os from "node:os";
import { withDefaults } from "../check";
// - MathBackendCPU's readSync/read (dataSync, data, arraySync, bufferSync, print ...) hand out the stored array itself,
//   so a buffer that was ever read out is forgotten for good;
// - a buffer stored a second time (a cpu kernel that puts a view or the same array under another tensor, like a
//   contiguous Slice's subarray) is forgotten too;
// - recycled buffers are not zeroed: a kernel that takes one must write every element.
// Buffers are pooled by exact byte length (the size buckets are exact sizes): an output array is then always its
// whole ArrayBuffer, so `new Uint8Array(t.dataSync().buffer)` (tensor.bytes() does this) sees only its values.

/** Limits of a BufferPool. */
export interface BufferPoolConfig {
  /** Most bytes kept in idle buffers; the longest-idle buffers are dropped beyond it (0 turns pooling off). */
  maxBytes: number;
  /** Smallest buffer, in bytes, worth pooling: smaller arrays are cheap to allocate and left to the collector. */
  minBytes: number;
}

/**
 * 2 GiB of idle buffers at most (a quarter of the RAM where that is less); arrays under 8 KiB (2048 floats) are not
 * pooled: measured, pooling pays from there (a chain of 8K-element adds: 11 us/op pooled, 25 unpooled; 1K elements: no
 * difference). The cap must hold a whole train step's buffers: a step frees them all at its end and asks for them again
 * in the same order, so a cap below that evicts each buffer before its reuse and every big output is a fresh array
 * whose pages fault in while the kernel writes it (a 4096×680 GEMM output: +36% time). The LM suite's dense
 * TransformerLM step (B=32, T=128) needs ~960 MB; with 256 MiB, 366 of its buffers per 2 steps were fresh and the
 * step took 1.2-1.5× the time (CPU and wall, alternating caps in one process on the shared 2-core machine).
 */
export const DEFAULT_BUFFER_POOL_CONFIG: Readonly<BufferPoolConfig> = Object.freeze({
  maxBytes: Math.min(2 * 2 ** 30, Math.floor(os.totalmem() / 4)),
  minBytes: 8 * 2 ** 10,
});

/** Counters of a BufferPool since it was made (or cleared). */
export interface BufferPoolStats {
  /** Bytes held in idle buffers now. */
  idleBytes: number;
  /** Idle buffers now. */
  idleBuffers: number;
  /** Requests served with an idle buffer. */
  reused: number;
  /** Requests that allocated a new buffer (pooled sizes only). */
  allocated: number;
  /** Buffers taken back when their tensor data was disposed. */
  recycled: number;
  /** Buffers the pool let go because someone else can see them (read out, or stored twice). */
  exposed: number;
  /** Idle buffers dropped to stay under maxBytes. */
  evicted: number;
}

/** Where a pooled buffer is: handed to a kernel, stored as one tensor's data, or idle in the pool. */
type BufferState = "fresh" | "owned" | "idle";

/** A tensor's data id (tfjs DataId: any object). */
type DataId = object;

function checkConfig(config: BufferPoolConfig): BufferPoolConfig {
  for (const key of ["maxBytes", "minBytes"] as const) {
    const v = config[key];
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`BufferPool config.${key}: expected a non-negative number of bytes, got ${v}`);
    }
  }
  return config;
}

/** Size-bucketed pool of output ArrayBuffers, keyed by exact byte length. */
export class BufferPool {
  private settings: BufferPoolConfig;
  private readonly state = new WeakMap<ArrayBuffer, BufferState>();
  /** The pooled buffer stored as each tensor data's values. */
  private readonly owners = new WeakMap<DataId, ArrayBuffer>();
  /** Idle buffers by byte length, most recently freed last. */
  private readonly idle = new Map<number, ArrayBuffer[]>();
  /** Every idle buffer, longest idle first (eviction order). */
  private readonly idleOrder = new Set<ArrayBuffer>();
  private counters = { idleBytes: 0, reused: 0, allocated: 0, recycled: 0, exposed: 0, evicted: 0 };

  constructor(config: Partial<BufferPoolConfig> = {}) {
    this.settings = checkConfig(withDefaults("BufferPool(config)", DEFAULT_BUFFER_POOL_CONFIG, config));
  }

  /** The limits in force. */
  get config(): Readonly<BufferPoolConfig> {
    return { ...this.settings };
  }

  /** Changes the limits (omitted fields keep their value) and drops idle buffers beyond the new maxBytes. */
  configure(config: Partial<BufferPoolConfig>): void {
    this.settings = checkConfig({ ...this.settings, ...config });
    this.evict();
  }

  /** A Float32Array of `length` elements with unspecified contents (the kernel must write them all). */
  float32(length: number): Float32Array {
    return new Float32Array(this.take(length * 4));
  }

  /** An Int32Array of `length` elements with unspecified contents (the kernel must write them all). */
  int32(length: number): Int32Array {
    return new Int32Array(this.take(length * 4));
  }

  /** Hook: `values` were stored as the data of `dataId` (the backend's write). */
  track(dataId: DataId, values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    const buffer = values.buffer as ArrayBuffer;
    const state = this.state.get(buffer);
    if (state === undefined) return;
    if (state === "fresh" && values.byteOffset === 0 && values.byteLength === buffer.byteLength) {
      this.state.set(buffer, "owned");
      this.owners.set(dataId, buffer);
    } else {
      this.forget(buffer); // a second reference to a pooled buffer: it can no longer be recycled safely
    }
  }

  /** Hook: the data of `dataId` is being handed out (the backend's readSync/read); it is never recycled. */
  expose(dataId: DataId): void {
    const buffer = this.owners.get(dataId);
    if (buffer === undefined) return;
    this.owners.delete(dataId);
    this.forget(buffer);
  }

  /** Hook: the data of `dataId` was deleted (the backend's disposeData); its buffer becomes idle. */
  release(dataId: DataId): void {
    const buffer = this.owners.get(dataId);
    if (buffer === undefined) return;
    this.owners.delete(dataId);
    if (this.state.get(buffer) !== "owned") return;
    const bytes = buffer.byteLength;
    if (bytes > this.settings.maxBytes) {
      this.state.delete(buffer);
      return;
    }
    this.state.set(buffer, "idle");
    let list = this.idle.get(bytes);
    if (!list) this.idle.set(bytes, (list = []));
    list.push(buffer);
    this.idleOrder.add(buffer);
    this.counters.idleBytes += bytes;
    this.counters.recycled++;
    this.evict();
  }

  /** Drops every idle buffer and resets the counters (buffers in use are still tracked). */
  clear(): void {
    for (const buffer of this.idleOrder) this.state.delete(buffer);
    this.idle.clear();
    this.idleOrder.clear();
    this.counters = { idleBytes: 0, reused: 0, allocated: 0, recycled: 0, exposed: 0, evicted: 0 };
  }

  /** Counters since the pool was made or cleared. */
  stats(): BufferPoolStats {
    return { ...this.counters, idleBuffers: this.idleOrder.size };
  }

  private take(bytes: number): ArrayBuffer {
    if (bytes < this.settings.minBytes || this.settings.maxBytes === 0) return new ArrayBuffer(bytes);
    const buffer = this.idle.get(bytes)?.pop();
    if (buffer !== undefined) {
      this.idleOrder.delete(buffer);
      this.counters.idleBytes -= bytes;
      this.counters.reused++;
      this.state.set(buffer, "fresh");
      return buffer;
    }
    const fresh = new ArrayBuffer(bytes);
    this.counters.allocated++;
    this.state.set(fresh, "fresh");
    return fresh;
  }

  private forget(buffer: ArrayBuffer): void {
    const state = this.state.get(buffer);
    if (state === undefined) return;
    if (state === "idle") this.removeIdle(buffer);
    this.state.delete(buffer);
    this.counters.exposed++;
  }

  private removeIdle(buffer: ArrayBuffer): void {
    const list = this.idle.get(buffer.byteLength)!;
    list.splice(list.indexOf(buffer), 1);
    if (list.length === 0) this.idle.delete(buffer.byteLength);
    this.idleOrder.delete(buffer);
    this.counters.idleBytes -= buffer.byteLength;
  }

  private evict(): void {
    while (this.counters.idleBytes > this.settings.maxBytes) {
      const oldest = this.idleOrder.values().next().value as ArrayBuffer;
      this.removeIdle(oldest);
      this.state.delete(oldest);
      this.counters.evicted++;
    }
  }
}
