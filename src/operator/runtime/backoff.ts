/** Capped exponential backoff with jitter (full jitter over the upper half), for retries. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #attempt = 0;

  constructor(options: { initialMs: number; maxMs: number }) {
    this.#initialMs = options.initialMs;
    this.#maxMs = options.maxMs;
  }

  /** The delay before the next attempt; grows with every call until `reset`. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * 2 ** this.#attempt);
    this.#attempt += 1;
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
