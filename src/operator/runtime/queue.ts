/**
 * A keyed work queue with client-go's guarantees:
 * - deduplicating: a key waiting in the queue is there once, however often it was added;
 * - one worker per key: a key added while it is being processed is queued again when `done`;
 * - delayed adds (`addAfter`) and per-key exponential backoff (`addRateLimited`, reset by `forget`).
 */
import { Backoff } from './backoff.ts';

export interface WorkQueueOptions {
  /** First retry delay of a failing key. */
  initialBackoffMs?: number;
  /** Largest retry delay of a failing key. */
  maxBackoffMs?: number;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #backoffs = new Map<string, Backoff>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #options: Required<WorkQueueOptions>;
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#options = { initialBackoffMs: options.initialBackoffMs ?? 50, maxBackoffMs: options.maxBackoffMs ?? 60_000 };
  }

  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) this.#start(key, waiter);
    else this.#queue.push(key);
  }

  /** Adds `key` after `delayMs`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Adds `key` after its next backoff delay: for a reconcile that failed. */
  addRateLimited(key: string): void {
    let backoff = this.#backoffs.get(key);
    if (!backoff) {
      backoff = new Backoff({ initialMs: this.#options.initialBackoffMs, maxMs: this.#options.maxBackoffMs });
      this.#backoffs.set(key, backoff);
    }
    this.addAfter(key, backoff.next());
  }

  /** Forgets `key`'s failures: its next `addRateLimited` waits the initial delay again. */
  forget(key: string): void {
    this.#backoffs.delete(key);
  }

  /** The next key to process, or undefined once the queue is shut down. Call `done` after. */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#processing.add(key);
      this.#dirty.delete(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shutDown) {
      this.#dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting now (not counting delayed adds). */
  get length(): number {
    return this.#queue.length;
  }

  /** Nothing queued and nothing being processed (delayed adds may still be pending). */
  isIdle(): boolean {
    return this.#queue.length === 0 && this.#processing.size === 0;
  }

  /** Wakes every waiting `get` with undefined and drops queued and delayed keys. */
  shutDown(): void {
    this.#shutDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#queue.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  #start(key: string, waiter: (key: string) => void): void {
    this.#processing.add(key);
    this.#dirty.delete(key);
    waiter(key);
  }
}
