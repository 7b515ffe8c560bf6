import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from '../../api/route.ts';
import type { Tenant } from '../../api/tenant.ts';
import { routeVerdict, type RouteView } from './checks.ts';

const acme: Tenant = { apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'acme' }, spec: { owners: {}, domains: ['*.acme.example', 'acme.dev'] } };
const route = (name: string, hostname: string): Route => ({
  apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name, namespace: 'acme' },
  spec: { hostname, protocol: 'tls', backend: { service: 'db', port: 3306 } },
});
const inTenant: RouteView = { namespaceTenant: 'acme', tenant: acme };

const cases: Array<[string, Route, RouteView, string]> = [
  ['accepts a hostname inside a zone', route('db', 'db.acme.example'), inTenant, 'accepted'],
  ['accepts the zone apex', route('db', 'acme.dev'), inTenant, 'accepted'],
  ['accepts a one-label wildcard inside a zone', route('apps', '*.apps.acme.example'), inTenant, 'accepted'],
  ['accepts a name of exactly 48 characters', route('a'.repeat(48), 'db.acme.example'), inTenant, 'accepted'],
  ['refuses a name of 49 characters', route('a'.repeat(49), 'db.acme.example'), inTenant, 'refused/InvalidName'],
  ['refuses a name that is not a DNS label', route('db.main', 'db.acme.example'), inTenant, 'refused/InvalidName'],
  ['refuses a hostname of another zone', route('db', 'db.globex.example'), inTenant, 'refused/HostnameNotInTenantDomains'],
  ['refuses a name that only ends like a zone', route('db', 'evilacme.example'), inTenant, 'refused/HostnameNotInTenantDomains'],
  ['refuses a wildcard above the zone', route('db', '*.example'), inTenant, 'refused/HostnameNotInTenantDomains'],
  ['refuses a malformed hostname', route('db', 'DB.acme.example'), inTenant, 'refused/InvalidHostname'],
  ['waits for a namespace without tenant label', route('db', 'db.acme.example'), { namespaceTenant: undefined, tenant: undefined }, 'unresolved/NamespaceHasNoTenant'],
  ['waits for a tenant that does not exist', route('db', 'db.acme.example'), { namespaceTenant: 'acme', tenant: undefined }, 'unresolved/TenantNotFound'],
  ['checks the name before the tenant', route('a'.repeat(60), 'db.acme.example'), { namespaceTenant: undefined, tenant: undefined }, 'refused/InvalidName'],
];

describe('route checks', () => {
  for (const [name, subject, view, expected] of cases) {
    it(name, () => {
      const verdict = routeVerdict(subject, view);
      assert.equal(verdict.kind === 'accepted' ? verdict.kind : `${verdict.kind}/${verdict.reason}`, expected);
    });
  }

  it('gives the tenant and its sorted zones when accepted', () => {
    assert.deepEqual(routeVerdict(route('db', 'db.acme.example'), inTenant), { kind: 'accepted', tenant: 'acme', zones: ['acme.dev', 'acme.example'] });
  });

  it('says how to fix a hostname outside the domains', () => {
    const verdict = routeVerdict(route('db', 'db.globex.example'), inTenant);
    assert.equal(verdict.kind, 'refused');
    assert.match(verdict.kind === 'refused' ? verdict.message : '', /outside the domains of tenant acme \(acme\.dev, acme\.example\)/);
  });
});
