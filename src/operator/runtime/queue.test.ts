import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from './queue.ts';

describe('WorkQueue', () => {
  it('hands out a key added many times once', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), 'a');
    assert.equal(await queue.get(), 'b');
  });

  it('never gives one key to two workers: a key re-added while processed comes back after done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const key = await queue.get();
    queue.add('a');
    assert.equal(queue.length, 0, 'not handed out while processing');
    queue.done(key!);
    assert.equal(queue.length, 1);
    assert.equal(await queue.get(), 'a');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('x');
    assert.equal(await waiting, 'x');
  });

  it('adds a delayed key later, the earliest delay winning', async () => {
    const queue = new WorkQueue();
    queue.addAfter('a', 500_000);
    queue.addAfter('a', 10);
    assert.equal(queue.length, 0);
    assert.equal(await queue.get(), 'a');
    queue.shutDown();
  });

  it('reports idle only when nothing is queued or processing', async () => {
    const queue = new WorkQueue();
    assert.equal(queue.isIdle(), true);
    queue.add('a');
    assert.equal(queue.isIdle(), false);
    const key = await queue.get();
    assert.equal(queue.isIdle(), false);
    queue.done(key!);
    assert.equal(queue.isIdle(), true);
  });

  it('wakes waiting workers with undefined on shut down and ignores later adds', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add('a');
    assert.equal(await queue.get(), undefined);
  });

  it('backs a failing key off, and forget resets the backoff', async () => {
    const queue = new WorkQueue({ initialBackoffMs: 5, maxBackoffMs: 5 });
    queue.addRateLimited('a');
    assert.equal(await queue.get(), 'a');
    queue.forget('a');
    queue.done('a');
    assert.equal(queue.isIdle(), true);
  });
});
