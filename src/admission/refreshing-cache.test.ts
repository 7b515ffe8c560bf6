import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refreshingCache } from './refreshing-cache.ts';

/** A reader whose answers the test settles by hand, recording each read. */
function manualReader() {
  const reads: Array<{ key: string; resolve: (value: string) => void; reject: (error: Error) => void }> = [];
  const read = (key: string) => new Promise<string>((resolve, reject) => reads.push({ key, resolve, reject }));
  return { reads, read };
}

/** A cache (TTL 1000 ms) on a hand-moved clock holding `acme` = 'v1', read at time 0 (the reader's first read). */
async function cachedAtZero() {
  const clock = { now: 0 };
  const reader = manualReader();
  const cache = refreshingCache(reader.read, { ttlMs: 1000, now: () => clock.now });
  const first = cache.get('acme');
  reader.reads[0]!.resolve('v1');
  await first;
  return { clock, reader, cache };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('refreshingCache', () => {
  it('reads once for concurrent lookups and serves the entry within its first half without reading', async () => {
    let clock = 0;
    const reader = manualReader();
    const cache = refreshingCache(reader.read, { ttlMs: 1000, now: () => clock });
    const first = cache.get('acme');
    const second = cache.get('acme');
    assert.equal(reader.reads.length, 1);
    reader.reads[0]!.resolve('v1');
    assert.deepEqual(await Promise.all([first, second]), ['v1', 'v1']);
    clock = 499;
    assert.equal(await cache.get('acme'), 'v1');
    assert.equal(reader.reads.length, 1);
  });

  it('in the second half answers at once from the entry and refreshes it in the background, once', async () => {
    const { clock, reader, cache } = await cachedAtZero();
    clock.now = 600;
    assert.equal(await cache.get('acme'), 'v1', 'answered without waiting for the refresh');
    assert.equal(await cache.get('acme'), 'v1');
    assert.equal(reader.reads.length, 2, 'one refresh however many lookups');
    reader.reads[1]!.resolve('v2');
    await settle();
    assert.equal(await cache.get('acme'), 'v2');
    clock.now = 1050;
    assert.equal(await cache.get('acme'), 'v2', 'the refreshed entry counts from its own read (600): still in its first half');
    assert.equal(reader.reads.length, 2);
  });

  it('never serves an entry older than the TTL: after it a lookup waits for a fresh read', async () => {
    const { clock, reader, cache } = await cachedAtZero();
    clock.now = 5000;
    const late = cache.get('acme');
    assert.equal(reader.reads.length, 2);
    reader.reads[1]!.resolve('v2');
    assert.equal(await late, 'v2');
  });

  it('forgets failed reads: a failed first read rejects and the next lookup reads again; a failed refresh keeps the entry and retries', async () => {
    let clock = 0;
    const reader = manualReader();
    const cache = refreshingCache(reader.read, { ttlMs: 1000, now: () => clock });
    const failed = cache.get('acme');
    reader.reads[0]!.reject(new Error('apiserver down'));
    await assert.rejects(failed, /apiserver down/);
    const retried = cache.get('acme');
    assert.equal(reader.reads.length, 2);
    reader.reads[1]!.resolve('v1');
    assert.equal(await retried, 'v1');
    clock = 700;
    assert.equal(await cache.get('acme'), 'v1');
    reader.reads[2]!.reject(new Error('timeout'));
    await settle();
    assert.equal(await cache.get('acme'), 'v1', 'still within its TTL');
    assert.equal(reader.reads.length, 4, 'the failed refresh is tried again');
  });

  it('keeps at most maxEntries keys, forgetting the oldest', () => {
    const reader = manualReader();
    const cache = refreshingCache(reader.read, { ttlMs: 1000, now: () => 0, maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) void cache.get(key);
    for (const pending of reader.reads) pending.resolve(pending.key);
    void cache.get('a');
    assert.equal(reader.reads.length, 4, 'a was forgotten and read again');
    void cache.get('c');
    assert.equal(reader.reads.length, 4);
  });
});
