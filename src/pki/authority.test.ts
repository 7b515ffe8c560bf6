import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { createTenantCa, issueLeafCertificate, loadAuthority, renewLeafCertificate, signCertificateRequest } from './authority.ts';
import { tenantNamePolicy } from './names.ts';
import { parseCertificates } from './pem.ts';
import { forgeWithTenantKey, openssl, platform, run, temporaryDirectory, type PlatformFixture, type TenantFixture } from './testing.ts';
import * as x509 from '../shared/x509.ts';

let world: PlatformFixture;
let acme: TenantFixture;
let globex: TenantFixture;

before(async () => {
  world = await platform();
  acme = await world.tenant('acme', '*.acme.example');
  globex = await world.tenant('globex', '*.globex.example');
});

/** `openssl verify` of `leafPem` (its first certificate) against the root, with the tenant CA untrusted. */
async function verifyWithOpenssl(dir: string, leafPem: string, ...extra: string[]) {
  const [leaf] = parseCertificates(leafPem);
  return openssl(dir, ['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', ...extra, 'leaf.pem'], {
    'root.pem': world.root.bundle.certificate,
    'intermediate.pem': acme.bundle.certificate,
    'leaf.pem': leaf?.toString('pem') ?? '',
  });
}


describe('certificate hierarchy', () => {
  it('makes a self-signed root CA that may sign one level of CAs', async (t) => {
    const dir = await temporaryDirectory(t);
    const text = await openssl(dir, ['x509', '-noout', '-text', '-in', 'root.pem'], { 'root.pem': world.root.bundle.certificate });
    assert.match(text.output, /Issuer: CN = landlord root CA, O = landlord/);
    assert.match(text.output, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    assert.match(text.output, /ASN1 OID: prime256v1/);
  });

  it('gives a tenant CA critical name constraints for its zones and trust domain, and pathLen 0', async (t) => {
    const dir = await temporaryDirectory(t);
    const text = await openssl(dir, ['x509', '-noout', '-text', '-in', 'acme.pem'], { 'acme.pem': acme.bundle.certificate });
    assert.match(text.output, /X509v3 Name Constraints: critical\s+Permitted:\s+DNS:acme\.example\s+URI:acme\.landlord\.local/);
    assert.match(text.output, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(text.output, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  });

  it('issues a server certificate that OpenSSL verifies up to the root', async (t) => {
    const server = await issueLeafCertificate(acme.ca, { dns: ['db.acme.example', '*.api.acme.example'], uri: [] });
    const result = await verifyWithOpenssl(await temporaryDirectory(t), server.certificate, '-purpose', 'sslserver');
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /leaf\.pem: OK/);
  });

  it('issues a workload certificate with a SPIFFE identity that OpenSSL verifies for client use', async (t) => {
    const client = await issueLeafCertificate(acme.ca, { dns: [], uri: ['spiffe://acme.landlord.local/ns/shop/sa/mysql'] });
    const result = await verifyWithOpenssl(await temporaryDirectory(t), client.certificate, '-purpose', 'sslclient');
    assert.equal(result.code, 0, result.output);
    const [leaf] = parseCertificates(client.certificate);
    assert.match(leaf?.getExtension(x509.SubjectAlternativeNameExtension)?.names.items[0]?.value ?? '', /^spiffe:\/\/acme\.landlord\.local\//);
  });

  it('puts the leaf first and the tenant CA after it in tls.crt, and the tenant CA in ca.crt', async () => {
    const server = await issueLeafCertificate(acme.ca, { dns: ['db.acme.example'], uri: [] });
    const chain = parseCertificates(server.certificate);
    assert.equal(chain.length, 2);
    assert.ok(chain[1]?.equal(acme.ca.certificate));
    assert.ok(parseCertificates(server.ca)[0]?.equal(acme.ca.certificate));
  });

  it('refuses to issue another tenant\'s name before signing', async () => {
    await assert.rejects(issueLeafCertificate(acme.ca, { dns: ['x.globex.example'], uri: [] }), (error) => isLandlordError(error, 'LL_PKI_NAME_NOT_PERMITTED'));
  });

  it('refuses to issue leaf certificates from the root', async () => {
    await assert.rejects(issueLeafCertificate(world.root.ca, { dns: ['db.acme.example'], uri: [] }), (error) => isLandlordError(error, 'LL_PKI_NOT_A_TENANT_CA'));
  });

  it('refuses to sign a tenant CA with another tenant CA', async () => {
    await assert.rejects(createTenantCa(acme.ca, tenantNamePolicy('evil', ['*.evil.example'])), (error) => isLandlordError(error, 'LL_PKI_NOT_A_ROOT_CA'));
  });

  it('never outlives its issuer', async () => {
    const server = await issueLeafCertificate(acme.ca, { dns: ['db.acme.example'], uri: [] }, { lifetimeDays: 100_000 });
    assert.deepEqual(parseCertificates(server.certificate)[0]?.notAfter, acme.ca.certificate.notAfter);
  });
});

describe('a certificate forged with a tenant CA key outside landlord\'s policy', () => {
  it('is rejected by OpenSSL with a permitted-subtree violation', async (t) => {
    const forged = await forgeWithTenantKey(acme, [{ type: 'dns', value: 'x.globex.example' }]);
    const result = await verifyWithOpenssl(await temporaryDirectory(t), forged.certificate);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /error 47 at 0 depth lookup: permitted subtree violation/);
  });

  it('is rejected by OpenSSL even when the tenant CA itself is the trust anchor', async (t) => {
    const forged = await forgeWithTenantKey(acme, [{ type: 'dns', value: 'x.globex.example' }]);
    const dir = await temporaryDirectory(t);
    const [leaf] = parseCertificates(forged.certificate);
    const result = await openssl(dir, ['verify', '-partial_chain', '-CAfile', 'acme.pem', 'leaf.pem'], {
      'acme.pem': acme.bundle.certificate, 'leaf.pem': leaf?.toString('pem') ?? '',
    });
    assert.match(result.output, /permitted subtree violation/);
  });

  it('is rejected by OpenSSL when it claims another tenant\'s workload identity', async (t) => {
    const forged = await forgeWithTenantKey(acme, [{ type: 'url', value: 'spiffe://globex.landlord.local/ns/shop/sa/mysql' }]);
    const result = await verifyWithOpenssl(await temporaryDirectory(t), forged.certificate);
    assert.match(result.output, /permitted subtree violation/);
  });

  it('is accepted by OpenSSL when it stays inside acme\'s names, so the rejections above are the constraints at work', async (t) => {
    const forged = await forgeWithTenantKey(acme, [{ type: 'dns', value: 'x.acme.example' }, { type: 'url', value: 'spiffe://acme.landlord.local/ns/a/sa/b' }]);
    const result = await verifyWithOpenssl(await temporaryDirectory(t), forged.certificate);
    assert.equal(result.code, 0, result.output);
  });
});

describe('signing certificate requests', () => {
  async function opensslRequest(dir: string, san: string): Promise<string> {
    const result = await run('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'req.key',
      '-subj', '/CN=ignored', '-addext', `subjectAltName=${san}`, '-out', 'req.csr',
    ], dir);
    assert.equal(result.code, 0, result.output);
    return readFile(path.join(dir, 'req.csr'), 'utf8');
  }

  it('signs an OpenSSL-made request for the names it asks, keeping the requester\'s key', async (t) => {
    const dir = await temporaryDirectory(t);
    const csr = await opensslRequest(dir, 'DNS:api.acme.example,URI:spiffe://acme.landlord.local/ns/shop/sa/api');
    const signed = await signCertificateRequest(acme.ca, csr);
    assert.equal(signed.privateKey, undefined);
    const result = await verifyWithOpenssl(dir, signed.certificate);
    assert.equal(result.code, 0, result.output);
    const certified = await run('openssl', ['x509', '-noout', '-pubkey', '-in', 'leaf.pem'], dir);
    const requested = await run('openssl', ['pkey', '-pubout', '-in', 'req.key'], dir);
    assert.equal(certified.output, requested.output);
  });

  it('refuses a request whose signature does not verify', async (t) => {
    const csr = await opensslRequest(await temporaryDirectory(t), 'DNS:api.acme.example');
    const der = Buffer.from(csr.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 3] = (der[der.length - 3] ?? 0) ^ 0x01; // inside the ECDSA signature's s value
    const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    await assert.rejects(signCertificateRequest(acme.ca, tampered), (error) => isLandlordError(error, 'LL_PKI_CSR_SIGNATURE_INVALID'));
  });

  it('refuses a request for another tenant\'s name', async (t) => {
    const csr = await opensslRequest(await temporaryDirectory(t), 'DNS:x.globex.example');
    await assert.rejects(signCertificateRequest(acme.ca, csr), (error) => isLandlordError(error, 'LL_PKI_NAME_NOT_PERMITTED'));
  });

  it('refuses a request for an IP address name', async (t) => {
    const csr = await opensslRequest(await temporaryDirectory(t), 'DNS:api.acme.example,IP:10.0.0.1');
    await assert.rejects(signCertificateRequest(acme.ca, csr), (error) => isLandlordError(error, 'LL_PKI_NAME_TYPE_UNSUPPORTED'));
  });

  it('refuses a request that is not PEM', async () => {
    await assert.rejects(signCertificateRequest(acme.ca, 'hello'), (error) => isLandlordError(error, 'LL_PKI_PEM_INVALID'));
  });

  it('refuses a PEM block that is not DER', async () => {
    const junk = '-----BEGIN CERTIFICATE REQUEST-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE REQUEST-----\n';
    await assert.rejects(signCertificateRequest(acme.ca, junk), (error) => isLandlordError(error, 'LL_PKI_CSR_INVALID'));
  });
});

describe('renewal with key rotation', () => {
  it('issues the same names under a new key and serial', async () => {
    const current = await issueLeafCertificate(acme.ca, { dns: ['db.acme.example'], uri: ['spiffe://acme.landlord.local/ns/a/sa/b'] });
    const renewed = await renewLeafCertificate(acme.ca, current.certificate);
    const [before] = parseCertificates(current.certificate);
    const [after] = parseCertificates(renewed.certificate);
    assert.ok(before && after);
    assert.notEqual(renewed.privateKey, current.privateKey);
    assert.notDeepEqual(Buffer.from(after.publicKey.rawData), Buffer.from(before.publicKey.rawData));
    assert.notEqual(after.serialNumber, before.serialNumber);
    const sans = (c: x509.X509Certificate) => c.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON();
    assert.deepEqual(sans(after), sans(before));
  });

  it('refuses to renew a certificate another CA issued', async () => {
    const foreign = await issueLeafCertificate(globex.ca, { dns: ['www.globex.example'], uri: [] });
    await assert.rejects(renewLeafCertificate(acme.ca, foreign.certificate), (error) => isLandlordError(error, 'LL_PKI_NOT_ISSUED_BY_CA'));
  });
});

describe('loading a CA from its files', () => {
  it('refuses a key that belongs to another certificate', async () => {
    await assert.rejects(loadAuthority({ ...acme.bundle, privateKey: globex.bundle.privateKey }), (error) => isLandlordError(error, 'LL_PKI_KEY_MISMATCH'));
  });

  it('refuses a leaf certificate as a CA', async () => {
    const leaf = await issueLeafCertificate(acme.ca, { dns: ['db.acme.example'], uri: [] });
    await assert.rejects(loadAuthority(leaf), (error) => isLandlordError(error, 'LL_PKI_NOT_A_CA'));
  });

  it('refuses a tenant CA whose ca.crt is not its issuer', async () => {
    await assert.rejects(loadAuthority({ ...acme.bundle, ca: globex.bundle.certificate }), (error) => isLandlordError(error, 'LL_PKI_CHAIN_INVALID'));
  });

  it('refuses an RSA key', async (t) => {
    const dir = await temporaryDirectory(t);
    const rsa = await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], dir);
    await assert.rejects(loadAuthority({ ...acme.bundle, privateKey: rsa.output }), (error) => isLandlordError(error, 'LL_PKI_KEY_UNSUPPORTED'));
  });

  it('refuses a key file that is not a key', async () => {
    await assert.rejects(loadAuthority({ ...acme.bundle, privateKey: acme.bundle.certificate }), (error) => isLandlordError(error, 'LL_PKI_KEY_INVALID'));
  });

  it('refuses a certificate block holding garbage', async () => {
    const junk = '-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n';
    await assert.rejects(loadAuthority({ ...acme.bundle, certificate: junk }), (error) => isLandlordError(error, 'LL_PKI_CERTIFICATE_INVALID'));
  });
});
