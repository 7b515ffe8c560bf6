/**
 * CRLs kept current against a real kube-apiserver: the operator runs with an injected clock, the
 * clock moves past two thirds of the CRLs' seven days, and the root's and the tenant CA's CRLs are
 * signed again (higher CRL number, later nextUpdate, the same revoked entries), stored in their
 * Secrets and published in every trust bundle of the tenant; then a resync writes nothing, and
 * revocations added by hand are kept rather than reverted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { buildOperator, KubeClient, resources, rootCaSecretName, type KubeObject, type Operator } from '../../src/operator/index.ts';
import {
  bundleFromSecret, createTenantCa, inspectPem, issueLeafCertificate, loadAuthority, revocationListNumber, revokeCertificate, revokedCertificates,
  tenantNamePolicy, type CertificateAuthority,
} from '../../src/pki/index.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { installCrds, tenant, untilReady, withNamespaces } from '../support/tenants.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';
import { settled } from '../support/operator.ts';

type SecretObject = KubeObject & { type?: string; data?: Record<string, string> };
type ConfigMapObject = KubeObject & { data?: Record<string, string> };

const run = Math.random().toString(36).slice(2, 6);
const name = `crl${run}`;
const namespaces = [name, `${name}-db`];
const platformNamespace = 'landlord-system';
const dayMs = 86_400_000;
const pem = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8');

const cluster: DevCluster = await testCluster({ node: false });

interface Published {
  readonly rootCrl: string;
  readonly tenantCrl: string;
}

describe('CRLs signed again before nextUpdate', () => {
  let kube: KubeClient;
  let operator: Operator | undefined;
  let now = new Date();

  before(async () => {
    await installCrds(loadKubeconfigFile(cluster.kubeconfigPath));
    kube = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath));
  });

  after(async () => {
    await operator?.stop();
    kube.close();
  });

  const start = async (): Promise<Operator> => {
    const started = buildOperator({ client: new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath)), clock: () => now, workers: 2 });
    void started.run();
    await started.started();
    return started;
  };
  const secret = async (secretName: string): Promise<SecretObject> => {
    const found = await kube.get<SecretObject>(resources.secrets, secretName, platformNamespace);
    assert.ok(found, `Secret ${platformNamespace}/${secretName} exists`);
    return found;
  };
  const authority = async (secretName: string): Promise<CertificateAuthority> => loadAuthority(bundleFromSecret(await secret(secretName)));
  const storeCrl = async (secretName: string, crl: string): Promise<void> => {
    await kube.mergePatch(resources.secrets, secretName, platformNamespace, { data: { 'ca.crl': Buffer.from(crl).toString('base64') } });
  };
  /** The CRLs in the CA Secrets, once every trust bundle of the tenant carries exactly them. */
  const published = async (what: string, accept: (crls: Published) => boolean): Promise<Published> => eventually(what, async () => {
    const crls = { rootCrl: pem((await secret(rootCaSecretName)).data?.['ca.crl']), tenantCrl: pem((await secret(`tenant-${name}-ca`)).data?.['ca.crl']) };
    if (!accept(crls)) return undefined;
    for (const namespace of namespaces) {
      const bundle = await kube.get<ConfigMapObject>(resources.configMaps, 'landlord-tenant-ca', namespace);
      if (bundle?.data?.['root.crl'] !== crls.rootCrl || bundle.data['ca.crl'] !== crls.tenantCrl) return undefined;
    }
    return crls;
  });
  const nextUpdate = async (crl: string): Promise<number> => (await inspectPem(crl, 'CRL')).crls[0]?.nextUpdate?.getTime() ?? 0;

  it('signs the root\'s and the tenant CA\'s CRLs again past two thirds of their validity, keeping their entries', async () => {
    operator = await start();
    await kube.create(resources.tenants, tenant(name, withNamespaces(...namespaces)));
    await untilReady(kube, name);
    await operator.stop();

    // Revocations made by hand while no operator runs: a tenant CA in the root's CRL, a leaf in the tenant CA's.
    const root = await authority(rootCaSecretName);
    const tenantCa = await authority(`tenant-${name}-ca`);
    const otherCa = await createTenantCa(root, tenantNamePolicy(`other${run}`, [`*.other${run}.example`]));
    const leaf = await issueLeafCertificate(tenantCa, { dns: [`db.${name}.example`], uri: [] });
    await storeCrl(rootCaSecretName, await revokeCertificate(root, pem((await secret(rootCaSecretName)).data?.['ca.crl']), otherCa.certificate));
    await storeCrl(`tenant-${name}-ca`, await revokeCertificate(tenantCa, pem((await secret(`tenant-${name}-ca`)).data?.['ca.crl']), leaf.certificate));
    const revokedRoot = await revokedCertificates(root, pem((await secret(rootCaSecretName)).data?.['ca.crl']));
    const revokedTenant = await revokedCertificates(tenantCa, pem((await secret(`tenant-${name}-ca`)).data?.['ca.crl']));
    assert.equal(revokedRoot.length, 1);
    assert.equal(revokedTenant.length, 1);

    now = new Date();
    operator = await start();
    const current = await published('the trust bundles carry the CRLs with the revocations', (crls) =>
      crls.rootCrl.length > 0 && crls.tenantCrl.length > 0);
    assert.deepEqual(await revokedCertificates(root, current.rootCrl), revokedRoot, 'a fresh root CRL is kept as it is');
    assert.deepEqual(await revokedCertificates(tenantCa, current.tenantCrl), revokedTenant, 'a fresh tenant CRL is kept as it is');

    now = new Date(now.getTime() + 5 * dayMs);
    operator.resync();
    const renewed = await published('the CRLs signed again and published', (crls) => crls.rootCrl !== current.rootCrl && crls.tenantCrl !== current.tenantCrl);
    for (const [which, ca, before, after, entries] of [
      ['root', root, current.rootCrl, renewed.rootCrl, revokedRoot],
      ['tenant', tenantCa, current.tenantCrl, renewed.tenantCrl, revokedTenant],
    ] as const) {
      assert.ok((revocationListNumber(after) ?? 0n) > (revocationListNumber(before) ?? 0n), `the ${which} CRL number increased`);
      assert.ok(await nextUpdate(after) > await nextUpdate(before), `the ${which} CRL's nextUpdate moved on`);
      assert.equal(await nextUpdate(after), now.getTime() - (now.getTime() % 1000) + 7 * dayMs, `the ${which} CRL is valid seven days from the clock`);
      assert.deepEqual(await revokedCertificates(ca, after), entries, `the ${which} CRL keeps its revoked entries`);
    }

    await settled(operator);
    const writesBefore = operator.client.writeCount();
    const requestsBefore = operator.client.requestCount();
    operator.resync();
    await settled(operator);
    assert.equal(operator.client.writeCount() - writesBefore, 0, 'no write on a resync once the CRLs are current');
    assert.equal(operator.client.requestCount() - requestsBefore, 0, 'every read came from the caches');

    // A revocation added by hand while the operator runs is published, never reverted to the CRL it signed.
    const another = await issueLeafCertificate(tenantCa, { dns: [`api.${name}.example`], uri: [] });
    const withTwo = await revokeCertificate(tenantCa, renewed.tenantCrl, another.certificate, { now });
    await storeCrl(`tenant-${name}-ca`, withTwo);
    await published('the CRL revoked by hand in every trust bundle', (crls) => crls.tenantCrl === withTwo);
    await settled(operator);
    assert.equal(pem((await secret(`tenant-${name}-ca`)).data?.['ca.crl']), withTwo, 'the Secret keeps the CRL revoked by hand');
    assert.equal((await revokedCertificates(tenantCa, withTwo)).length, 2);

    // The root's CRL changed by hand since the operator wrote it: its next re-signing reads it again and keeps the entry.
    const thirdCa = await createTenantCa(root, tenantNamePolicy(`third${run}`, [`*.third${run}.example`]));
    const rootByHand = await revokeCertificate(root, renewed.rootCrl, thirdCa.certificate, { now });
    await storeCrl(rootCaSecretName, rootByHand);
    now = new Date(now.getTime() + 5 * dayMs);
    operator.resync();
    const resigned = await published('the root CRL revoked by hand, signed again', (crls) => crls.rootCrl !== rootByHand && crls.rootCrl !== renewed.rootCrl);
    assert.deepEqual(
      (await revokedCertificates(root, resigned.rootCrl)).map((entry) => entry.serialNumber).sort(),
      (await revokedCertificates(root, rootByHand)).map((entry) => entry.serialNumber).sort(),
      'both revoked tenant CAs are still listed',
    );
    assert.ok((revocationListNumber(resigned.rootCrl) ?? 0n) > (revocationListNumber(rootByHand) ?? 0n));
  });
});
