import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { issuePlatformServingCertificate } from './authority.ts';
import { platform } from './testing.ts';

describe('platform serving certificates', () => {
  it('issues a root-signed serverAuth certificate for a DNS name and 127.0.0.1', async () => {
    const { root } = await platform();
    const bundle = await issuePlatformServingCertificate(root.ca, { dns: ['landlord-webhook.landlord-system.svc'], ip: ['127.0.0.1'] });
    const leaf = new X509Certificate(bundle.certificate);
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf.checkHost('landlord-webhook.landlord-system.svc'), 'landlord-webhook.landlord-system.svc');
    assert.equal(leaf.checkIP('10.0.0.1'), undefined);
    assert.ok(leaf.verify(new X509Certificate(root.bundle.certificate).publicKey));
    assert.equal(bundle.ca, root.bundle.certificate);
    assert.ok(bundle.privateKey?.includes('PRIVATE KEY'));
  });

  it('refuses to sign from a tenant CA', async () => {
    const acme = await (await platform()).tenant('acme');
    await assert.rejects(issuePlatformServingCertificate(acme.ca, { dns: ['x.acme.example'], ip: [] }), (error) => isLandlordError(error, 'LL_PKI_NOT_A_ROOT_CA'));
  });

  it('refuses a certificate without names', async () => {
    const { root } = await platform();
    await assert.rejects(issuePlatformServingCertificate(root.ca, { dns: [], ip: [] }), (error) => isLandlordError(error, 'LL_PKI_NAMES_MISSING'));
  });
});
