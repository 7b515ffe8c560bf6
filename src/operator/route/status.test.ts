import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition } from '../../api/meta.ts';
import type { Route, RouteStatus } from '../../api/route.ts';
import { routeConditions, routeStatusIntent, staleConditionTypes, statusIsCurrent, type RouteOutcome } from './status.ts';

const t0 = new Date('2026-02-01T00:00:00.123Z');
const t1 = new Date('2026-02-02T00:00:00Z');
const notAfter = new Date('2026-05-01T00:00:00Z');
const route = (generation: number, status?: RouteStatus): Route => ({
  apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name: 'db', namespace: 'acme', generation },
  spec: { hostname: 'db.acme.example', protocol: 'tls', backend: { service: 'mysql', port: 3306 } }, ...(status ? { status } : {}),
});
const issued: RouteOutcome = {
  kind: 'accepted',
  certificate: { kind: 'issued', secretName: 'landlord-tls-db', tenant: 'acme', notAfter },
  sidecar: { kind: 'created', serviceName: 'landlord-route-db', backend: 'mysql' },
};
const accepted: Condition = { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' };

describe('routeConditions', () => {
  const cases: Array<[string, RouteOutcome, string[]]> = [
    ['issued with a sidecar Service', issued, ['CertificateIssued=True/Issued', 'SidecarServiceCreated=True/Created']],
    ['issued, not a sidecar Route', { ...issued, sidecar: { kind: 'none' } }, ['CertificateIssued=True/Issued']],
    ['the tenant brings its own certificate', { ...issued, certificate: { kind: 'own', secretName: 'mine' }, sidecar: { kind: 'none' } }, ['CertificateIssued=False/OwnCertificate']],
    ['the tenant CA is not ready', { ...issued, certificate: { kind: 'wait', reason: 'TenantCaNotReady', message: 'm' } }, ['CertificateIssued=False/TenantCaNotReady', 'SidecarServiceCreated=True/Created']],
    ['a Secret of the same name exists', { ...issued, certificate: { kind: 'taken', secretName: 'landlord-tls-db' } }, ['CertificateIssued=False/SecretNameTaken', 'SidecarServiceCreated=True/Created']],
    ['the backend Service is missing', { ...issued, sidecar: { kind: 'blocked', reason: 'BackendServiceNotFound', message: 'm' } }, ['CertificateIssued=True/Issued', 'SidecarServiceCreated=False/BackendServiceNotFound']],
    ['a refused sidecar Route', { kind: 'refused', reason: 'HostnameNotInTenantDomains', message: 'm', sidecar: true }, ['CertificateIssued=False/HostnameNotInTenantDomains', 'SidecarServiceCreated=False/HostnameNotInTenantDomains']],
    ['an unresolved ingress Route', { kind: 'unresolved', reason: 'TenantNotFound', message: 'm', sidecar: false }, ['CertificateIssued=False/TenantNotFound']],
  ];
  for (const [name, outcome, expected] of cases) {
    it(name, () => assert.deepEqual(routeConditions(outcome).map((c) => `${c.type}=${c.status}/${c.reason}`), expected));
  }
});

describe('routeStatusIntent', () => {
  it('sets observedGeneration, a transition time in seconds and the certificate expiry', () => {
    const intent = routeStatusIntent(route(4), routeConditions(issued), notAfter, t0);
    assert.deepEqual(intent.conditions.map((c) => [c.type, c.observedGeneration, c.lastTransitionTime]), [
      ['CertificateIssued', 4, '2026-02-01T00:00:00Z'], ['SidecarServiceCreated', 4, '2026-02-01T00:00:00Z'],
    ]);
    assert.deepEqual(intent.certificate, { notAfter: '2026-05-01T00:00:00Z' });
  });

  it('is current once written, whatever the router wrote beside it, so a second reconcile writes nothing', () => {
    const first = routeStatusIntent(route(1), routeConditions(issued), notAfter, t0);
    const written: RouteStatus = { observedGeneration: 1, address: 'db.acme.example:443', conditions: [accepted, ...first.conditions], certificate: first.certificate! };
    const again = routeStatusIntent(route(1, written), routeConditions(issued), notAfter, t1);
    assert.deepEqual(again, first);
    assert.equal(statusIsCurrent(written, again), true);
  });

  it('moves lastTransitionTime only when a condition flips', () => {
    const first = routeStatusIntent(route(1), routeConditions(issued), notAfter, t0);
    const written: RouteStatus = { conditions: first.conditions, certificate: first.certificate! };
    const waiting: RouteOutcome = { ...issued, certificate: { kind: 'wait', reason: 'TenantCaNotReady', message: 'm' } };
    const next = routeStatusIntent(route(2, written), routeConditions(waiting), notAfter, t1);
    assert.deepEqual(next.conditions.map((c) => c.lastTransitionTime), ['2026-02-02T00:00:00Z', '2026-02-01T00:00:00Z']);
    assert.equal(statusIsCurrent(written, next), false);
  });

  it('is not current when a condition of ours must go, and names it', () => {
    const first = routeStatusIntent(route(1), routeConditions(issued), notAfter, t0);
    const written: RouteStatus = { conditions: [accepted, ...first.conditions], certificate: first.certificate! };
    const ingress = routeStatusIntent(route(1, written), routeConditions({ ...issued, sidecar: { kind: 'none' } }), notAfter, t1);
    assert.equal(statusIsCurrent(written, ingress), false);
    assert.deepEqual(staleConditionTypes(written, ingress), ['SidecarServiceCreated']);
  });

  it('is not current while an expiry is shown that is no longer held', () => {
    const own = routeStatusIntent(route(1), routeConditions({ ...issued, certificate: { kind: 'own', secretName: 'mine' }, sidecar: { kind: 'none' } }), undefined, t0);
    assert.equal(statusIsCurrent({ conditions: own.conditions, certificate: { notAfter: '2026-05-01T00:00:00Z' } }, own), false);
    assert.equal(statusIsCurrent({ conditions: own.conditions }, own), true);
  });
});
