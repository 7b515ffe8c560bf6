/**
 * The admission webhooks called by a real kube-apiserver: positive cases (a compliant Deployment is
 * admitted unchanged, a defaultable one gets the defaults) and the tenant guards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, NodeV1Api, RbacAuthorizationV1Api, type V1Deployment, type V1PodSpec } from '@kubernetes/client-node';
import { kubeTenantFacts } from '../../src/admission/index.ts';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { platformManaged, startWebhook, tenantFixture, type RunningWebhook, type TenantFixture } from '../support/admission.ts';
import { testCluster, eventually } from '../support/cluster.ts';
import { installCrds } from '../support/tenants.ts';
import { KubeHttp } from '../support/kube-http.ts';

const suffix = Date.now().toString(36);
/** client-node returns class instances; compare their JSON. */
const plain = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

function deployment(name: string, spec: V1PodSpec): V1Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec } },
  };
}

const realisticSpec = (): V1PodSpec => ({
  securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{
    name: 'web', image: 'registry.example/shop/web:2.4.1', imagePullPolicy: 'Always',
    ports: [{ containerPort: 8080, name: 'http' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'config', mountPath: '/etc/web' }],
  }],
  volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'config', configMap: { name: 'web' } }],
});

// Started at the top level so that the cluster's `after` (stop) belongs to the file, not a hook.
const cluster: DevCluster = await testCluster({ node: false });

