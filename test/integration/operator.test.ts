/**
 * The tenant operator against a real kube-apiserver (with controller-manager, so namespace
 * deletion and garbage collection happen): what it creates, drift repair, spec changes, invalid
 * specs, zero writes on resync, and deletion leaving nothing behind.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { DevCluster } from '../../src/devcluster/index.ts';
import type { Condition } from '../../src/api/meta.ts';
import type { Tenant } from '../../src/api/tenant.ts';
import { buildOperator, caAnnotations, KubeClient, resources, type KubeObject, type Operator } from '../../src/operator/index.ts';
import { inspectPem } from '../../src/pki/index.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';
import {
  condition, installCrds, tenant, untilReady, withAllowFrom, withDomains, withInternetEgress, withNamespaces, withOwnerGroups, withQuota,
} from '../support/tenants.ts';
import { settled } from '../support/operator.ts';

type TenantObject = Tenant & KubeObject;
const run = Math.random().toString(36).slice(2, 6);
const named = (base: string): string => `${base}${run}`;

// At top level: testCluster registers the cluster's stop on the file, not on a hook.
const cluster: DevCluster = await testCluster({ node: false });

describe('tenant operator', () => {
  let kube: KubeClient;
  let operator: Operator;

  before(async () => {
    await installCrds(loadKubeconfigFile(cluster.kubeconfigPath));
    kube = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath));
    operator = buildOperator({ client: new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath)), workers: 4 });
    void operator.run();
    await operator.started();
  });

  after(async () => {
    await operator.stop();
    kube.close();
  });

  const labelled = async (name: string): Promise<KubeObject[]> => {
    const selector = `landlord.dev/tenant=${name}`;
    const lists = await Promise.all([
      resources.namespaces, resources.roleBindings, resources.resourceQuotas, resources.limitRanges, resources.networkPolicies,
      resources.configMaps, resources.secrets,
    ].map((type) => kube.list(type, { labelSelector: selector })));
    return lists.flatMap((list) => list.items);
  };

  it('creates namespaces, owner RBAC, quota, limits, network policies and the tenant CA', async () => {
    const name = named('acme');
    await kube.create(resources.tenants, tenant(name, withNamespaces(name, `${name}-db`), withOwnerGroups('acme-admins'), withInternetEgress()));
    const ready = await untilReady(kube, name);
    assert.equal(ready.status?.phase, 'Ready');
    assert.deepEqual(ready.status?.namespaces, [name, `${name}-db`].sort());
    assert.deepEqual(ready.metadata.finalizers, ['landlord.dev/cleanup']);
    for (const type of ['Namespaces', 'Policies', 'Certificates', 'Ready']) {
      const found: Condition | undefined = ready.status?.conditions?.find((c) => c.type === type);
      assert.equal(found?.status, 'True', `${type} is True`);
      assert.equal(found?.observedGeneration, ready.metadata.generation);
    }

    for (const namespace of [name, `${name}-db`]) {
      await expectNamespace(kube, name, namespace);
      await expectOwnerBindingAndQuota(kube, name, namespace);
      await expectNetworkPolicies(kube, namespace);
      await expectTrustBundleWithoutKeys(kube, namespace);
    }

    await expectTenantCa(kube, name, ready);
  });

  it('lets an owner run workloads but not change quotas, policies or namespace labels', async () => {
    const name = named('owned');
    await kube.create(resources.tenants, tenant(name));
    await untilReady(kube, name);
    const owner = new KubeConfig();
    owner.loadFromFile(await cluster.kubeconfigFor({ user: `${name}-admin` }));
    const core = owner.makeApiClient(CoreV1Api);
    const status = (error: unknown): number | undefined => (error as { code?: number }).code;
    await eventually('the owner may create a ConfigMap', () => core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'app' }, data: { a: 'b' } } }));
    await assert.rejects(core.deleteNamespacedResourceQuota({ name: 'landlord-quota', namespace: name }), (e) => status(e) === 403);
    await assert.rejects(
      core.patchNamespace({ name, body: [{ op: 'replace', path: '/metadata/labels/landlord.dev~1tenant', value: 'other' }] }),
      (e) => status(e) === 403,
    );
    await assert.rejects(core.listNamespacedSecret({ namespace: 'landlord-system' }), (e) => status(e) === 403);
    await assert.rejects(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'x' } } }), (e) => status(e) === 403);
  });

  it('repairs drift: a deleted quota and policy come back, an edited quota is restored', async () => {
    const name = named('drift');
    await kube.create(resources.tenants, tenant(name));
    await untilReady(kube, name);
    await kube.delete(resources.resourceQuotas, 'landlord-quota', name);
    await kube.delete(resources.networkPolicies, 'landlord-default-deny', name);
    await kube.mergePatch(resources.limitRanges, 'landlord-limits', name, { spec: { limits: [{ type: 'Container', max: { cpu: '64' } }] } });
    await eventually('the quota to come back', () => kube.get(resources.resourceQuotas, 'landlord-quota', name));
    await eventually('the default-deny policy to come back', () => kube.get(resources.networkPolicies, 'landlord-default-deny', name));
    await eventually('the limit range to be restored', async () => {
      const limits = await kube.get<KubeObject & { spec: { limits: Array<{ max?: { cpu?: string } }> } }>(resources.limitRanges, 'landlord-limits', name);
      return limits?.spec.limits[0]?.max?.cpu === '2' ? true : undefined;
    });
  });

  it('converges spec changes: namespaces added and removed, quota changed, a domain added re-issues the CA', async () => {
    const name = named('change');
    await kube.create(resources.tenants, tenant(name, withNamespaces(name, `${name}-old`)));
    const first = await untilReady(kube, name);
    await kube.mergePatch(resources.tenants, name, undefined, {
      spec: { namespaces: [name, `${name}-new`], quota: { pods: 7 }, domains: [`*.${name}.example`, `${name}.dev`] },
    });
    const second = await untilReady(kube, name);
    assert.deepEqual(second.status?.namespaces, [name, `${name}-new`].sort());
    assert.notEqual(second.status?.ca?.fingerprint, first.status?.ca?.fingerprint, 'a new CA for the new domain');
    const quota = await kube.get<KubeObject & { spec: { hard: Record<string, string> } }>(resources.resourceQuotas, 'landlord-quota', `${name}-new`);
    assert.equal(quota?.spec.hard.pods, '7');
    const caSecret = await kube.get(resources.secrets, `tenant-${name}-ca`, 'landlord-system');
    assert.equal(caSecret?.metadata.annotations?.[caAnnotations.zones], `${name}.dev,${name}.example`);
    const bundle = await kube.get<KubeObject & { data: Record<string, string> }>(resources.configMaps, 'landlord-tenant-ca', `${name}-new`);
    assert.equal(new X509Certificate(bundle!.data['ca.crt']!).fingerprint256, second.status?.ca?.fingerprint);
    await eventually('the removed namespace to be gone', async () => ((await kube.get(resources.namespaces, `${name}-old`)) === undefined ? true : undefined), 60_000);
  });

  it('reports a namespace not prefixed by the tenant in the Namespaces condition and creates nothing', async () => {
    const name = named('badns');
    await kube.create(resources.tenants, tenant(name, withNamespaces(`x${name}`)));
    const found: { reason: string; message: string } = await eventually('the Namespaces condition', async () => {
      const c = await condition(kube, name, 'Namespaces');
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(found.reason, 'NamespaceNameInvalid');
    assert.match(found.message, new RegExp(`"${name}" or "${name}-<suffix>"`));
    assert.equal((await condition(kube, name, 'Ready'))?.status, 'False');
    assert.equal((await kube.get<TenantObject>(resources.tenants, name))?.status?.phase, 'Degraded');
    assert.equal(await kube.get(resources.namespaces, `x${name}`), undefined);

    await kube.mergePatch(resources.tenants, name, undefined, { spec: { namespaces: [name] } });
    await untilReady(kube, name);
  });

  it('refuses a domain another, older tenant already holds, until that tenant lets go of it', async () => {
    const first = named('first');
    const second = named('second');
    await kube.create(resources.tenants, tenant(first, withDomains(`*.shared${run}.example`)));
    await untilReady(kube, first);
    await kube.create(resources.tenants, tenant(second, withDomains(`api.shared${run}.example`)));
    const found: { reason: string; message: string } = await eventually('the Certificates condition', async () => {
      const c = await condition(kube, second, 'Certificates');
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(found.reason, 'DomainClaimed');
    assert.match(found.message, new RegExp(first));
    await kube.mergePatch(resources.tenants, first, undefined, { spec: { domains: [`${first}.example`] } });
    await untilReady(kube, second);
  });

  it('rejects an invalid spec at the API server (schema)', async () => {
    await assert.rejects(
      kube.create(resources.tenants, tenant(named('schema'), withDomains('a.*.example'))),
      (error: unknown) => (error as { status?: number }).status === 422 && /spec\.domains/.test((error as Error).message),
    );
    await assert.rejects(
      kube.create(resources.tenants, tenant(named('quota'), withQuota({ cpu: 'lots' }))),
      (error: unknown) => (error as { status?: number }).status === 422,
    );
  });

  it('lets tenants listed in allowFrom in, and lets their pods out to this tenant', async () => {
    const server = named('server');
    const client = named('client');
    await kube.create(resources.tenants, tenant(client));
    await kube.create(resources.tenants, tenant(server, withAllowFrom(client)));
    await untilReady(kube, server);
    await untilReady(kube, client);
    const ingress = await kube.get<KubeObject & { spec: { ingress: unknown } }>(resources.networkPolicies, 'landlord-allow-from-tenants', server);
    assert.deepEqual(ingress?.spec.ingress, [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'landlord.dev/tenant', operator: 'In', values: [client] }] } }] }]);
    const egress = await eventually('egress from the client tenant', () => kube.get<KubeObject & { spec: { egress: unknown } }>(resources.networkPolicies, 'landlord-allow-to-tenants', client));
    assert.deepEqual(egress.spec.egress, [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'landlord.dev/tenant', operator: 'In', values: [server] }] } }] }]);
  });

  it('sends zero write requests on a full resync after convergence', async () => {
    const names = [named('idle-a'), named('idle-b'), named('idle-c')];
    for (const name of names) await kube.create(resources.tenants, tenant(name, withNamespaces(name, `${name}-x`)));
    for (const name of names) await untilReady(kube, name);
    await settled(operator);
    const writesBefore = operator.client.writeCount();
    const requestsBefore = operator.client.requestCount();
    const reconcilesBefore = reconcileCount(operator);
    operator.resync();
    await settled(operator);
    assert.ok(reconcileCount(operator) - reconcilesBefore >= names.length, 'the resync reconciled every tenant');
    assert.equal(operator.client.writeCount() - writesBefore, 0, 'no POST/PUT/PATCH/DELETE during the resync');
    assert.equal(operator.client.requestCount() - requestsBefore, 0, 'every read came from the caches');
  });

  it('deletes everything it created when a tenant is deleted', async () => {
    const name = named('gone');
    await kube.create(resources.tenants, tenant(name, withNamespaces(name, `${name}-b`)));
    await untilReady(kube, name);
    assert.ok((await labelled(name)).length > 10);
    await kube.delete(resources.tenants, name);
    await eventually('the tenant to be gone', async () => ((await kube.get(resources.tenants, name)) === undefined ? true : undefined), 90_000);
    assert.equal(await kube.get(resources.namespaces, name), undefined);
    assert.equal(await kube.get(resources.namespaces, `${name}-b`), undefined);
    assert.equal(await kube.get(resources.secrets, `tenant-${name}-ca`, 'landlord-system'), undefined);
    assert.deepEqual((await labelled(name)).map((o) => `${o.kind}/${o.metadata.name}`), []);
  });
});

async function expectNamespace(kube: KubeClient, tenantName: string, namespace: string): Promise<void> {
  const labels = (await kube.get(resources.namespaces, namespace))?.metadata.labels ?? {};
  assert.equal(labels['landlord.dev/tenant'], tenantName);
  assert.equal(labels['app.kubernetes.io/managed-by'], 'landlord');
  assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
  assert.equal(labels['kubernetes.io/metadata.name'], namespace);
}

async function expectOwnerBindingAndQuota(kube: KubeClient, tenantName: string, namespace: string): Promise<void> {
  const binding = await kube.get<KubeObject & { subjects: Array<{ kind: string; name: string }> }>(resources.roleBindings, 'landlord-tenant-admin', namespace);
  assert.deepEqual(binding?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'landlord-tenant-admin' });
  assert.deepEqual(binding.subjects.map((s) => `${s.kind}:${s.name}`), [`User:${tenantName}-admin`, 'Group:acme-admins']);
  const quota = await kube.get<KubeObject & { spec: { hard: Record<string, string> } }>(resources.resourceQuotas, 'landlord-quota', namespace);
  assert.deepEqual(Object.keys(quota?.spec.hard ?? {}).sort(), [
    'configmaps', 'limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'persistentvolumeclaims', 'pods', 'replicationcontrollers',
    'requests.cpu', 'requests.ephemeral-storage', 'requests.memory', 'resourcequotas', 'secrets', 'services', 'services.loadbalancers',
    'services.nodeports',
  ]);
  assert.equal(quota?.spec.hard['services.nodeports'], '0');
  assert.equal(quota?.spec.hard['services.loadbalancers'], '0');
  assert.ok(await kube.get(resources.limitRanges, 'landlord-limits', namespace));
}

async function expectNetworkPolicies(kube: KubeClient, namespace: string): Promise<void> {
  const policies = await kube.list<KubeObject & { spec: Record<string, unknown> }>(resources.networkPolicies, { namespace });
  assert.deepEqual(policies.items.map((p) => p.metadata.name).sort(), [
    'landlord-allow-dns', 'landlord-allow-internet', 'landlord-allow-platform', 'landlord-allow-same-tenant', 'landlord-default-deny',
  ]);
  const spec = (policyName: string): Record<string, unknown> | undefined => policies.items.find((p) => p.metadata.name === policyName)?.spec;
  assert.deepEqual(spec('landlord-allow-internet')?.egress, [{
    to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.169.254/32'] } }],
  }]);
  assert.deepEqual(spec('landlord-default-deny'), { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  assert.deepEqual(spec('landlord-allow-platform')?.ingress, [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'landlord-system' } } }] }]);
}

async function expectTrustBundleWithoutKeys(kube: KubeClient, namespace: string): Promise<void> {
  const bundle = await kube.get<KubeObject & { data: Record<string, string> }>(resources.configMaps, 'landlord-tenant-ca', namespace);
  assert.deepEqual(Object.keys(bundle?.data ?? {}).sort(), ['ca.crl', 'ca.crt', 'root.crl', 'root.crt']);
  const secrets = await kube.list<KubeObject & { data?: Record<string, string> }>(resources.secrets, { namespace });
  assert.equal(secrets.items.filter((s) => s.data?.['tls.key'] !== undefined).length, 0, 'no private key in a tenant namespace');
}

async function expectTenantCa(kube: KubeClient, name: string, ready: TenantObject): Promise<void> {
  const caSecret = await kube.get<KubeObject & { data: Record<string, string> }>(resources.secrets, `tenant-${name}-ca`, 'landlord-system');
  assert.ok(caSecret?.data['tls.key'], 'the CA key lives in landlord-system');
  const certificate = Buffer.from(caSecret.data['tls.crt']!, 'base64').toString();
  const inspection = await inspectPem(certificate, 'tenant CA');
  assert.deepEqual(inspection.certificates[0]?.permitted?.dns, [`${name}.example`]);
  assert.equal(inspection.certificates[0]?.permitted?.critical, true);
  assert.equal(ready.status?.ca?.fingerprint, new X509Certificate(certificate).fingerprint256);
}

function reconcileCount(operator: Operator): number {
  const text = operator.metrics.render();
  return [...text.matchAll(/^landlord_operator_reconciles_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}
