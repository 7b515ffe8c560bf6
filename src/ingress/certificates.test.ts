import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { buildCertificateSet, certificatePemsFromSecrets, serverCertificate, type CertificatePem, type KubeSecret } from './certificates.ts';
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

describe('certificatePemsFromSecrets', () => {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const secret = (namespace: string, name: string, extra: Partial<KubeSecret> = {}): KubeSecret => ({
    metadata: { name, namespace }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY'), 'ca.crt': b64('CA') }, ...extra,
  });
  const ref = (namespace: string, name: string) => ({ namespace, name, source: `Route ${namespace}/${name.replace('landlord-tls-', '')}` });
  const cases: { name: string; refs: ReturnType<typeof ref>[]; secrets: KubeSecret[]; pems: string[]; issues: RegExp[] }[] = [
    {
      name: 'reads tls.crt and tls.key of the named Secret in the named namespace only',
      refs: [ref('acme', 'landlord-tls-web')],
      secrets: [secret('globex', 'landlord-tls-web', { data: { 'tls.crt': b64('OTHER'), 'tls.key': b64('OTHER') } }), secret('acme', 'landlord-tls-web')],
      pems: ['Secret acme/landlord-tls-web CERT KEY'],
      issues: [],
    },
    {
      name: 'names the object whose Secret is missing, of another type, incomplete or not base64, and still reads the others',
      refs: [ref('acme', 'landlord-tls-gone'), ref('acme', 'opaque'), ref('acme', 'half'), ref('acme', 'garbled'), ref('acme', 'landlord-tls-web')],
      secrets: [
        secret('acme', 'opaque', { type: 'Opaque' }),
        secret('acme', 'half', { data: { 'tls.crt': b64('CERT') } }),
        secret('acme', 'garbled', { data: { 'tls.crt': 'not base64!', 'tls.key': b64('KEY') } }),
        secret('acme', 'landlord-tls-web'),
      ],
      pems: ['Secret acme/landlord-tls-web CERT KEY'],
      issues: [
        /^Route acme\/gone: Secret acme\/landlord-tls-gone does not exist/,
        /^Route acme\/opaque: Secret acme\/opaque has type Opaque, not kubernetes.io\/tls/,
        /^Route acme\/half: Secret acme\/half lacks tls.crt or tls.key/,
        /^Route acme\/garbled: Secret acme\/garbled holds data that is not base64/,
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = certificatePemsFromSecrets(c.refs, c.secrets);
      assert.deepEqual(result.pems.map((p) => `${p.source} ${p.certificate} ${p.privateKey}`), c.pems);
      assert.equal(result.issues.length, c.issues.length, result.issues.map((i) => i.message).join('\n'));
      c.issues.forEach((pattern, i) => assert.match(`${result.issues[i]?.source}: ${result.issues[i]?.message}`, pattern));
    });
  }
});
