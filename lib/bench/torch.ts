// Benchmark engine for Debian's PyTorch CPU: one /usr/bin/python3 scripts/bench_torch.py process, driven over JSON
// lines (the protocol is described in the script), so its cases interleave with the other engines'.
import { ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface, Interface } from "node:readline";
import { Engine, EngineSamples, RepeatPlan, debianPackageVersion } from "./engine";
import { torchScript } from "./paths";
import type { BenchCase } from "./workloads";
import { withDefaults } from "../check";

/** How the PyTorch process runs. */
export interface TorchConfig {
  /** Interpreter with python3-torch. Default "/usr/bin/python3" (the `python3` on PATH may be a pyenv without it). */
  python: string;
  /** torch.set_num_threads(threads). Default 1 (the bench passes the native pool size). */
  threads: number;
  /**
   * OMP_WAIT_POLICY for torch's OpenMP threads, or null to inherit the environment. Default "PASSIVE": idle threads
   * sleep, like the native pool's (condition variables); with libgomp's spinning, a 2-thread torch step ran 5-10×
   * slower whenever other processes shared the 2 cores.
   */
  ompWaitPolicy: "PASSIVE" | "ACTIVE" | null;
  /** Longest one reply may take, ms (start-up included). Default 600 000. */
  timeoutMs: number;
}

export const DEFAULT_TORCH_CONFIG: Readonly<TorchConfig> = Object.freeze({
  python: "/usr/bin/python3",
  threads: 1,
  ompWaitPolicy: "PASSIVE",
  timeoutMs: 600_000,
});

/** The script's first line. */
export interface TorchHello {
  ready: boolean;
  error?: string;
  torch?: string;
  python?: string;
  threads?: number;
  blas?: string;
  /** OMP_WAIT_POLICY the process ran with ("" when unset). */
  omp_wait_policy?: string;
}

/** One reply: samples (and the last loss of a train step) or an error. */
export interface TorchReply {
  id: number;
  samples_ms?: number[];
  loss?: number | null;
  /** Process CPU seconds (time.process_time) per wall second over warmup and timed calls. */
  cores?: number;
  error?: string;
}

/** The twin check of a transformer case: the lab model's weights by parameter name and one batch. */
export interface TwinCheckRequest {
  weights: Record<string, number[]>;
  /** [B][T] token ids. */
  inputs: number[][];
  /** [B][T] next tokens. */
  targets: number[][];
  /** Adam steps to take. */
  steps: number;
}

/** What the twin measured: its parameter count and the loss before each step. */
export interface TwinCheckReply {
  params: number;
  losses: number[];
}

/** A running bench_torch.py: send() one request, get its reply line. */
export class TorchProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly waiting: ((line: string | null) => void)[] = [];
  private readonly buffered: (string | null)[] = [];
  private stderr = "";
  private nextId = 1;
  private spawnFailed = false;

  constructor(private readonly config: TorchConfig) {
    const env = config.ompWaitPolicy ? { ...process.env, OMP_WAIT_POLICY: config.ompWaitPolicy } : process.env;
    this.child = spawn(config.python, [torchScript(), "--threads", String(config.threads)], {
      stdio: ["pipe", "pipe", "pipe"],
      env,
    });
    this.child.stderr.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.child.on("error", (e) => {
      this.spawnFailed = true;
      this.stderr += `${e.message}\n`;
      this.deliver(null);
    });
    this.child.stdin.on("error", () => undefined); // a dead process is reported by next(), not by a write error
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on("line", (line) => this.deliver(line));
    this.lines.on("close", () => this.deliver(null));
  }

  private deliver(line: string | null): void {
    const w = this.waiting.shift();
    if (w) w(line);
    else this.buffered.push(line);
  }

  /** The next line from the script (null once it has exited), or an error after the timeout. */
  private next(): Promise<string> {
    const line = this.buffered.length
      ? Promise.resolve(this.buffered.shift()!)
      : new Promise<string | null>((r) => this.waiting.push(r));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`bench_torch.py gave no answer in ${this.config.timeoutMs} ms`)),
        this.config.timeoutMs,
      );
    });
    return Promise.race([line, limit])
      .finally(() => clearTimeout(timer))
      .then((l) => {
        if (l === null)
          throw new Error(`bench_torch.py exited: ${this.stderr.trim().split("\n").pop() ?? "no output"}`);
        return l;
      });
  }

  /** The script's first line (versions, or why torch cannot run). */
  async hello(): Promise<TorchHello> {
    return JSON.parse(await this.next()) as TorchHello;
  }

  /** Sends one request (its id added) and returns the reply; throws on the script's error reply. */
  private async request<R>(fields: object): Promise<R & { id: number; error?: string }> {
    const id = this.nextId++;
    this.child.stdin.write(`${JSON.stringify({ id, ...fields })}\n`);
    const reply = JSON.parse(await this.next()) as R & { id: number; error?: string };
    if (reply.id !== id) throw new Error(`bench_torch.py answered request ${reply.id}, expected ${id}`);
    if (reply.error) throw new Error(`PyTorch: ${reply.error}`);
    return reply;
  }

  /** Runs one case; throws on the script's error reply. */
  async measure(c: BenchCase, plan: Pick<RepeatPlan, "warmup" | "warmupMs" | "repeats">): Promise<TorchReply> {
    return this.request<TorchReply>({
      workload: c.workload,
      warmup: plan.warmup,
      warmup_ms: plan.warmupMs,
      repeats: plan.repeats,
    });
  }

  /** Builds the twin of a transformer case with the given weights and trains it on the given batch (test/bench/torch.test.ts). */
  async checkTwin(c: BenchCase, check: TwinCheckRequest): Promise<TwinCheckReply> {
    return this.request<TwinCheckReply>({ workload: c.workload, check });
  }

  /** Closes stdin and waits for the process to exit (killing it after 5 s). */
  async close(): Promise<void> {
    if (this.spawnFailed || this.child.exitCode !== null || this.child.signalCode !== null) return this.lines.close();
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    this.lines.close();
  }
}

/** PyTorch eager CPU as a benchmark engine (every workload kind). */
export function torchEngine(config: Partial<TorchConfig> = {}): Engine {
  const c = withDefaults("torchEngine(config)", DEFAULT_TORCH_CONFIG, config);
  let proc: TorchProcess | null = null;
  let settings: Record<string, string | number> = {};
  return {
    name: "torch",
    async open() {
      proc = new TorchProcess(c);
      let hello: TorchHello;
      try {
        hello = await proc.hello();
      } catch (e) {
        await this.close();
        return `not installed (${c.python}: ${(e as Error).message})`;
      }
      if (!hello.ready) {
        await this.close();
        return `not installed (${hello.error})`;
      }
      const deb = debianPackageVersion("python3-torch");
      settings = {
        torch: hello.torch! + (deb ? ` (Debian python3-torch ${deb})` : ""),
        python: hello.python!,
        threads: hello.threads!,
        OMP_WAIT_POLICY: hello.omp_wait_policy || "unset",
        blas: hello.blas!,
      };
      return null;
    },
    info: () => ({ ...settings }),
    unsupported: () => null,
    async measure(bc: BenchCase, plan: RepeatPlan): Promise<EngineSamples> {
      if (!proc) throw new Error("torchEngine.measure: open() did not succeed");
      const r = await proc.measure(bc, plan);
      return { samples: r.samples_ms!, ...(r.cores !== undefined ? { cores: r.cores } : {}) };
    },
    async close() {
      await proc?.close();
      proc = null;
    },
  };
}
