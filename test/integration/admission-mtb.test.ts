/**
 * The Multi-Tenancy Benchmarks (reference.md §2), stricter than upstream, run as attacks by a
 * tenant user (a client certificate in the tenant's group): a check passes only on an admission
 * denial or an HTTP 403 carrying the specific reason, never on any error; every verb that applies
 * is tried, on plural resource names; probe pods carry real resource requests.
 *
 * Not here: FNS-1/FNS-2 (quotas exist) and NI-1 (default-deny policies) check what the operator
 * creates, and belong to its suite once merged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { platformManaged, startWebhook, tenantFixture, type RunningWebhook, type TenantFixture } from '../support/admission.ts';
import { testCluster } from '../support/cluster.ts';
import { KubeHttp, verbs, type Outcome } from '../support/kube-http.ts';

const cluster: DevCluster = await testCluster({ node: false });
const suffix = Date.now().toString(36);
const acmeName = `mtbacme${suffix}`;
const globexName = `mtbglobex${suffix}`;

type PodSpecPatch = Record<string, unknown>;
type ContainerPatch = Record<string, unknown>;

/** A probe pod that complies except for `podPatch`/`containerPatch`, with real resource requests. */
function probePod(name: string, podPatch: PodSpecPatch = {}, containerPatch: ContainerPatch = {}, securityPatch: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'probe', image: 'registry.example/probe:1', imagePullPolicy: 'Always',
        resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...securityPatch },
        ...containerPatch,
      }],
      ...podPatch,
    },
  };
}

function assertForbidden(outcome: Outcome, reason: RegExp | string, what: string): void {
  assert.equal(outcome.status, 403, `${what}: expected 403, got ${outcome.status} ${outcome.message}`);
  if (typeof reason === 'string') assert.ok(outcome.message.includes(reason), `${what}: ${outcome.message} lacks ${reason}`);
  else assert.match(outcome.message, reason, what);
}

