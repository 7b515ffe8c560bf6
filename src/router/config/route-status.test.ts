import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteStatus } from '../../api/route.ts';
import type { RouteVerdict } from './cluster-snapshot.ts';
import { routeStatusPatch } from './route-status.ts';

const earlier = new Date('2026-01-01T00:00:00Z');
const now = new Date('2026-02-01T00:00:00Z');

const routed: RouteVerdict = {
  accepted: { status: true, reason: 'Accepted', message: 'db.acme.example belongs to tenant acme' },
  ready: { status: true, reason: 'Routed', message: 'routing to 1 ready endpoint' },
  address: 'db.acme.example:443',
};
const noEndpoints: RouteVerdict = { ...routed, ready: { status: false, reason: 'NoReadyEndpoints', message: 'none ready' } };
const foreign: RouteVerdict = {
  accepted: { status: false, reason: 'HostnameNotInTenantDomains', message: 'outside' },
  ready: { status: false, reason: 'NotAccepted', message: 'not accepted' },
  address: undefined,
};

/** The status a Route has after `verdict` was written at `at`. */
function written(verdict: RouteVerdict, generation: number, at: Date): RouteStatus {
  const patch = routeStatusPatch(undefined, verdict, generation, at);
  assert.ok(patch);
  return { ...patch.status, address: patch.status.address ?? undefined };
}

describe('routeStatusPatch', () => {
  it('writes both conditions, observedGeneration and address to a Route without status', () => {
    const patch = routeStatusPatch(undefined, routed, 3, now);
    assert.deepEqual(patch?.status.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration, c.lastTransitionTime]), [
      ['Accepted', 'True', 'Accepted', 3, now.toISOString()],
      ['Ready', 'True', 'Routed', 3, now.toISOString()],
    ]);
    assert.equal(patch?.status.observedGeneration, 3);
    assert.equal(patch?.status.address, 'db.acme.example:443');
  });

  it('writes nothing when the status already says what the verdict says', () => {
    assert.equal(routeStatusPatch(written(routed, 3, earlier), routed, 3, now), undefined);
  });

  it('writes when the generation moved, keeping transition times of unchanged conditions', () => {
    const patch = routeStatusPatch(written(routed, 3, earlier), routed, 4, now);
    assert.deepEqual(patch?.status.conditions.map((c) => c.lastTransitionTime), [earlier.toISOString(), earlier.toISOString()]);
  });

  it('moves the transition time only of the condition that flipped', () => {
    const patch = routeStatusPatch(written(routed, 3, earlier), noEndpoints, 3, now);
    assert.deepEqual(patch?.status.conditions.map((c) => `${c.type}=${c.status} ${c.reason} ${c.lastTransitionTime}`), [
      `Accepted=True Accepted ${earlier.toISOString()}`,
      `Ready=False NoReadyEndpoints ${now.toISOString()}`,
    ]);
  });

  it('removes the address of a Route that is no longer accepted', () => {
    assert.equal(routeStatusPatch(written(routed, 3, earlier), foreign, 3, now)?.status.address, null);
  });

  it('keeps conditions other controllers own', () => {
    const status = written(routed, 3, earlier);
    const certificate = { type: 'CertificateReady', status: 'True' as const, lastTransitionTime: earlier.toISOString(), reason: 'Issued', message: 'ok' };
    const patch = routeStatusPatch({ ...status, conditions: [certificate, ...(status.conditions ?? [])] }, noEndpoints, 3, now);
    assert.deepEqual(patch?.status.conditions.map((c) => c.type), ['CertificateReady', 'Accepted', 'Ready']);
  });
});
