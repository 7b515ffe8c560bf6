import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import {
  parseTenantDomain, parseTenantName, permittedNames, policyFromPermittedNames, refuseIssuance, tenantNamePolicy, workloadIdentity,
  type RequestedNames,
} from './names.ts';

const acme = tenantNamePolicy('acme', ['*.acme.example', 'acme-cdn.example']);
const names = (dns: string[], uri: string[] = []): RequestedNames => ({ dns, uri });

describe('tenant domain specs', () => {
  const cases: { name: string; spec: string; zone?: string }[] = [
    { name: 'maps a wildcard spec to its zone', spec: '*.acme.example', zone: 'acme.example' },
    { name: 'maps a bare domain to the same zone', spec: 'acme.example', zone: 'acme.example' },
    { name: 'accepts a deeper zone', spec: '*.eu.acme.example', zone: 'eu.acme.example' },
    { name: 'accepts punycode labels', spec: '*.xn--bcher-kva.example', zone: 'xn--bcher-kva.example' },
    { name: 'refuses a wildcard below the first label', spec: 'a.*.acme.example' },
    { name: 'refuses a partial-label wildcard', spec: '*acme.example' },
    { name: 'refuses a bare wildcard', spec: '*' },
    { name: 'refuses a whole top-level domain', spec: '*.example' },
    { name: 'refuses upper case', spec: '*.ACME.example' },
    { name: 'refuses a trailing dot', spec: 'acme.example.' },
    { name: 'refuses an IPv4 address', spec: '10.0.0.1' },
    { name: 'refuses a label starting with a hyphen', spec: '-acme.example' },
    { name: 'refuses non-ASCII names', spec: '*.bücher.example' },
    { name: 'refuses an empty spec', spec: '' },
  ];
  for (const { name, spec, zone } of cases) {
    it(name, () => {
      if (zone) assert.equal(parseTenantDomain(spec), zone);
      else assert.throws(() => parseTenantDomain(spec), (error) => isLandlordError(error, 'LL_PKI_DOMAIN_INVALID'));
    });
  }
});

describe('tenant names', () => {
  it('accepts a DNS label', () => assert.equal(parseTenantName('acme-2'), 'acme-2'));
  for (const bad of ['Acme', 'acme.corp', '-acme', 'a'.repeat(64), '']) {
    it(`refuses ${JSON.stringify(bad.length > 10 ? `${bad.slice(0, 8)}…` : bad)} as a tenant name`, () => {
      assert.throws(() => parseTenantName(bad), (error) => isLandlordError(error, 'LL_PKI_TENANT_NAME_INVALID'));
    });
  }
  it('refuses a tenant without domains', () => {
    assert.throws(() => tenantNamePolicy('acme', []), (error) => isLandlordError(error, 'LL_PKI_DOMAIN_MISSING'));
  });
});

describe('tenant name policy', () => {
  it('gives each tenant its own SPIFFE trust domain under the platform one', () => {
    assert.equal(acme.trustDomain, 'acme.landlord.local');
    assert.equal(tenantNamePolicy('globex', ['globex.example'], 'mesh.corp.example').trustDomain, 'globex.mesh.corp.example');
  });
  it('deduplicates zones granted twice', () => {
    assert.deepEqual(tenantNamePolicy('acme', ['*.acme.example', 'acme.example']).zones, ['acme.example']);
  });
  it('round-trips through the name constraints it produces', () => {
    assert.deepEqual(permittedNames(acme), { dns: ['acme.example', 'acme-cdn.example'], uri: ['acme.landlord.local'] });
    assert.deepEqual(policyFromPermittedNames(permittedNames(acme)), acme);
  });
  it('refuses to read a policy from constraints without a trust domain', () => {
    assert.throws(() => policyFromPermittedNames({ dns: ['acme.example'], uri: [] }), (error) => isLandlordError(error, 'LL_PKI_NOT_A_TENANT_CA'));
  });
  it('builds workload identities in the tenant trust domain', () => {
    assert.equal(workloadIdentity(acme, 'shop', 'mysql'), 'spiffe://acme.landlord.local/ns/shop/sa/mysql');
    assert.throws(() => workloadIdentity(acme, 'Shop', 'mysql'), (error) => isLandlordError(error, 'LL_PKI_URI_INVALID'));
  });
});

