/**
 * One unref'd interval shared by every connection that needs a deadline, instead of a timer per
 * connection: it runs `sweep` every `periodMs` while `sweep` says there is more to watch, and is
 * started again by the next `watch()`. An idle router holds no timer.
 */
export class PeriodicSweep {
  readonly #periodMs: number;
  readonly #sweep: () => boolean;
  #timer: NodeJS.Timeout | undefined;

  /** `sweep` returns whether anything is left to watch. */
  constructor(periodMs: number, sweep: () => boolean) {
    this.#periodMs = periodMs;
    this.#sweep = sweep;
  }

  /** Something new to watch: makes sure the sweep runs. Cheap enough to call per connection. */
  watch(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#sweep()) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    }, this.#periodMs).unref();
  }
}

/** Something with a deadline that a sweep expires: a connection's handshake, a backend dial. */
export interface Deadline {
  /** `performance.now()` after which the sweep calls `expire`. */
  readonly deadline: number;
  expire(): void;
}

/** Expires every entry whose deadline passed; `pending` is in deadline order, so it stops at the first that has not. */
export function expireOverdue(pending: Iterable<Deadline>, now: number): void {
  for (const entry of pending) {
    if (entry.deadline > now) return;
    entry.expire();
  }
}
