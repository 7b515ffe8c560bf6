/**
 * The webhook down: tenant namespaces fail closed, the platform's and the system's namespaces keep
 * working because no webhook ever selects them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { startWebhook, tenantFixture, type RunningWebhook, type TenantFixture } from '../support/admission.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { KubeHttp } from '../support/kube-http.ts';

const cluster: DevCluster = await testCluster({ node: false });
const suffix = Date.now().toString(36);

const compliantPod = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{
      name: 'app', image: 'registry.example/app:1', imagePullPolicy: 'Always', resources: { requests: { cpu: '10m', memory: '16Mi' } },
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    }],
  },
});

describe('when the webhook is down', () => {
  let acme: TenantFixture;
  let webhook: RunningWebhook;
  let admin: KubeHttp;
  const tenantName = `down${suffix}`;

  before(async () => {
    acme = await tenantFixture(cluster, tenantName);
    webhook = await startWebhook(cluster, { tenants: [tenantName], probeNamespace: acme.namespace });
    admin = new KubeHttp(cluster.kubeconfigPath);
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'landlord-system' } } }).catch(() => undefined);
    await eventually('the default service account of landlord-system', () => core.readNamespacedServiceAccount({ namespace: 'landlord-system', name: 'default' }));
    assert.equal((await admin.request('POST', `/api/v1/namespaces/${acme.namespace}/pods?dryRun=All`, compliantPod('while-up'))).status, 201);
    await webhook.stopServer();
  });
  after(async () => {
    await webhook?.remove();
  });

  it('refuses pods in a tenant namespace, for the tenant and for a cluster admin alike', async () => {
    for (const client of [new KubeHttp(acme.kubeconfig), admin]) {
      const outcome = await client.request('POST', `/api/v1/namespaces/${acme.namespace}/pods`, compliantPod('while-down'));
      assert.equal(outcome.status, 500);
      assert.match(outcome.message, /failed calling webhook "pods\.mutate\.landlord\.dev"/);
    }
  });

  it('refuses changes to the tenant namespace\'s labels', async () => {
    const outcome = await admin.request('PATCH', `/api/v1/namespaces/${acme.namespace}`, { metadata: { labels: { 'landlord.dev/tenant': null } } }, 'application/merge-patch+json');
    assert.equal(outcome.status, 500);
    assert.match(outcome.message, /failed calling webhook "namespaces\.validate\.landlord\.dev"/);
  });

  for (const namespace of ['kube-system', 'landlord-system']) {
    it(`keeps ${namespace} working`, async () => {
      const created = await admin.request('POST', `/api/v1/namespaces/${namespace}/pods`, compliantPod(`while-down-${suffix}`));
      assert.equal(created.status, 201, created.message);
      assert.equal((await admin.request('DELETE', `/api/v1/namespaces/${namespace}/pods/while-down-${suffix}`)).status, 200);
      const labelled = await admin.request('PATCH', `/api/v1/namespaces/${namespace}`, { metadata: { labels: { probe: suffix } } }, 'application/merge-patch+json');
      assert.equal(labelled.status, 200, labelled.message);
    });
  }
});
