// The record of one `npm run reproduce`: machine, git commit, parameters, total and per-notebook wall time
// (<results>/run.json), and reading a results folder back (run.json + every <name>.json) for the generators.
// Reference: issue 19 item 5 (a reference run a reader can check); papermill's run metadata.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { cpuFacts } from "../bench/machine";
import type { ParameterValue } from "./notebook";
import type { NotebookResults } from "./results";

/** File name of the run record in a results folder. */
export const RUN_RECORD_FILE = "run.json";

/** The machine a run ran on. */
export interface MachineFacts {
  /** CPU model name ("AMD EPYC 9R14"). */
  cpu: string;
  /** Physical cores (lscpu), else logical processors. */
  cores: number;
  /** Logical processors. */
  logical: number;
  /** Total memory in GiB (one decimal). */
  memoryGiB: number;
  /** Operating system: /etc/os-release PRETTY_NAME, else os.type(), with the kernel release. */
  os: string;
  node: string;
}

/** The git commit a run ran from. */
export interface CommitFacts {
  /** Full hash of HEAD, or "unknown" outside a git checkout. */
  hash: string;
  /** true when tracked files differed from HEAD (the run is not exactly that commit). */
  dirty: boolean;
}

/** One notebook's line in the run record. */
export interface RunRecordNotebook {
  name: string;
  status: NotebookResults["status"];
  wallSeconds: number;
}

/** <results>/run.json: what one invocation of the runner did. */
export interface RunRecord {
  /** ISO times the run started and ended. */
  started: string;
  finished: string;
  /** Wall seconds of the whole run (kernel starts included). */
  wallSeconds: number;
  /** Parameters injected into every notebook (quick, -p). */
  params: Record<string, ParameterValue>;
  /** Names asked for with --only (empty: every listed notebook). */
  only: string[];
  /** The notebooks this invocation ran, in order. */
  notebooks: RunRecordNotebook[];
  machine: MachineFacts;
  commit: CommitFacts;
}

function osName(): string {
  try {
    const line = readFileSync("/etc/os-release", "utf8")
      .split("\n")
      .find((l) => l.startsWith("PRETTY_NAME="));
    if (line) return `${line.slice("PRETTY_NAME=".length).replace(/^"|"$/g, "")} (${os.type()} ${os.release()})`;
  } catch {
    // not Linux
  }
  return `${os.type()} ${os.release()}`;
}

/** This machine: CPU model and cores (lib/bench/machine.ts), memory, OS, Node. */
export function machineFacts(): MachineFacts {
  const cpu = cpuFacts();
  return {
    cpu: cpu.model,
    cores: cpu.cores,
    logical: cpu.logical,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    node: process.version,
  };
}

/** HEAD of the git checkout at `dir` and whether tracked files differ from it; "unknown" without git. */
export function commitFacts(dir: string): CommitFacts {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
    return { hash: git("rev-parse", "HEAD"), dirty: git("status", "--porcelain", "--untracked-files=no") !== "" };
  } catch {
    return { hash: "unknown", dirty: false };
  }
}

/** A results folder read back: its run record (null when absent) and every notebook's results, by name. */
export interface ResultsFolder {
  dir: string;
  run: RunRecord | null;
  results: Map<string, NotebookResults>;
}

/** Reads `dir`/run.json and every other `dir`/*.json as a notebook's results; errors name the file. */
export function readResultsFolder(dir: string): ResultsFolder {
  if (!existsSync(dir)) throw new Error(`readResultsFolder(dir): ${dir} does not exist; run npm run reproduce first`);
  const parse = <T>(file: string): T => {
    try {
      return JSON.parse(readFileSync(join(dir, file), "utf8")) as T;
    } catch (e) {
      throw new Error(`readResultsFolder(dir): ${join(dir, file)} is not valid JSON: ${(e as Error).message}`);
    }
  };
  const results = new Map<string, NotebookResults>();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(".json") || file === RUN_RECORD_FILE) continue;
    const r = parse<NotebookResults>(file);
    if (typeof r?.name !== "string" || !Array.isArray(r.claims) || typeof r.wallSeconds !== "number")
      throw new Error(
        `readResultsFolder(dir): ${join(dir, file)} is not a notebook's results (name, claims, wallSeconds)`,
      );
    results.set(r.name, r);
  }
  const run = existsSync(join(dir, RUN_RECORD_FILE)) ? parse<RunRecord>(RUN_RECORD_FILE) : null;
  return { dir, run, results };
}

/** "1 h 02 min", "14 min 05 s", "42.0 s": a wall time for people. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new Error(`formatDuration(seconds): expected a finite number ≥ 0, got ${seconds}`);
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
}
