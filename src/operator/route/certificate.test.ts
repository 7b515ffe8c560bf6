import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { Route } from '../../api/route.ts';
import { createRootCa, loadAuthority, type CertificateAuthority } from '../../pki/index.ts';
import type { KubeObject } from '../runtime/kube.ts';
import { issueTenantCa } from '../tenant/ca.ts';
import type { TenantCa } from '../tenant/desired.ts';
import { certificatePlan, issuedCertificate, issueRouteCertificate, type IssuedCertificate } from './certificate.ts';
import { desiredCertificateSecret } from './desired.ts';

const now = new Date('2026-03-01T00:00:00Z');
const dayMs = 86_400_000;
const route = (hostname = 'db.acme.example', secretName?: string): Route => ({
  apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name: 'db', namespace: 'acme', uid: 'u' },
  spec: { hostname, protocol: 'tls', backend: { service: 'mysql', port: 3306 }, ...(secretName ? { tls: { secretName } } : {}) },
});

describe('route certificates', () => {
  let ca: TenantCa;
  let otherCa: TenantCa;
  let authority: CertificateAuthority;
  let current: IssuedCertificate;
  let root: string;

  before(async () => {
    const rootBundle = await createRootCa({ now });
    const rootCa = await loadAuthority(rootBundle);
    root = rootBundle.certificate;
    ca = await issueTenantCa(rootCa, 'acme', ['acme.example'], now);
    otherCa = await issueTenantCa(rootCa, 'acme', ['acme.example'], now);
    authority = await loadAuthority(ca.bundle);
    current = await issueRouteCertificate(authority, route(), now);
  });

  const plan = (input: Partial<Parameters<typeof certificatePlan>[0]>): string => {
    const decided = certificatePlan({ route: route(), tenant: 'acme', zones: ['acme.example'], ca, current, secretExists: true, now, ...input });
    return decided.kind === 'issue' ? `issue/${decided.why}` : decided.kind === 'wait' ? `wait/${decided.reason}` : decided.kind;
  };

  it('decides, in order', () => {
    const cases: Array<[string, Partial<Parameters<typeof certificatePlan>[0]>, string]> = [
      ['keeps a valid certificate', {}, 'keep'],
      ['issues nothing for a Route with its own Secret', { route: route('db.acme.example', 'mine') }, 'own'],
      ['waits while the tenant CA is missing, keeping what exists', { ca: undefined }, 'wait/TenantCaNotReady'],
      ['waits while the tenant CA predates a domain change', { zones: ['acme.dev', 'acme.example'] }, 'wait/TenantCaNotReady'],
      ['issues when there is no Secret', { current: undefined, secretExists: false }, 'issue/missing'],
      ['issues when the Secret cannot be read', { current: undefined }, 'issue/unreadable'],
      ['issues when the tenant CA was re-issued', { ca: otherCa }, 'issue/issuer-changed'],
      ['issues when the hostname changed', { route: route('api.acme.example') }, 'issue/hostname-changed'],
      ['keeps it until two thirds of its lifetime', { now: new Date(now.getTime() + 59 * dayMs) }, 'keep'],
      ['renews it at two thirds of its lifetime', { now: new Date(now.getTime() + 61 * dayMs) }, 'issue/renewal-due'],
    ];
    for (const [name, input, expected] of cases) assert.equal(plan(input), expected, name);
  });

  it('tells when to renew a certificate it keeps', () => {
    const decided = certificatePlan({ route: route(), tenant: 'acme', zones: ['acme.example'], ca, current, secretExists: true, now });
    assert.equal(decided.kind, 'keep');
    const lifetime = current.notAfter.getTime() - current.notBefore.getTime();
    assert.equal(decided.kind === 'keep' ? decided.renewAt.getTime() : 0, current.notBefore.getTime() + Math.floor(lifetime * 2 / 3));
  });

  it('reads back what it wrote: a chain to the tenant CA for the hostname only, with its key', () => {
    const secret = desiredCertificateSecret(route(), 'acme', current.bundle);
    const read = issuedCertificate(secret);
    assert.ok(read);
    assert.equal(read.leaf.subjectAltName, 'DNS:db.acme.example');
    const [leafPem, caPem] = read.bundle.certificate.split(/(?<=-----END CERTIFICATE-----\n?)/).filter((part) => part.trim());
    const tenantCa = new X509Certificate(caPem!);
    assert.equal(tenantCa.fingerprint256, ca.fingerprint, 'tls.crt carries the tenant CA after the leaf');
    assert.ok(new X509Certificate(leafPem!).verify(tenantCa.publicKey));
    assert.ok(tenantCa.verify(new X509Certificate(root).publicKey));
    assert.equal(read.bundle.ca, ca.bundle.certificate, 'ca.crt is the tenant CA');
  });

  it('treats a Secret whose key does not match, or that is no TLS Secret, as unreadable', async () => {
    const other = await issueRouteCertificate(authority, route(), now);
    const mixed = desiredCertificateSecret(route(), 'acme', { ...current.bundle, privateKey: other.bundle.privateKey! });
    assert.equal(issuedCertificate(mixed), undefined);
    const opaque: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, type: 'Opaque', data: {} };
    assert.equal(issuedCertificate(opaque), undefined);
  });

  it('refuses to issue outside the tenant CA\'s zones even if asked', async () => {
    await assert.rejects(issueRouteCertificate(authority, route('db.globex.example'), now), /LL_PKI_NAME_NOT_PERMITTED|outside/);
  });
});