describe('admission webhooks called by the API server', () => {
  let acme: TenantFixture;
  let webhook: RunningWebhook;
  let tenant: KubeHttp;
  let hard: TenantFixture;
  const tenantName = `acme${suffix}`;
  const hardName = `vault${suffix}`;
  const runtimeClass = `isolated-${suffix}`;
  const placement = { runtimeClassName: runtimeClass, nodeSelector: { 'landlord.dev/pool': hardName }, tolerations: [{ key: 'landlord.dev/dedicated', operator: 'Equal', value: hardName, effect: 'NoSchedule' }] };

  before(async () => {
    await installCrds(cluster.kubeConfig());
    acme = await tenantFixture(cluster, tenantName);
    hard = await tenantFixture(cluster, hardName);
    const custom = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    const tenantObject = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { owners: { groups: [`tenant:${name}`] }, ...spec } });
    await custom.createClusterCustomObject({ group: 'landlord.dev', version: 'v1alpha1', plural: 'tenants', body: tenantObject(tenantName, { tier: 'soft', domains: [`*.${tenantName}.example`] }) });
    await custom.createClusterCustomObject({ group: 'landlord.dev', version: 'v1alpha1', plural: 'tenants', body: tenantObject(hardName, { tier: 'hard', domains: [`${hardName}.example`], placement }) });
    await cluster.kubeConfig().makeApiClient(NodeV1Api).createRuntimeClass({ body: { metadata: { name: runtimeClass }, handler: 'kata' } });
    // The operator's tenant-admin role will grant Routes; the built-in admin role does not know them.
    await cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace: acme.namespace,
      body: { metadata: { name: 'route-editor' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'route-editors' }] },
    });
    const facts = kubeTenantFacts(cluster.kubeConfig());
    webhook = await startWebhook(cluster, {
      tenants: [tenantName, hardName], probeNamespace: acme.namespace,
      deps: { hostnameFacts: (namespace) => facts.hostnameFacts(namespace), mutationContext: (namespace) => facts.mutationContext(namespace) },
    });
    tenant = new KubeHttp(acme.kubeconfig);
  });
  after(async () => {
    await webhook?.remove();
  });

  const tenantApps = (): AppsV1Api => {
    const config = cluster.kubeConfig();
    config.loadFromFile(acme.kubeconfig);
    return config.makeApiClient(AppsV1Api);
  };

  it('admits a realistic compliant Deployment unchanged', async () => {
    const sent = realisticSpec();
    const created = await tenantApps().createNamespacedDeployment({ namespace: acme.namespace, body: deployment('web', sent) });
    const stored = created.spec?.template.spec;
    assert.deepEqual(plain(stored?.securityContext), sent.securityContext);
    assert.deepEqual(plain(stored?.containers[0]?.securityContext), sent.containers[0]?.securityContext);
    assert.equal(stored?.containers[0]?.imagePullPolicy, 'Always');
    assert.equal(stored?.runtimeClassName, undefined);
    assert.equal(created.metadata?.annotations, undefined);
  });

  it('admits a defaultable Deployment with the restricted defaults applied', async () => {
    const bare: V1PodSpec = { containers: [{ name: 'api', image: 'registry.example/shop/api:1.0' }] };
    const created = await tenantApps().createNamespacedDeployment({ namespace: acme.namespace, body: deployment('api', bare) });
    const stored = created.spec?.template.spec;
    assert.deepEqual(plain(stored?.securityContext), { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(plain(stored?.containers[0]?.securityContext), { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    assert.equal(stored?.containers[0]?.imagePullPolicy, 'Always');
  });

  it('denies a non-compliant Deployment, naming the rule, the field and the fix', async () => {
    const spec = realisticSpec();
    spec.containers[0]!.securityContext!.allowPrivilegeEscalation = true;
    const outcome = await tenant.call('create', `/apis/apps/v1/namespaces/${acme.namespace}/deployments`, '', deployment('escalating', spec));
    assert.equal(outcome.status, 403);
    assert.equal(
      outcome.message,
      'admission webhook "workloads.validate.landlord.dev" denied the request: restricted/allowPrivilegeEscalation: spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation must be false',
    );
  });

  it('denies a CronJob whose job template runs as root', async () => {
    const spec = realisticSpec();
    spec.securityContext!.runAsUser = 0;
    const cronJob = { apiVersion: 'batch/v1beta1', kind: 'CronJob', metadata: { name: 'nightly' }, spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { ...spec, restartPolicy: 'Never' } } } } } };
    const outcome = await tenant.call('create', `/apis/batch/v1beta1/namespaces/${acme.namespace}/cronjobs`, '', cronJob);
    assert.equal(outcome.status, 403);
    assert.match(outcome.message, /restricted\/runAsUser: spec\.jobTemplate\.spec\.template\.spec\.securityContext\.runAsUser must not be 0 \(root\)/);
  });

  it('denies a tenant a NodePort Service and admits a ClusterIP one', async () => {
    const collection = `/api/v1/namespaces/${acme.namespace}/services`;
    const service = (name: string, type: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type, selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
    const nodePort = await tenant.call('create', collection, '', service('exposed', 'NodePort'));
    assert.equal(nodePort.status, 403);
    assert.match(nodePort.message, /tenant\/serviceExposure: spec\.type must be ClusterIP, not NodePort: publish the service with a Route/);
    assert.equal((await tenant.call('create', collection, '', service('internal', 'ClusterIP'))).status, 201);
  });

  it('denies a tenant changing a platform-managed NetworkPolicy that RBAC lets it edit', async () => {
    await cluster.kubeConfig().makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({
      namespace: acme.namespace,
      body: { metadata: { name: 'default-deny', labels: platformManaged(tenantName) }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    });
    const item = `/apis/networking.k8s.io/v1/namespaces/${acme.namespace}/networkpolicies`;
    const patched = await tenant.call('patch', item, 'default-deny');
    assert.equal(patched.status, 403);
    assert.match(patched.message, /tenant\/platformManagedObjects: NetworkPolicy .*\/default-deny is managed by landlord and must not be modified by a tenant: change the Tenant instead/);
    const deleted = await tenant.call('delete', item, 'default-deny');
    assert.equal(deleted.status, 403);
    assert.match(deleted.message, /must not be deleted by a tenant/);
  });

  it('denies a tenant removing its namespace\'s tenant label even when RBAC was granted too broadly', async () => {
    const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    const role = `namespace-patcher-${suffix}`;
    await rbac.createClusterRole({ body: { metadata: { name: role }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch', 'update'] }] } });
    await rbac.createClusterRoleBinding({
      body: { metadata: { name: role }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: acme.group }] },
    });
    try {
      const path = `/api/v1/namespaces/${acme.namespace}`;
      // RBAC authorizes from a cache: wait until the broad grant is in effect, so a 403 below can
      // only come from the webhook.
      await eventually('the broad namespace grant to take effect', async () => {
        const review = await tenant.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: 'patch', resource: 'namespaces', name: acme.namespace } },
        });
        return review.message.includes('"allowed":true') ? true : undefined;
      });
      const removeLabel = await tenant.request('PATCH', path, { metadata: { labels: { 'landlord.dev/tenant': null } } }, 'application/merge-patch+json');
      assert.equal(removeLabel.status, 403);
      assert.match(removeLabel.message, /tenant\/platformLabels: metadata\.labels\[landlord\.dev\/tenant\] must not be removed \(".*" → unset\): only the platform writes it/);
      const ownLabel = await tenant.request('PATCH', path, { metadata: { labels: { team: 'shop' } } }, 'application/merge-patch+json');
      assert.equal(ownLabel.status, 200);
      const namespace = await cluster.kubeConfig().makeApiClient(CoreV1Api).readNamespace({ name: acme.namespace });
      assert.equal(namespace.metadata?.labels?.['landlord.dev/tenant'], tenantName);
    } finally {
      await rbac.deleteClusterRoleBinding({ name: role });
      await rbac.deleteClusterRole({ name: role });
    }
  });

  it('lets the platform (system:masters) update what it manages', async () => {
    const admin = new KubeHttp(cluster.kubeconfigPath);
    const outcome = await admin.call('patch', `/apis/networking.k8s.io/v1/namespaces/${acme.namespace}/networkpolicies`, 'default-deny');
    assert.equal(outcome.status, 200);
  });

  it('admits a Route inside the tenant\'s domain and refuses one outside it or already claimed', async () => {
    const editor = new KubeHttp(await cluster.kubeconfigFor({ user: `${tenantName}-router`, groups: [acme.group, 'route-editors'] }));
    const routes = `/apis/landlord.dev/v1alpha1/namespaces/${acme.namespace}/routes`;
    const route = (name: string, hostname: string) => ({ apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name }, spec: { hostname, protocol: 'tls', backend: { service: 'db', port: 3306 } } });
    const own = await editor.call('create', routes, '', route('db', `db.${tenantName}.example`));
    assert.equal(own.status, 201, own.message);
    const foreign = await editor.call('create', routes, '', route('steal', `db.${hardName}.example`));
    assert.equal(foreign.status, 403);
    assert.match(foreign.message, new RegExp(`hostnames/tenantDomains: spec\\.hostname db\\.${hardName}\\.example must be inside the tenant's domains \\(${tenantName}\\.example\\)`));
    const duplicate = await editor.call('create', routes, '', route('again', `*.${tenantName}.example`));
    assert.equal(duplicate.status, 403);
    assert.match(duplicate.message, /hostnames\/unique: spec\.hostname \*\..* is already routed by another Route: choose another hostname/);
  });

  it('refuses an Ingress host outside the tenant\'s domains', async () => {
    const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec: { rules: [{ host: 'www.example.org', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } };
    const outcome = await tenant.call('create', `/apis/networking.k8s.io/v1/namespaces/${acme.namespace}/ingresses`, '', ingress);
    assert.equal(outcome.status, 403);
    assert.match(outcome.message, /hostnames\/tenantDomains: spec\.rules\[0\]\.host www\.example\.org must be inside the tenant's domains/);
  });

  it('places a hard-tier tenant\'s pods with its runtime class, node selector and tolerations', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'placed' }, spec: { ...realisticSpec(), volumes: [], containers: [{ ...realisticSpec().containers[0], volumeMounts: [] }] } };
    const created = await new KubeHttp(hard.kubeconfig).call('create', `/api/v1/namespaces/${hard.namespace}/pods`, '', pod);
    assert.equal(created.status, 201, created.message);
    const stored = await cluster.kubeConfig().makeApiClient(CoreV1Api).readNamespacedPod({ namespace: hard.namespace, name: 'placed' });
    assert.equal(stored.spec?.runtimeClassName, runtimeClass);
    assert.deepEqual(stored.spec?.nodeSelector, placement.nodeSelector);
    assert.ok(stored.spec?.tolerations?.some((t) => t.key === 'landlord.dev/dedicated' && t.value === hardName));
  });
});