describe('issuance policy', () => {
  const cases: { name: string; request: RequestedNames; code?: string }[] = [
    { name: 'permits a host in a tenant zone', request: names(['db.acme.example']) },
    { name: 'permits the zone apex', request: names(['acme.example']) },
    { name: 'permits a wildcard in a tenant zone', request: names(['*.acme.example']) },
    { name: 'permits a name several labels deep', request: names(['a.b.acme.example']) },
    { name: 'permits names from two tenant zones together', request: names(['acme.example', 'img.acme-cdn.example']) },
    { name: 'permits a workload identity in the tenant trust domain', request: names([], ['spiffe://acme.landlord.local/ns/shop/sa/mysql']) },
    { name: 'permits DNS names and an identity together', request: names(['db.acme.example'], ['spiffe://acme.landlord.local/ns/shop/sa/mysql']) },
    { name: 'refuses a request without names', request: names([]), code: 'LL_PKI_NAMES_MISSING' },
    { name: 'refuses another tenant\'s host', request: names(['x.globex.example']), code: 'LL_PKI_NAME_NOT_PERMITTED' },
    { name: 'refuses a name that only ends with the zone text', request: names(['evilacme.example']), code: 'LL_PKI_NAME_NOT_PERMITTED' },
    { name: 'refuses the parent of a tenant zone', request: names(['example']), code: 'LL_PKI_NAME_NOT_PERMITTED' },
    { name: 'refuses the whole request when one name is foreign', request: names(['db.acme.example', 'x.globex.example']), code: 'LL_PKI_NAME_NOT_PERMITTED' },
    { name: 'refuses a wildcard spanning every domain', request: names(['*.example']), code: 'LL_PKI_NAME_NOT_PERMITTED' },
    { name: 'refuses a malformed DNS name', request: names(['db..acme.example']), code: 'LL_PKI_DNS_NAME_INVALID' },
    { name: 'refuses an upper-case DNS name rather than guessing', request: names(['DB.acme.example']), code: 'LL_PKI_DNS_NAME_INVALID' },
    { name: 'refuses a nested wildcard', request: names(['db.*.acme.example']), code: 'LL_PKI_DNS_NAME_INVALID' },
    { name: 'refuses another tenant\'s workload identity', request: names([], ['spiffe://globex.landlord.local/ns/shop/sa/mysql']), code: 'LL_PKI_NAME_NOT_PERMITTED' },
    { name: 'refuses a path-based identity in the platform trust domain', request: names([], ['spiffe://landlord.local/tenant/acme/ns/a/sa/b']), code: 'LL_PKI_NAME_NOT_PERMITTED' },
    { name: 'refuses a URI that is not spiffe', request: names([], ['https://acme.landlord.local/ns/a']), code: 'LL_PKI_URI_INVALID' },
    { name: 'refuses an identity with a port', request: names([], ['spiffe://acme.landlord.local:8443/ns/a']), code: 'LL_PKI_URI_INVALID' },
    { name: 'refuses an identity with a query', request: names([], ['spiffe://acme.landlord.local/ns/a?x=1']), code: 'LL_PKI_URI_INVALID' },
    { name: 'refuses an identity without a path', request: names([], ['spiffe://acme.landlord.local']), code: 'LL_PKI_URI_INVALID' },
    { name: 'refuses an identity with dot segments', request: names([], ['spiffe://acme.landlord.local/ns/../sa/x']), code: 'LL_PKI_URI_INVALID' },
    { name: 'refuses text that is not a URI', request: names([], ['not a uri']), code: 'LL_PKI_URI_INVALID' },
  ];
  for (const { name, request, code } of cases) {
    it(name, () => assert.equal(refuseIssuance(acme, request)?.code, code));
  }
});
