/**
 * Writes the Route statuses `routeStatusPatch` asks for, with bounded concurrency; a newer patch
 * for a Route replaces a queued one. It remembers what it sent against which resourceVersion, so
 * rebuilds that happen before the watch echoes a write do not send it again. A failed write is
 * retried by reconciling again after a delay (never in a tight loop).
 */
import { LandlordError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import type { RouteVerdict } from './cluster-snapshot.ts';
import { objectKey } from '../../shared/kube-reflector.ts';
import type { RouteResource, RouteStatusWriter } from './kube-resources.ts';
import { routeStatusPatch } from './route-status.ts';

export class StatusWrites {
  readonly #write: RouteStatusWriter;
  readonly #limit: number;
  readonly #logger: Logger;
  readonly #queue = new Map<string, () => Promise<void>>();
  /** What was last sent per Route, against which resourceVersion: skips re-sending before the watch echoes it. */
  readonly #sent = new Map<string, { resourceVersion: string | undefined; fingerprint: string }>();
  readonly #retry: () => void;
  #running = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Writes sent (attempts, including failed ones). */
  count = 0;

  /** `retry` is called `retryDelayMs` after a failed write, to reconcile again. */
  constructor(options: { write: RouteStatusWriter; limit: number; logger: Logger; retry: () => void; retryDelayMs: number }) {
    this.#write = options.write;
    this.#limit = options.limit;
    this.#logger = options.logger;
    this.#retry = () => {
      if (this.#retryTimer !== undefined) return;
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        options.retry();
      }, options.retryDelayMs);
      this.#retryTimer.unref();
    };
  }

  stop(): void {
    clearTimeout(this.#retryTimer);
    this.#queue.clear();
  }

  reconcile(routes: readonly RouteResource[], verdicts: ReadonlyMap<string, RouteVerdict>, now: Date): void {
    const present = new Set(routes.map(objectKey));
    for (const key of this.#sent.keys()) if (!present.has(key)) this.#sent.delete(key);
    for (const route of routes) {
      const key = objectKey(route);
      const verdict = verdicts.get(key);
      const generation = route.metadata.generation;
      const patch = verdict && routeStatusPatch(route.status, verdict, generation, now);
      if (!verdict || !patch) {
        this.#sent.delete(key);
        continue;
      }
      const fingerprint = JSON.stringify([verdict, generation]);
      const sent = this.#sent.get(key);
      if (sent && sent.resourceVersion === route.metadata.resourceVersion && sent.fingerprint === fingerprint) continue;
      this.#sent.set(key, { resourceVersion: route.metadata.resourceVersion, fingerprint });
      if (!verdict.accepted.status) this.#logger.warn('route not accepted', { route: key, reason: verdict.accepted.reason, message: verdict.accepted.message });
      this.#queue.set(key, async () => {
        this.count += 1;
        await this.#write(route.metadata.namespace ?? '', route.metadata.name, patch);
      });
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#limit && this.#queue.size > 0) {
      const [key, job] = this.#queue.entries().next().value as [string, () => Promise<void>];
      this.#queue.delete(key);
      this.#running += 1;
      job()
        .catch((error: unknown) => {
          this.#sent.delete(key);
          this.#logger.error('route status not written; retrying', { code: error instanceof LandlordError ? error.code : 'LL_ROUTER_ROUTE_STATUS_FAILED', route: key, error });
          this.#retry();
        })
        .finally(() => {
          this.#running -= 1;
          this.#pump();
        });
    }
  }
}
