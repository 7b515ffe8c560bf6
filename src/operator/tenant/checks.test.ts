import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tenant } from '../../api/tenant.ts';
import { firstSpecProblem, type ClusterView } from './checks.ts';

const tenant = (name: string, spec: Partial<Tenant['spec']> = {}, created = '2026-01-02T00:00:00Z'): Tenant => ({
  apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name, creationTimestamp: created },
  spec: { owners: {}, domains: [`*.${name}.example`], ...spec },
});
const view = (tenants: Tenant[] = [], namespaces: Array<[string, string | undefined]> = []): ClusterView => {
  const owners = new Map(namespaces);
  return { tenants, namespace: (name) => ({ exists: owners.has(name), tenant: owners.get(name) }) };
};

const cases: Array<[string, Tenant, ClusterView, string | undefined]> = [
  ['accepts a tenant with its default namespace', tenant('acme'), view(), undefined],
  ['accepts namespaces named <tenant>-<suffix>', tenant('acme', { namespaces: ['acme', 'acme-db'] }), view(), undefined],
  ['refuses a namespace not prefixed by the tenant', tenant('acme', { namespaces: ['acmedb'] }), view(), 'NamespaceNameInvalid'],
  ['refuses a platform namespace', tenant('kube', { namespaces: ['kube-system'] }), view(), 'NamespaceReserved'],
  ['refuses a namespace another tenant owns', tenant('acme', { namespaces: ['acme-x'] }), view([], [['acme-x', 'globex']]), 'NamespaceTaken'],
  ['refuses a namespace that exists without a tenant', tenant('acme'), view([], [['acme', undefined]]), 'NamespaceTaken'],
  ['accepts its own existing namespace', tenant('acme'), view([], [['acme', 'acme']]), undefined],
  ['refuses a zone nested in an older tenant\'s zone', tenant('b', { domains: ['api.a.example'] }), view([tenant('a', {}, '2026-01-01T00:00:00Z')]), 'DomainClaimed'],
  ['refuses an equal zone of an older tenant', tenant('b', { domains: ['*.a.example'] }), view([tenant('a', {}, '2026-01-01T00:00:00Z')]), 'DomainClaimed'],
  ['lets the older tenant keep its zone', tenant('a', {}, '2026-01-01T00:00:00Z'), view([tenant('b', { domains: ['api.a.example'] })]), undefined],
  ['accepts sibling zones', tenant('b', { domains: ['b.example'] }), view([tenant('a', {}, '2026-01-01T00:00:00Z')]), undefined],
];

describe('tenant checks', () => {
  for (const [name, subject, clusterView, reason] of cases) {
    it(name, () => assert.equal(firstSpecProblem(subject, clusterView)?.reason, reason));
  }
});
