import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRootCa, issuePlatformServingCertificate, loadAuthority, type CertificateAuthority, type PemBundle } from '../pki/index.ts';
import type { KubeObject } from './runtime/kube.ts';
import { bundleOf, caBundlePatch, desiredWebhookSecret, webhookDnsNames, webhookServingDecision } from './webhook-tls.ts';

const now = new Date('2026-03-01T00:00:00Z');
const dayMs = 86_400_000;

describe('webhook serving certificate', () => {
  let root: PemBundle;
  let authority: CertificateAuthority;
  let serving: PemBundle;
  let otherRoot: PemBundle;

  before(async () => {
    root = await createRootCa({ now });
    authority = await loadAuthority(root);
    serving = await issuePlatformServingCertificate(authority, { dns: webhookDnsNames, ip: [] }, { now });
    otherRoot = await createRootCa({ now });
  });

  it('decides, in order', async () => {
    const oneName = await issuePlatformServingCertificate(authority, { dns: [webhookDnsNames[0]!], ip: [] }, { now });
    const foreign = await issuePlatformServingCertificate(await loadAuthority(otherRoot), { dns: webhookDnsNames, ip: [] }, { now });
    const decide = (bundle: PemBundle | undefined, at = now): string => {
      const decision = webhookServingDecision(bundle, root.certificate, at);
      return decision.issue ? decision.reason : 'keep';
    };
    assert.equal(decide(serving), 'keep');
    assert.equal(decide(undefined), 'missing');
    assert.equal(decide({ ...serving, privateKey: oneName.privateKey! }), 'unreadable');
    assert.equal(decide({ ...serving, certificate: 'garbage' }), 'unreadable');
    assert.equal(decide(foreign), 'issuer-changed');
    assert.equal(decide(oneName), 'names-changed');
    assert.equal(decide(serving, new Date(now.getTime() + 59 * dayMs)), 'keep');
    assert.equal(decide(serving, new Date(now.getTime() + 61 * dayMs)), 'renewal-due');
  });

  it('round-trips through its Secret (kubernetes.io/tls, ca.crt = the root)', () => {
    const secret = desiredWebhookSecret(serving);
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(secret.data as object).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    assert.equal(bundleOf(secret)?.ca, root.certificate);
    assert.equal(webhookServingDecision(bundleOf(secret), root.certificate, now).issue, false);
  });
});

describe('caBundlePatch', () => {
  const rootPem = '-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n';
  const bundle = Buffer.from(rootPem).toString('base64');
  const configuration = (...caBundles: Array<string | undefined>): KubeObject => ({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'landlord-admission', resourceVersion: '42' },
    webhooks: caBundles.map((caBundle, index) => ({ name: `w${index}.landlord.dev`, sideEffects: 'None', clientConfig: { service: { name: 'landlord-webhook', namespace: 'landlord-system' }, ...(caBundle === undefined ? {} : { caBundle }) } })),
  });

  it('patches nothing when every webhook has the root', () => {
    assert.equal(caBundlePatch(configuration(bundle, bundle), rootPem), undefined);
    assert.equal(caBundlePatch(configuration(), rootPem), undefined);
  });

  it('sets the root on every webhook, keeping everything else, guarded by the observed version', () => {
    assert.deepEqual(caBundlePatch(configuration(bundle, undefined, 'c3RhbGU='), rootPem), {
      metadata: { resourceVersion: '42' },
      webhooks: [0, 1, 2].map((index) => ({
        name: `w${index}.landlord.dev`, sideEffects: 'None', clientConfig: { service: { name: 'landlord-webhook', namespace: 'landlord-system' }, caBundle: bundle },
      })),
    });
  });
});
