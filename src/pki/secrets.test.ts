import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { issueLeafCertificate, type PemBundle } from './authority.ts';
import { bundleFromSecret, tenantPkiObjects, tlsSecret } from './secrets.ts';
import { platform, type PlatformFixture, type TenantFixture } from './testing.ts';

let world: PlatformFixture;
let acme: TenantFixture;
let leaf: PemBundle;

before(async () => {
  world = await platform();
  acme = await world.tenant('acme', '*.acme.example');
  leaf = await issueLeafCertificate(acme.ca, { dns: ['db.acme.example'], uri: [] });
});

const decode = (data: Readonly<Record<string, string>>, key: string) => Buffer.from(data[key] ?? '', 'base64').toString();

describe('Secrets in cert-manager\'s layout', () => {
  it('stores a leaf as a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt', () => {
    const secret = tlsSecret({ name: 'db-tls', namespace: 'acme-shop', labels: {} }, leaf);
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(secret.data).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    assert.equal(decode(secret.data, 'tls.crt'), leaf.certificate);
  });

  it('reads back exactly what it stored', () => {
    assert.deepEqual(bundleFromSecret(tlsSecret({ name: 'x', namespace: 'y', labels: {} }, acme.bundle)), acme.bundle);
  });

  it('refuses a Secret of another type', () => {
    assert.throws(() => bundleFromSecret({ type: 'Opaque', data: {} }), (error) => isLandlordError(error, 'LL_PKI_SECRET_INVALID'));
  });

  it('refuses Secret data that is not base64', () => {
    assert.throws(() => bundleFromSecret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'not base64!' } }), (error) => isLandlordError(error, 'LL_PKI_SECRET_INVALID'));
  });

  it('refuses a Secret without ca.crt', () => {
    const { 'ca.crt': _ca, ...data } = tlsSecret({ name: 'x', namespace: 'y', labels: {} }, leaf).data;
    assert.throws(() => bundleFromSecret({ type: 'kubernetes.io/tls', data }), (error) => isLandlordError(error, 'LL_PKI_FILE_MISSING'));
  });
});

describe('a tenant\'s PKI objects', () => {
  const objects = () => tenantPkiObjects({ tenant: 'acme', caBundle: acme.bundle, rootBundle: world.root.bundle, tenantNamespaces: ['acme-shop', 'acme-db'] });

  it('keeps the CA key in one Secret in the platform namespace', () => {
    const { caSecret } = objects();
    assert.equal(caSecret.metadata.namespace, 'landlord-system');
    assert.equal(caSecret.metadata.name, 'tenant-acme-ca');
    assert.equal(decode(caSecret.data, 'tls.key'), acme.bundle.privateKey);
    assert.equal(decode(caSecret.data, 'ca.crt'), world.root.bundle.certificate);
    assert.deepEqual(caSecret.metadata.labels, { 'app.kubernetes.io/managed-by': 'landlord', 'landlord.dev/tenant': 'acme' });
  });

  it('gives each tenant namespace the CA certificates and CRLs and never a private key', () => {
    const { trustBundles } = objects();
    assert.deepEqual(trustBundles.map((bundle) => bundle.metadata.namespace), ['acme-shop', 'acme-db']);
    for (const bundle of trustBundles) {
      assert.deepEqual(Object.keys(bundle.data).sort(), ['ca.crl', 'ca.crt', 'root.crl', 'root.crt']);
      assert.equal(bundle.data['ca.crt'], acme.bundle.certificate);
      assert.doesNotMatch(JSON.stringify(bundle), /PRIVATE KEY/);
    }
  });

  it('refuses to treat the platform namespace as a tenant namespace', () => {
    assert.throws(
      () => tenantPkiObjects({ tenant: 'acme', caBundle: acme.bundle, rootBundle: world.root.bundle, tenantNamespaces: ['landlord-system'] }),
      (error) => isLandlordError(error, 'LL_PKI_NAMESPACE_INVALID'),
    );
  });
});
