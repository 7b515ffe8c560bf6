import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tenant } from '../../api/tenant.ts';
import type { TenantCa } from './desired.ts';
import { tenantStatus } from './status.ts';

const ca: TenantCa = {
  bundle: { certificate: '', ca: '' }, zones: ['acme.example'], fingerprint: 'AA:BB:CC', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2029-01-01T00:00:00.000Z',
};
const acme = (generation: number, status?: Tenant['status']): Tenant => ({
  apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'acme', generation }, spec: { owners: {}, domains: ['acme.example'] }, ...(status ? { status } : {}),
});
const t0 = new Date('2026-02-01T00:00:00Z');
const t1 = new Date('2026-02-02T00:00:00Z');
const converged = { kind: 'converged', namespaces: ['acme'], missingNamespaces: [], ca } as const;

describe('tenantStatus', () => {
  it('is Ready with every condition True for the current generation', () => {
    const status = tenantStatus(acme(3), converged, t0);
    assert.equal(status.phase, 'Ready');
    assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.observedGeneration]), [
      ['Namespaces', 'True', 3], ['Policies', 'True', 3], ['Certificates', 'True', 3], ['Ready', 'True', 3],
    ]);
    assert.deepEqual(status.ca, { fingerprint: 'AA:BB:CC', notAfter: '2029-01-01T00:00:00.000Z' });
  });

  it('keeps lastTransitionTime when a condition keeps its status, so an unchanged outcome gives an identical status', () => {
    const first = tenantStatus(acme(1), converged, t0);
    const again = tenantStatus(acme(1, first), converged, t1);
    assert.deepEqual(again, first);
  });

  it('moves lastTransitionTime when a condition changes status', () => {
    const first = tenantStatus(acme(1), converged, t0);
    const invalid = tenantStatus(acme(2, first), { kind: 'invalid', problem: { concern: 'Namespaces', reason: 'NamespaceTaken', message: 'taken' }, namespaces: ['acme'] }, t1);
    const namespaces = invalid.conditions?.find((c) => c.type === 'Namespaces');
    assert.equal(namespaces?.lastTransitionTime, '2026-02-02T00:00:00Z');
  });

  it('reports an invalid spec on its concern, Unknown elsewhere, and Ready False with the reason of the problem', () => {
    const status = tenantStatus(acme(2), { kind: 'invalid', problem: { concern: 'Certificates', reason: 'DomainClaimed', message: 'zone taken' }, namespaces: [] }, t0);
    assert.equal(status.phase, 'Degraded');
    assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [
      ['Namespaces', 'Unknown', 'SpecInvalid'], ['Policies', 'Unknown', 'SpecInvalid'], ['Certificates', 'False', 'DomainClaimed'], ['Ready', 'False', 'DomainClaimed'],
    ]);
  });

  it('is Terminating while deleting, with no namespaces listed', () => {
    const status = tenantStatus(acme(2), { kind: 'terminating', remaining: 3 }, t0);
    assert.equal(status.phase, 'Terminating');
    assert.deepEqual(status.namespaces, []);
    assert.match(status.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /removing 3 object/);
  });
});
