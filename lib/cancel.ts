// Cooperative cancellation: Kernel › Interrupt (or any caller) cancels a token, and every long-running library loop
// calls throwIfCancelled() at the top of each iteration, so work stops between two whole steps (never inside one).
// The token travels with the async context (AsyncLocalStorage): work started by a cell, awaited or left running
// in the background, sees the token of the cells it came from; a later cell gets a fresh one.
// Reference: Python's KeyboardInterrupt; https://nodejs.org/api/async_context.html#class-asynclocalstorage
import { AsyncLocalStorage } from "node:async_hooks";

/** The error a cancelled loop throws; `name` is "KeyboardInterrupt", as a Python kernel reports Ctrl-C. */
export class KeyboardInterrupt extends Error {
  constructor(message = "interrupted: the work stopped between two steps; what it built so far is consistent") {
    super(message);
    this.name = "KeyboardInterrupt";
  }
}

/** A cancellation signal; cancel() is one-way. */
export class CancelToken {
  private reason: string | null = null;

  /** Whether cancel() was called. */
  get cancelled(): boolean {
    return this.reason !== null;
  }

  /** Cancels the work that runs under this token; `reason` becomes the KeyboardInterrupt's message. */
  cancel(reason = "interrupted by the user"): void {
    this.reason ??= reason;
  }

  /** Throws KeyboardInterrupt if cancelled, naming `where` (e.g. "fit at step 12"). */
  throwIfCancelled(where?: string): void {
    if (this.reason !== null)
      throw new KeyboardInterrupt(
        `${this.reason}${where ? ` (${where})` : ""}; stopped between two steps, so the model holds the last whole step`,
      );
  }
}

const storage = new AsyncLocalStorage<CancelToken>();

/** The token of code that runs outside runCancellable, in a kernel that cannot give each cell its own (Deno's). */
let ambient: CancelToken | null = null;

/** Sets (or with null, clears) the ambient token: lib/deno-jupyter.ts cancels it on SIGINT. */
export function setAmbientToken(token: CancelToken | null): void {
  ambient = token;
}

/** Runs `fn` (and everything it starts, synchronously or asynchronously) under `token`. */
export function runCancellable<T>(token: CancelToken, fn: () => T): T {
  return storage.run(token, fn);
}

/** The token of the running code, or null outside runCancellable (plain scripts stop on Ctrl-C by themselves). */
export function currentToken(): CancelToken | null {
  return storage.getStore() ?? ambient;
}

/** Whether the running code has been asked to stop. */
export function cancelled(): boolean {
  return currentToken()?.cancelled ?? false;
}

/**
 * Throws KeyboardInterrupt when the running code has been asked to stop: call at the top of each loop iteration. A
 * cancelled ambient token is spent by the throw (replaced by a fresh one), so the next cell starts uninterrupted.
 */
export function throwIfCancelled(where?: string): void {
  const token = currentToken();
  if (token === ambient && token?.cancelled) ambient = new CancelToken();
  token?.throwIfCancelled(where);
}
