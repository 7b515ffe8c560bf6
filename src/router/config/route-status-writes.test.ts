import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../shared/log.ts';
import type { RouteVerdict } from './cluster-snapshot.ts';
import type { RouteResource } from './kube-resources.ts';
import { routeStatusPatch, type RouteStatusPatch } from './route-status.ts';
import { StatusWrites } from './route-status-writes.ts';

const now = new Date('2026-02-01T00:00:00Z');
const routed: RouteVerdict = {
  accepted: { status: true, reason: 'Accepted', message: 'ok' },
  ready: { status: true, reason: 'Routed', message: 'routing to 1 ready endpoint' },
  address: 'db.acme.example:443',
};

function route(name: string, resourceVersion: string, status?: RouteStatusPatch['status']): RouteResource {
  return {
    apiVersion: 'landlord.dev/v1alpha1',
    kind: 'Route',
    metadata: { name, namespace: 'acme', generation: 1, resourceVersion },
    spec: { hostname: `${name}.acme.example`, protocol: 'tls', backend: { service: 'db', port: 443 } },
    ...(status ? { status: { ...status, address: status.address ?? undefined } } : {}),
  };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await sleep(10);
  assert.ok(check(), `timed out waiting for ${what}`);
}

/** A status writer that records calls; `fail` makes the next writes throw. */
function recorder() {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const state = { fail: 0 };
  const write = async (namespace: string, name: string, patch: RouteStatusPatch): Promise<void> => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await sleep(5);
    inFlight -= 1;
    if (state.fail > 0) {
      state.fail -= 1;
      throw new Error('conflict');
    }
    calls.push(`${namespace}/${name} ${patch.status.conditions.map((c) => c.reason).join(',')}`);
  };
  return { calls, state, write, maxInFlight: () => maxInFlight };
}

describe('StatusWrites', () => {
  it('writes each changed Route once, even when reconciled again before the watch echoes the write', async () => {
    const { calls, write } = recorder();
    const writes = new StatusWrites({ write, limit: 4, logger: silentLogger, retry: () => {}, retryDelayMs: 10 });
    const routes = [route('a', '1'), route('b', '1')];
    const verdicts = new Map([['acme/a', routed], ['acme/b', routed]]);
    writes.reconcile(routes, verdicts, now);
    writes.reconcile(routes, verdicts, now);
    await until('the writes', () => calls.length === 2);
    await sleep(20);
    assert.deepEqual(calls.sort(), ['acme/a Accepted,Routed', 'acme/b Accepted,Routed']);
    assert.equal(writes.count, 2);
  });

  it('writes nothing for a Route whose status already matches', async () => {
    const { calls, write } = recorder();
    const writes = new StatusWrites({ write, limit: 4, logger: silentLogger, retry: () => {}, retryDelayMs: 10 });
    writes.reconcile([route('a', '1')], new Map([['acme/a', routed]]), now);
    await until('the write', () => calls.length === 1);
    const patch = routeStatusPatch(undefined, routed, 1, now);
    writes.reconcile([route('a', '2', patch?.status)], new Map([['acme/a', routed]]), now);
    await sleep(20);
    assert.equal(calls.length, 1);
  });

  it('keeps at most `limit` writes in flight', async () => {
    const recorded = recorder();
    const writes = new StatusWrites({ write: recorded.write, limit: 3, logger: silentLogger, retry: () => {}, retryDelayMs: 10 });
    const routes = Array.from({ length: 20 }, (_, i) => route(`r${i}`, '1'));
    writes.reconcile(routes, new Map(routes.map((r) => [`acme/${r.metadata.name}`, routed])), now);
    await until('every write', () => recorded.calls.length === 20);
    assert.equal(recorded.maxInFlight(), 3);
  });

  it('asks to reconcile again after a failed write, once, after the delay', async () => {
    const { calls, state, write } = recorder();
    state.fail = 2;
    let retries = 0;
    const writes = new StatusWrites({ write, limit: 4, logger: silentLogger, retry: () => (retries += 1), retryDelayMs: 30 });
    writes.reconcile([route('a', '1'), route('b', '1')], new Map([['acme/a', routed], ['acme/b', routed]]), now);
    await sleep(15);
    assert.equal(retries, 0, 'not in a tight loop');
    await until('the retry', () => retries === 1);
    await sleep(40);
    assert.equal(retries, 1, 'one retry for both failures');
    // The failed Routes are not marked as sent: the retry writes them.
    writes.reconcile([route('a', '1'), route('b', '1')], new Map([['acme/a', routed], ['acme/b', routed]]), now);
    await until('the rewrites', () => calls.length === 2);
  });
});
