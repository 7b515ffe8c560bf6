import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { buildCertificateSet, serverCertificate, type CertificatePem } from './certificates.ts';
import { tenantPki, type TenantCertificates } from './testing.ts';

describe('certificates', () => {
  let pki: TenantCertificates;
  let app: CertificatePem;
  let wildcard: CertificatePem;
  before(async () => {
    pki = await tenantPki('acme', ['*.acme.example']);
    [app, wildcard] = [await pki.leaf('app.acme.example'), await pki.leaf('*.acme.example')];
  });

  it('selects an exact SAN over a wildcard SAN, and a wildcard for one extra label only', () => {
    const set = buildCertificateSet([wildcard, app]);
    assert.equal(set.lookup('app.acme.example')?.source, app.source);
    assert.equal(set.lookup('x.acme.example')?.source, wildcard.source);
    assert.equal(set.lookup('a.b.acme.example'), undefined);
    assert.equal(set.lookup('acme.example'), undefined);
    assert.equal(set.lookup('app.globex.example'), undefined);
  });

  it('refuses a key that does not belong to the certificate', () => {
    assert.throws(() => serverCertificate({ ...app, privateKey: wildcard.privateKey }), (error) => isLandlordError(error, 'LL_INGRESS_CERTIFICATE_INVALID') && /does not match/.test(error.message));
  });

  it("refuses names outside the tenant's domains", async () => {
    const globex = await (await tenantPki('globex', ['*.globex.example'])).leaf('app.globex.example');
    assert.throws(() => serverCertificate(globex, ['*.acme.example']), (error) => isLandlordError(error, 'LL_INGRESS_CERTIFICATE_INVALID') && /outside the tenant's domains/.test(error.message));
  });

  it('refuses a certificate without DNS subjectAltName', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'landlord-ingress-cert-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=app.acme.example'], { cwd: dir, stdio: 'ignore' });
      const pem = { source: 'cn-only', certificate: readFileSync(path.join(dir, 'c.pem'), 'utf8'), privateKey: readFileSync(path.join(dir, 'k.pem'), 'utf8') };
      assert.throws(() => serverCertificate(pem), (error) => isLandlordError(error, 'LL_INGRESS_CERTIFICATE_INVALID') && /no DNS subjectAltName/.test(error.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses text that is not PEM', () => {
    assert.throws(() => serverCertificate({ source: 'junk', certificate: 'junk', privateKey: 'junk' }), (error) => isLandlordError(error, 'LL_INGRESS_CERTIFICATE_INVALID'));
  });
});
