import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from './route.ts';
import { routeCrd, tenantCrd, type JsonSchema } from './schema.ts';
import type { Tenant } from './tenant.ts';
import { validate } from './validate.ts';

/**
 * Every field of the TypeScript types, set. tsc rejects a field the types do not have; the tests
 * below reject a schema property this fixture does not set, and a fixture value the schema refuses.
 */
const everyTenantField: Tenant = {
  apiVersion: 'landlord.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name: 'acme' },
  spec: {
    owners: { users: ['alice'], groups: ['acme-admins'], serviceAccounts: ['ci/robot'] },
    tier: 'hard',
    domains: ['*.acme.example', 'acme.dev'],
    namespaces: ['acme', 'acme-db'],
    quota: { cpu: '4', memory: '8Gi', ephemeralStorage: '20Gi', pods: 50, services: 20, secrets: 100, configMaps: 100, persistentVolumeClaims: 10 },
    limits: { defaultRequest: { cpu: '100m', memory: '128Mi' }, default: { cpu: '500m', memory: '512Mi' }, max: { cpu: '2', memory: '4Gi' } },
    network: { internetEgress: true, allowFrom: ['globex'] },
    placement: { runtimeClassName: 'kata', nodeSelector: { pool: 'acme' }, tolerations: [{ key: 'tenant', operator: 'Equal', value: 'acme', effect: 'NoSchedule' }] },
    idle: { after: '30m' },
  },
  status: {
    phase: 'Ready',
    observedGeneration: 3,
    conditions: [{ type: 'Ready', status: 'True', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'Ready', message: 'ok' }],
    namespaces: ['acme', 'acme-db'],
    ca: { fingerprint: 'ab:cd', notAfter: '2029-01-01T00:00:00Z' },
    activity: 'Active',
  },
};

const everyRouteField: Route = {
  apiVersion: 'landlord.dev/v1alpha1',
  kind: 'Route',
  metadata: { name: 'db', namespace: 'acme' },
  spec: {
    hostname: 'db.acme.example',
    protocol: 'postgres',
    backend: { service: 'postgres', port: 5432 },
    tls: { mode: 'sidecar', clientAuthentication: 'required', secretName: 'db-own-cert', allowedClients: ['spiffe://acme.landlord.local/ns/shop/sa/api', 'batch.acme.example'] },
    proxyProtocol: true,
  },
  status: {
    observedGeneration: 1,
    conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'Admitted', message: 'ok' }],
    address: 'db.acme.example:443',
    certificate: { notAfter: '2027-01-01T00:00:00Z' },
  },
};

/** Dotted paths of every property a schema declares (map values and array items as `*`). */
function schemaPaths(schema: JsonSchema, prefix: string): string[] {
  if (schema.items) return schemaPaths(schema.items, `${prefix}[*]`);
  if (schema.additionalProperties) return [`${prefix}.*`];
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) => [`${prefix}.${key}`, ...schemaPaths(child, `${prefix}.${key}`)]);
}

function valuePaths(value: unknown, prefix: string, schema: JsonSchema): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((item) => valuePaths(item, `${prefix}[*]`, schema.items ?? {})))];
  if (typeof value !== 'object' || value === null) return [];
  if (schema.additionalProperties) return [`${prefix}.*`];
  return Object.entries(value).flatMap(([key, child]) => [`${prefix}.${key}`, ...valuePaths(child, `${prefix}.${key}`, schema.properties?.[key] ?? {})]);
}

const cases = [
  { kind: 'Tenant', crd: tenantCrd, fixture: everyTenantField },
  { kind: 'Route', crd: routeCrd, fixture: everyRouteField },
];

describe('the CRD schemas describe exactly the TypeScript types', () => {
  for (const { kind, crd, fixture } of cases) {
    const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
    for (const part of ['spec', 'status'] as const) {
      it(`${kind}.${part}: a fully populated typed fixture validates`, () => {
        assert.deepEqual(validate(root.properties[part]!, fixture[part], part), []);
      });
      it(`${kind}.${part}: the fixture sets every property the schema declares`, () => {
        const declared = schemaPaths(root.properties[part]!, part).sort();
        const set = valuePaths(fixture[part], part, root.properties[part]!).sort();
        assert.deepEqual(set, declared);
      });
    }
  }
});

const spec = everyTenantField.spec;
const refused: Array<[string, unknown, string]> = [
  ['refuses a wildcard below the first label', { ...spec, domains: ['a.*.acme.example'] }, 'spec.domains[0]'],
  ['refuses a single-label domain', { ...spec, domains: ['example'] }, 'spec.domains[0]'],
  ['refuses a tenant without domains', { ...spec, domains: [] }, 'spec.domains'],
  ['refuses a repeated domain', { ...spec, domains: ['acme.example', 'acme.example'] }, 'spec.domains'],
  ['refuses an unknown tier', { ...spec, tier: 'medium' }, 'spec.tier'],
  ['refuses a namespace that is not a DNS label', { ...spec, namespaces: ['Acme_1'] }, 'spec.namespaces[0]'],
  ['refuses a cpu quota that is not a quantity', { ...spec, quota: { cpu: 'lots' } }, 'spec.quota.cpu'],
  ['refuses a negative pod count', { ...spec, quota: { pods: -1 } }, 'spec.quota.pods'],
  ['refuses a misspelt field', { ...spec, domain: ['acme.example'] }, 'spec.domain'],
  ['refuses a missing owners block', { domains: ['acme.example'] }, 'spec.owners'],
];

describe('the Tenant schema refuses bad specs', () => {
  for (const [name, value, path] of refused) {
    it(name, () => {
      const problems = validate(tenantCrd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec!, value, 'spec');
      assert.deepEqual(problems.map((p) => p.path), [path]);
    });
  }
});

describe('the Route schema takes SPIFFE IDs and DNS names as allowed clients, and nothing else', () => {
  const allowedClients = (identity: string) => validate(routeCrd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec!, { ...everyRouteField.spec, tls: { clientAuthentication: 'required', allowedClients: [identity] } }, 'spec');
  for (const identity of ['spiffe://acme.landlord.local/ns/shop/sa/api', 'spiffe://acme.mesh.corp.example/ns/a-b/sa/c.d_e', 'batch.acme.example', 'localhost']) {
    it(`takes ${identity}`, () => assert.deepEqual(allowedClients(identity), []));
  }
  for (const identity of ['spiffe://acme.landlord.local', 'spiffe://acme.landlord.local/', 'SPIFFE://acme.landlord.local/ns/a/sa/b', 'spiffe://Acme.landlord.local/ns/a', 'spiffe://acme.landlord.local/ns/a?x=1', 'https://acme.example/api', '*.acme.example', 'Batch.acme.example', '']) {
    it(`refuses ${JSON.stringify(identity)}`, () => assert.deepEqual(allowedClients(identity).map((p) => p.path), ['spec.tls.allowedClients[0]']));
  }
  it('refuses an empty list, which would read as admitting nobody or everybody', () => {
    const problems = validate(routeCrd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec!, { ...everyRouteField.spec, tls: { clientAuthentication: 'required', allowedClients: [] } }, 'spec');
    assert.deepEqual(problems.map((p) => p.path), ['spec.tls.allowedClients']);
  });
});
