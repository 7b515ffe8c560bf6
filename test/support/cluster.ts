/**
 * The cluster a test file runs against. Under `npm test` the suite shares one cluster, started by
 * scripts/run-tests.ts and named by LANDLORD_TEST_CLUSTER_DIR; a file run on its own starts its
 * own and stops it when the file's tests end.
 *
 * Call it at module level (top-level await), not inside a hook: the `after` that stops an own
 * cluster attaches to whatever test context is current, and a hook's ends with the hook.
 */
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { attachCluster, startCluster, type DevCluster } from '../../src/devcluster/index.ts';

export async function testCluster(options: { node: boolean }): Promise<DevCluster> {
  const shared = process.env.LANDLORD_TEST_CLUSTER_DIR;
  if (shared) {
    const cluster = attachCluster(shared);
    if (options.node && !cluster.hasNode) throw new Error('this test needs a cluster with a node: run it in the e2e suite');
    return cluster;
  }
  const cluster = await startCluster({ name: 'test-own', node: options.node });
  after(() => cluster.stop());
  return cluster;
}

/** Polls `check` until it returns a value other than undefined; bounded by `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** Live (non-zombie) processes among `pids`. */
export function liveProcesses(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
    } catch {
      return false;
    }
  });
}