describe('multi-tenancy benchmarks, stricter, as attacks by a tenant', () => {
  let acme: TenantFixture;
  let globex: TenantFixture;
  let webhook: RunningWebhook;
  let tenant: KubeHttp;
  let admin: KubeHttp;

  before(async () => {
    acme = await tenantFixture(cluster, acmeName);
    globex = await tenantFixture(cluster, globexName);
    webhook = await startWebhook(cluster, { tenants: [acmeName, globexName], probeNamespace: acme.namespace });
    tenant = new KubeHttp(acme.kubeconfig);
    admin = new KubeHttp(cluster.kubeconfigPath);
    const adminConfig = cluster.kubeConfig();
    const core = adminConfig.makeApiClient(CoreV1Api);
    const namespace = acme.namespace;
    const managed = platformManaged(acmeName);
    await core.createNamespacedResourceQuota({ namespace, body: { metadata: { name: 'tenant-quota', labels: managed }, spec: { hard: { pods: '20', 'requests.cpu': '2', 'requests.memory': '2Gi' } } } });
    await core.createNamespacedLimitRange({ namespace, body: { metadata: { name: 'tenant-limits', labels: managed }, spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '50m', memory: '32Mi' } }] } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'landlord-tenant-ca', labels: managed }, data: { 'ca.crt': 'fixture' } } });
    await adminConfig.makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({ namespace, body: { metadata: { name: 'default-deny', labels: managed }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } } });
    await core.createNamespacedConfigMap({ namespace: globex.namespace, body: { metadata: { name: 'globex-private' }, data: { secret: 'x' } } });
  });
  after(async () => {
    await webhook?.remove();
  });

  it('MTB-PL1-CC-CPI-1: a tenant cannot access cluster-scoped resources, with any verb', async () => {
    const resources: Array<[string, string, string]> = [
      ['/api/v1/nodes', '', 'nodes'],
      ['/api/v1/namespaces', '', 'namespaces'],
      ['/api/v1/persistentvolumes', '', 'persistentvolumes'],
      ['/apis/rbac.authorization.k8s.io/v1/clusterroles', 'rbac.authorization.k8s.io', 'clusterroles'],
      ['/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', 'rbac.authorization.k8s.io', 'clusterrolebindings'],
      ['/apis/storage.k8s.io/v1/storageclasses', 'storage.k8s.io', 'storageclasses'],
      ['/apis/apiextensions.k8s.io/v1/customresourcedefinitions', 'apiextensions.k8s.io', 'customresourcedefinitions'],
      ['/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations'],
      ['/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations'],
    ];
    for (const [collection, group, plural] of resources) {
      // A namespace's own RoleBinding reaches that namespace object; probe someone else's.
      const name = plural === 'namespaces' ? 'kube-system' : webhook.configurationName;
      for (const verb of verbs) {
        assertForbidden(await tenant.call(verb, collection, name), `cannot ${verb} resource "${plural}" in API group "${group}"`, `${verb} ${plural}`);
      }
    }
  });

  it('MTB-PL1-BC-CPI-2: a tenant cannot modify platform-managed objects in its namespace, with any writing verb', async () => {
    const managedObjects: Array<[string, string, string]> = [
      [`/apis/networking.k8s.io/v1/namespaces/${acme.namespace}/networkpolicies`, 'default-deny', 'NetworkPolicy'],
      [`/api/v1/namespaces/${acme.namespace}/configmaps`, 'landlord-tenant-ca', 'ConfigMap'],
    ];
    for (const [collection, name, kind] of managedObjects) {
      const current = JSON.parse((await admin.request('GET', `${collection}/${name}`)).message) as { metadata: Record<string, unknown> };
      const edited = { ...current, metadata: { ...current.metadata, labels: { ...(current.metadata.labels as object), edited: 'yes' } } };
      const modified = new RegExp(`tenant/platformManagedObjects: ${kind} ${acme.namespace}/${name} is managed by landlord and must not be modified by a tenant`);
      const deleted = new RegExp(`tenant/platformManagedObjects: ${kind} ${acme.namespace}/${name} is managed by landlord and must not be deleted by a tenant`);
      assertForbidden(await tenant.call('update', collection, name, edited), modified, `update ${kind}`);
      assertForbidden(await tenant.call('patch', collection, name), modified, `patch ${kind}`);
      assertForbidden(await tenant.call('delete', collection, name), deleted, `delete ${kind}`);
      assertForbidden(await tenant.call('deletecollection', collection, ''), deleted, `deletecollection ${kind}`);
      const forged = { ...current, metadata: { name: `forged-${name}`, labels: platformManaged(acmeName) } };
      assertForbidden(await tenant.call('create', collection, '', forged), /tenant\/platformLabels: metadata\.labels\[app\.kubernetes\.io\/managed-by\] must not be added/, `create ${kind}`);
      for (const verb of ['get', 'list', 'watch'] as const) assert.equal((await tenant.call(verb, collection, name)).status, 200, `${verb} ${kind}`);
      assert.equal((await admin.request('GET', `${collection}/${name}`)).status, 200, `${kind} ${name} survived`);
    }
  });

  const podAttacks: Array<{ id: string; name: string; pod: ReturnType<typeof probePod>; reason: string }> = [
    { id: 'MTB-PL1-BC-CPI-3', name: 'blocks added capabilities', pod: probePod('caps', {}, {}, { capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } }), reason: 'restricted/capabilities: spec.containers[0].securityContext.capabilities.add[0] (NET_ADMIN) must be removed: only NET_BIND_SERVICE may be added' },
    { id: 'MTB-PL1-BC-CPI-4', name: 'requires running as non-root', pod: probePod('root', { securityContext: { runAsNonRoot: false, seccompProfile: { type: 'RuntimeDefault' } } }), reason: 'restricted/runAsNonRoot: spec.securityContext.runAsNonRoot must be true' },
    { id: 'MTB-PL1-BC-CPI-4', name: 'refuses runAsUser 0', pod: probePod('uid0', {}, {}, { runAsUser: 0 }), reason: 'restricted/runAsUser: spec.containers[0].securityContext.runAsUser must not be 0 (root)' },
    { id: 'MTB-PL1-BC-CPI-5', name: 'blocks privileged containers', pod: probePod('privileged', {}, {}, { privileged: true, allowPrivilegeEscalation: undefined }), reason: 'baseline/privileged: spec.containers[0].securityContext.privileged must be false or unset' },
    { id: 'MTB-PL1-BC-CPI-6', name: 'blocks privilege escalation', pod: probePod('escalation', {}, {}, { allowPrivilegeEscalation: true }), reason: 'restricted/allowPrivilegeEscalation: spec.containers[0].securityContext.allowPrivilegeEscalation must be false' },
    { id: 'MTB-PL1-BC-HI-1', name: 'blocks hostPath volumes', pod: probePod('hostpath', { volumes: [{ name: 'host', hostPath: { path: '/etc' } }] }), reason: 'baseline/hostPathVolumes: spec.volumes[0].hostPath is forbidden' },
    { id: 'MTB-PL1-BC-HI-3', name: 'blocks hostNetwork', pod: probePod('hostnetwork', { hostNetwork: true }), reason: 'baseline/hostNamespaces: spec.hostNetwork must be false or unset' },
    { id: 'MTB-PL1-BC-HI-3', name: 'blocks hostPort', pod: probePod('hostport', {}, { ports: [{ containerPort: 8080, hostPort: 8080 }] }), reason: 'baseline/hostPorts: spec.containers[0].ports[0].hostPort must be 0 or unset' },
    { id: 'MTB-PL1-BC-HI-4', name: 'blocks hostPID', pod: probePod('hostpid', { hostPID: true }), reason: 'baseline/hostNamespaces: spec.hostPID must be false or unset' },
    { id: 'MTB-PL1-BC-HI-5', name: 'blocks hostIPC', pod: probePod('hostipc', { hostIPC: true }), reason: 'baseline/hostNamespaces: spec.hostIPC must be false or unset' },
  ];
  for (const { id, name, pod, reason } of podAttacks) {
    it(`${id}: ${name}, for pods and for Deployment templates (create and patch)`, async () => {
      const denial = `denied the request: ${reason}`;
      assertForbidden(await tenant.call('create', `/api/v1/namespaces/${acme.namespace}/pods`, '', pod), denial, 'create pod');
      const deployments = `/apis/apps/v1/namespaces/${acme.namespace}/deployments`;
      const template = { metadata: { labels: { app: pod.metadata.name } }, spec: pod.spec };
      const body = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: pod.metadata.name }, spec: { selector: { matchLabels: { app: pod.metadata.name } }, template } };
      assertForbidden(await tenant.call('create', deployments, '', body), `denied the request: ${reason.replace(': spec.', ': spec.template.spec.')}`, 'create deployment');
    });
  }

  it('MTB-PL1-BC-CPI-5/6: a tenant cannot patch a compliant Deployment into a privileged one', async () => {
    const name = `patched-${suffix}`;
    const pod = probePod(name);
    const apps = cluster.kubeConfig().makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: acme.namespace, body: { metadata: { name }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: pod.spec } } } });
    const patch = { spec: { template: { spec: { hostNetwork: true } } } };
    const outcome = await tenant.request('PATCH', `/apis/apps/v1/namespaces/${acme.namespace}/deployments/${name}`, patch, 'application/merge-patch+json');
    assertForbidden(outcome, 'baseline/hostNamespaces: spec.template.spec.hostNetwork must be false or unset', 'patch deployment');
  });

  it('MTB-PL1-BC-HI-1: a tenant cannot create a NodePort service nor turn a ClusterIP one into one', async () => {
    const services = `/api/v1/namespaces/${acme.namespace}/services`;
    const service = (type: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${type.toLowerCase()}` }, spec: { type, selector: { app: 'x' }, ports: [{ port: 80 }] } });
    assertForbidden(await tenant.call('create', services, '', service('NodePort')), 'tenant/serviceExposure: spec.type must be ClusterIP, not NodePort', 'create NodePort');
    assertForbidden(await tenant.call('create', services, '', service('LoadBalancer')), 'tenant/serviceExposure: spec.type must be ClusterIP, not LoadBalancer', 'create LoadBalancer');
    assert.equal((await tenant.call('create', services, '', service('ClusterIP'))).status, 201);
    const outcome = await tenant.request('PATCH', `${services}/svc-clusterip`, { spec: { type: 'NodePort' } }, 'application/merge-patch+json');
    assertForbidden(outcome, 'tenant/serviceExposure: spec.type must be ClusterIP, not NodePort', 'patch to NodePort');
    const external = await tenant.request('PATCH', `${services}/svc-clusterip`, { spec: { externalIPs: ['192.0.2.10'] } }, 'application/merge-patch+json');
    assertForbidden(external, 'tenant/serviceExposure: spec.externalIPs must be empty', 'patch externalIPs');
  });

  it('MTB-PL1-CC-TI-1: a tenant cannot modify its resource quotas, with any writing verb', async () => {
    const collection = `/api/v1/namespaces/${acme.namespace}/resourcequotas`;
    const body = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'tenant-quota' }, spec: { hard: { pods: '1000' } } };
    for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection'] as const) {
      assertForbidden(await tenant.call(verb, collection, 'tenant-quota', body), `cannot ${verb} resource "resourcequotas" in API group "" in the namespace "${acme.namespace}"`, verb);
    }
    for (const verb of ['get', 'list', 'watch'] as const) assert.equal((await tenant.call(verb, collection, 'tenant-quota')).status, 200, verb);
  });

  it('MTB-PL1-CC-TI-2: a tenant cannot access another tenant\'s namespaced resources, with any verb', async () => {
    const resources: Array<[string, string, string]> = [
      [`/api/v1/namespaces/${globex.namespace}/configmaps`, '', 'configmaps'],
      [`/api/v1/namespaces/${globex.namespace}/secrets`, '', 'secrets'],
      [`/api/v1/namespaces/${globex.namespace}/pods`, '', 'pods'],
      [`/api/v1/namespaces/${globex.namespace}/services`, '', 'services'],
      [`/apis/apps/v1/namespaces/${globex.namespace}/deployments`, 'apps', 'deployments'],
      [`/apis/networking.k8s.io/v1/namespaces/${globex.namespace}/networkpolicies`, 'networking.k8s.io', 'networkpolicies'],
      [`/apis/rbac.authorization.k8s.io/v1/namespaces/${globex.namespace}/rolebindings`, 'rbac.authorization.k8s.io', 'rolebindings'],
    ];
    for (const [collection, group, plural] of resources) {
      for (const verb of verbs) {
        assertForbidden(await tenant.call(verb, collection, 'globex-private'), `cannot ${verb} resource "${plural}" in API group "${group}" in the namespace "${globex.namespace}"`, `${verb} ${plural}`);
      }
    }
  });

  it('MTB-PL1-CC-DI-1: imagePullPolicy IfNotPresent is rewritten to Always', async () => {
    const pod = probePod(`pull-${suffix}`, {}, { imagePullPolicy: 'IfNotPresent' });
    const created = await tenant.call('create', `/api/v1/namespaces/${acme.namespace}/pods`, '', pod);
    assert.equal(created.status, 201, created.message);
    const stored = await cluster.kubeConfig().makeApiClient(CoreV1Api).readNamespacedPod({ namespace: acme.namespace, name: pod.metadata.name });
    assert.equal(stored.spec?.containers[0]?.imagePullPolicy, 'Always');
  });

  it('MTB-PL2-CC-TI-1: a tenant cannot escalate roles or bind cluster-admin', async () => {
    const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${acme.namespace}`;
    const binding = (role: string, kind: string) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `bind-${role}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: acme.group }] });
    assertForbidden(await tenant.call('create', `${rbac}/rolebindings`, '', binding('cluster-admin', 'ClusterRole')), /attempting to grant RBAC permissions not currently held/, 'bind cluster-admin');
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'everything' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] };
    assertForbidden(await tenant.call('create', `${rbac}/roles`, '', role), /attempting to grant RBAC permissions not currently held/, 'create an escalating role');
    const clusterBinding = { ...binding('cluster-admin', 'ClusterRole'), kind: 'ClusterRoleBinding' };
    assertForbidden(await tenant.call('create', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', '', clusterBinding), 'cannot create resource "clusterrolebindings"', 'create a ClusterRoleBinding');
  });

  it('MTB-PL2-BC-OPS-3/OPS-4: a tenant self-manages Roles, RoleBindings and NetworkPolicies in its namespace', async () => {
    const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${acme.namespace}`;
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] };
    assert.equal((await tenant.call('create', `${rbac}/roles`, '', role)).status, 201);
    const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'readers' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }] };
    assert.equal((await tenant.call('create', `${rbac}/rolebindings`, '', binding)).status, 201);
    const policies = `/apis/networking.k8s.io/v1/namespaces/${acme.namespace}/networkpolicies`;
    const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-web' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: {} }] }] } };
    assert.equal((await tenant.call('create', policies, '', policy)).status, 201);
    assert.equal((await tenant.call('patch', policies, 'allow-web')).status, 200);
    assert.equal((await tenant.call('delete', policies, 'allow-web')).status, 200);
  });
});

