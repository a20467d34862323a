// A benchmark engine: something that runs a BenchCase and returns its timed samples (tfjs backends, OpenBLAS, PyTorch).
import { execFileSync } from "node:child_process";
import type { BenchCase } from "./workloads";

/** Engines in table order: the tfjs `native` backend, the C references, then tfjs `wasm` and `cpu`. */
export const ENGINES = ["native", "torch", "openblas", "wasm", "cpu"] as const;
export type EngineName = (typeof ENGINES)[number];

/** Column titles. */
export const ENGINE_TITLES: Readonly<Record<EngineName, string>> = Object.freeze({
  native: "tfjs native",
  torch: "PyTorch",
  openblas: "OpenBLAS",
  wasm: "tfjs wasm",
  cpu: "tfjs cpu",
});

/** How often to call a case. */
export interface RepeatPlan {
  /** Untimed calls first: at least this many… */
  warmup: number;
  /** …and until this many ms have passed (at most 1000 calls): the first calls of a size are slow (caches, pools). */
  warmupMs: number;
  /** Timed calls. */
  repeats: number;
  /** Engines that time their calls in-process may cut repeats so one case costs about this many ms (at least 1 repeat). */
  budgetMs: number;
}

/** What an engine measured for one case. */
export interface EngineSamples {
  /** Wall time of each timed call, ms. */
  samples: number[];
  /** Process CPU time / wall time over the case's calls (warmup included): cores kept busy. */
  cores?: number;
  /** Something the table should say about this measurement (fewer repeats, a variant used), or undefined. */
  note?: string;
}

/** A benchmark engine. */
export interface Engine {
  readonly name: EngineName;
  /** Prepares the engine; returns null when it can run, else why not (e.g. "not installed: …"). */
  open(): Promise<string | null>;
  /** Versions and settings for the environment record (valid after a successful open()). */
  info(): Record<string, string | number>;
  /** Null when the engine can run `c`, else why not (e.g. OpenBLAS runs GEMMs only). */
  unsupported(c: BenchCase): string | null;
  /** Runs `c` per `plan`. Throws on failure. */
  measure(c: BenchCase, plan: RepeatPlan): Promise<EngineSamples>;
  /** Frees what open() started (processes, temp files). Safe to call more than once. */
  close(): Promise<void>;
}

/** First line of an error's message. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** The installed version of a Debian package (dpkg-query), or null when not installed or not Debian. */
export function debianPackageVersion(pkg: string): string | null {
  try {
    const v = execFileSync("dpkg-query", ["-W", "-f=${Version}", pkg], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return v || null;
  } catch {
    return null;
  }
}
