/**
 * Runs a level-triggered reconciler over a work queue with a fixed number of workers.
 *
 * A reconciler gets a key, re-reads the state it needs and converges it; it returns "done" or
 * "again after N ms", or throws. A `TerminalError` is logged and not retried (the next change
 * to the object enqueues it again); any other error retries the key with per-key backoff.
 */
import { LandlordError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import type { Counter } from './metrics.ts';
import type { WorkQueue } from './queue.ts';

export type ReconcileResult = { readonly kind: 'done' } | { readonly kind: 'requeueAfter'; readonly delayMs: number };

export const done: ReconcileResult = { kind: 'done' };
export const requeueAfter = (delayMs: number): ReconcileResult => ({ kind: 'requeueAfter', delayMs });

export interface Reconciler {
  reconcile(key: string): Promise<ReconcileResult>;
}

/** A failure retrying cannot fix (e.g. an object the reconciler cannot interpret). */
export class TerminalError extends LandlordError {}

export interface ControllerMetrics {
  reconciles: Counter;
}

/** Starts `workers` loops; resolves when the queue is shut down and every loop has finished. */
export async function runWorkers(input: {
  name: string;
  queue: WorkQueue;
  reconciler: Reconciler;
  workers: number;
  logger: Logger;
  metrics: ControllerMetrics;
}): Promise<void> {
  const { name, queue, reconciler, logger, metrics } = input;
  const worker = async (): Promise<void> => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      try {
        const result = await reconciler.reconcile(key);
        queue.forget(key);
        metrics.reconciles.inc({ controller: name, result: result.kind });
        if (result.kind === 'requeueAfter') queue.addAfter(key, result.delayMs);
      } catch (error) {
        if (error instanceof TerminalError) {
          queue.forget(key);
          metrics.reconciles.inc({ controller: name, result: 'terminal' });
          logger.error('reconcile failed; not retrying', { key, error });
        } else {
          metrics.reconciles.inc({ controller: name, result: 'error' });
          logger.warn('reconcile failed; retrying', { key, error });
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: input.workers }, worker));
}
