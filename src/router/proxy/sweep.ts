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
