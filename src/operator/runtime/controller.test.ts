import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../shared/log.ts';
import { done, requeueAfter, runWorkers, TerminalError, type ReconcileResult } from './controller.ts';
import { Counter } from './metrics.ts';
import { WorkQueue } from './queue.ts';

/** Runs `reconcile` over `keys` until `stopWhen` holds (bounded), then shuts the queue down. */
async function runUntil(keys: string[], reconcile: (key: string) => Promise<ReconcileResult>, stopWhen: () => boolean): Promise<Counter> {
  const queue = new WorkQueue({ initialBackoffMs: 1, maxBackoffMs: 5 });
  const reconciles = new Counter('reconciles', 'test', ['controller', 'result']);
  const running = runWorkers({ name: 'test', queue, reconciler: { reconcile }, workers: 2, logger: silentLogger, metrics: { reconciles } });
  for (const key of keys) queue.add(key);
  for (let i = 0; i < 500 && !stopWhen(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  queue.shutDown();
  await running;
  return reconciles;
}

describe('runWorkers', () => {
  it('retries a failing key with backoff until it succeeds', async () => {
    let attempts = 0;
    const counts = await runUntil(['a'], () => {
      attempts += 1;
      return attempts < 3 ? Promise.reject(new Error('transient')) : Promise.resolve(done);
    }, () => attempts >= 3);
    assert.equal(attempts, 3);
    assert.equal(counts.labels({ controller: 'test', result: 'error' }).value, 2);
    assert.equal(counts.labels({ controller: 'test', result: 'done' }).value, 1);
  });

  it('does not retry a terminal error', async () => {
    let attempts = 0;
    await runUntil(['a'], () => {
      attempts += 1;
      return Promise.reject(new TerminalError('LL_OPERATOR_TEST', 'cannot be fixed by retrying'));
    }, () => false);
    assert.equal(attempts, 1);
  });

  it('reconciles a key again after the delay it asked for', async () => {
    let attempts = 0;
    await runUntil(['a'], () => {
      attempts += 1;
      return Promise.resolve(attempts === 1 ? requeueAfter(5) : done);
    }, () => attempts >= 2);
    assert.equal(attempts, 2);
  });
});
