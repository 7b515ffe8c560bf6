/**
 * The tenant ingress against a real kube-apiserver (control plane only, so Service ClusterIPs do
 * not route; the data path to pods is test/e2e/tenant-ingress.test.ts):
 * - the operator, holding only its generated ClusterRole, deploys each tenant's ingress objects;
 * - the ingress, as its ServiceAccount (only the operator's Roles and RoleBindings), reads its
 *   tenant's namespaces and nothing else;
 * - the Kubernetes source builds the table (backends at ClusterIPs) and the certificate set from
 *   Routes, Ingresses, Services and TLS Secrets, follows changes, and keeps a certificate whose
 *   renewal is invalid.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import type { DevCluster } from '../../src/devcluster/index.ts';
import type { Route, RouteSpec } from '../../src/api/route.ts';
import { serveKubernetesIngress, type RunningIngress, type KubernetesSource } from '../../src/ingress/index.ts';
import { buildOperator, KubeClient, operatorRbacObjects, readApiServerEndpoints, resources, rootCaSecretName, type ApiServerEndpoint, type KubeObject, type Operator } from '../../src/operator/index.ts';
import { bundleFromSecret, issueLeafCertificate, loadAuthority, tlsSecret } from '../../src/pki/index.ts';
import { silentLogger } from '../../src/shared/log.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { installCrds, tenant, untilReady, withNamespaces } from '../support/tenants.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';
import { settled } from '../support/operator.ts';

const run = Math.random().toString(36).slice(2, 6);
const name = `ing${run}`;
const other = `oth${run}`;
const second = `${name}-b`;
const routeType = { group: 'landlord.dev', version: 'v1alpha1', plural: 'routes', kind: 'Route', namespaced: true } as const;
const ingressType = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', namespaced: true } as const;

const cluster: DevCluster = await testCluster({ node: false });

function route(namespace: string, routeName: string, spec: Partial<RouteSpec> = {}): Route & KubeObject {
  return {
    apiVersion: 'landlord.dev/v1alpha1',
    kind: 'Route',
    metadata: { name: routeName, namespace },
    spec: { hostname: `${routeName}.${name}.example`, protocol: 'http', backend: { service: routeName, port: 80 }, ...spec },
  };
}

function service(namespace: string, serviceName: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: serviceName, namespace }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }], selector: { app: serviceName } } };
}

const describeOutcome = (outcome: { names: string } | Error): string => (outcome instanceof Error ? outcome.message : outcome.names);

async function handshake(port: number, servername: string, ca: string): Promise<{ names: string; serial: string } | Error> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['http/1.1'] }, () => {
      const peer = socket.getPeerX509Certificate();
      resolve({ names: peer?.subjectAltName ?? '', serial: peer?.serialNumber ?? '' });
      socket.destroy();
    });
    socket.once('error', resolve);
  });
}

describe('tenant ingress on the Kubernetes API', () => {
  let admin: KubeClient;
  let operator: Operator;
  let apiServer: ApiServerEndpoint[];
  let ingress: RunningIngress & { readonly source: KubernetesSource };
  let rootCa: string;
  const statusOf = async (): Promise<number> => (await fetch(`http://127.0.0.1:${ingress.addresses.status?.port}/healthz`)).status;

  before(async () => {
    await installCrds(loadKubeconfigFile(cluster.kubeconfigPath));
    admin = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath));
    await eventually('the Route API', () => admin.list(routeType).then(() => true));
    // The operator as deployed: only the generated ClusterRole, bound to the identity it runs as.
    const role = operatorRbacObjects().find((object) => object.kind === 'ClusterRole');
    assert.ok(role);
    await admin.apply(resources.clusterRoles, role, 'test');
    await admin.apply({ ...resources.clusterRoles, plural: 'clusterrolebindings', kind: 'ClusterRoleBinding' }, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `ingress-test-operator-${run}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `ingress-test-operator-${run}` }],
    }, 'test');
    const operatorConfig = loadKubeconfigFile(await cluster.kubeconfigFor({ user: `ingress-test-operator-${run}` }));
    // Read as the operator, with only its generated ClusterRole: that role must allow it.
    apiServer = await readApiServerEndpoints(new KubeClient(operatorConfig));
    operator = buildOperator({ client: new KubeClient(operatorConfig), workers: 2, ingress: { image: 'landlord.dev/landlord:dev', routerSourceCidr: '10.244.0.1/32', apiServer } });
    void operator.run();
    await operator.started();

    // The ingress as its ServiceAccount: RBAC matches a ServiceAccount subject by this user name.
    const identity = new KubeConfig();
    identity.loadFromFile(await cluster.kubeconfigFor({ user: `system:serviceaccount:${name}:landlord-ingress`, groups: ['system:serviceaccounts', `system:serviceaccounts:${name}`] }));
    ingress = await serveKubernetesIngress({
      tenant: name, kubeConfig: identity, namespaces: [name, second], domains: [`*.${name}.example`], logger: silentLogger,
      listen: { host: '127.0.0.1', port: 0 }, status: { host: '127.0.0.1', port: 0 }, debounceMs: 20, backoff: { initialMs: 100, maxMs: 500 },
    });
  });

  after(async () => {
    await ingress?.shutdown(0);
    await operator?.stop();
    admin?.close();
  });

  it('is not ready before it can read its namespaces', async () => {
    assert.equal(await statusOf(), 503);
  });

  it('is deployed by the operator holding only its generated ClusterRole', async () => {
    await admin.create(resources.tenants, tenant(name, withNamespaces(name, second)));
    await admin.create(resources.tenants, tenant(other));
    await untilReady(admin, name);
    await untilReady(admin, other);
    const get = (type: Parameters<KubeClient['get']>[0], namespace: string) => admin.get<KubeObject & { spec?: Record<string, unknown> }>(type, 'landlord-ingress', namespace);
    assert.ok(await get(resources.serviceAccounts, name));
    for (const namespace of [name, second]) {
      assert.ok(await get(resources.roles, namespace), `Role in ${namespace}`);
      assert.ok(await get(resources.roleBindings, namespace), `RoleBinding in ${namespace}`);
    }
    const deployment = await get(resources.deployments, name) as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    assert.deepEqual(deployment.spec.template.spec.containers[0]?.args, [
      'ingress', '--kubernetes', '--tenant', name, '--namespaces', `${name},${second}`, '--domains', `*.${name}.example`,
      '--listen', '0.0.0.0:8443', '--status', '0.0.0.0:9901', '--trusted-proxy', '10.244.0.1/32',
    ]);
    const svc = await get(resources.services, name) as unknown as { spec: { ports: { name: string; port: number; targetPort: string }[] } };
    assert.deepEqual(svc.spec.ports.map((p) => `${p.name} ${p.port}->${p.targetPort}`), ['tls 443->tls', 'status 9901->status']);
    assert.equal(await get(resources.deployments, second), undefined, 'one ingress per tenant, in its first namespace');
  });

  it('lets the edge router reach every tenant namespace; names no API server this cluster does not list', async () => {
    const policy = (policyName: string, namespace: string) => admin.get<KubeObject & { spec: Record<string, unknown> }>(resources.networkPolicies, policyName, namespace);
    for (const namespace of [name, second]) {
      assert.deepEqual((await policy('landlord-allow-edge-router', namespace))?.spec, { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.1/32' } }] }] }, namespace);
    }
    // A control plane without a node runs no endpoint reconciler: default/kubernetes has no addresses
    // (test/e2e/tenant-ingress.test.ts checks the policy on a cluster with a node).
    assert.deepEqual(apiServer, []);
    assert.equal(await policy('landlord-allow-ingress-to-apiserver', name), undefined);
  });

  it('sends zero write requests on a resync once the ingress objects have converged', async () => {
    // The deployment controller has written the Deployment since: the operator compares, not remembers.
    await eventually('the Deployment status', async () => ((await admin.get<KubeObject & { status?: { observedGeneration?: number } }>(resources.deployments, 'landlord-ingress', name))?.status?.observedGeneration ? true : undefined));
    await settled(operator);
    const writesBefore = operator.client.writeCount();
    operator.resync();
    await settled(operator);
    assert.equal(operator.client.writeCount() - writesBefore, 0, 'no POST/PUT/PATCH/DELETE during the resync');
  });

  it("leaves other controllers' landlord Services alone (a Route's)", async () => {
    // The Route controller creates landlord-route-db (labelled managed-by and tenant) for this Route.
    await admin.create(resources.services, service(name, 'db'));
    await admin.create(routeType, route(name, 'db', { protocol: 'tls' }));
    await eventually('the Route\'s sidecar Service', () => admin.get(resources.services, 'landlord-route-db', name));
    operator.resync();
    await settled(operator);
    assert.ok(await admin.get(resources.services, 'landlord-route-db', name), 'not pruned by the tenant reconciler');
    await admin.delete(routeType, 'db', name);
    await admin.delete(resources.services, 'db', name);
  });

  it('repairs a changed Deployment and a deleted Role', async () => {
    await admin.mergePatch(resources.deployments, 'landlord-ingress', name, { spec: { replicas: 0 } });
    await admin.delete(resources.roles, 'landlord-ingress', second);
    await eventually('replicas back to 1', async () => ((await admin.get<KubeObject & { spec: { replicas: number } }>(resources.deployments, 'landlord-ingress', name))?.spec.replicas === 1 ? true : undefined));
    await eventually('the Role back', async () => ((await admin.get(resources.roles, 'landlord-ingress', second)) ? true : undefined));
  });

  it('becomes ready once the operator granted it its namespaces, and reads nothing else', async () => {
    await eventually('/healthz 200', async () => ((await statusOf()) === 200 ? true : undefined));
    const asIngress = new KubeClient(loadKubeconfigFile(await cluster.kubeconfigFor({ user: `system:serviceaccount:${name}:landlord-ingress`, groups: ['system:serviceaccounts', `system:serviceaccounts:${name}`] })));
    try {
      await asIngress.list(resources.secrets, { namespace: second });
      await assert.rejects(asIngress.list(resources.secrets, { namespace: other }), /403|forbidden/i);
      await assert.rejects(asIngress.list(routeType), /403|forbidden/i);
      await assert.rejects(asIngress.create(resources.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: name } }), /403|forbidden/i);
    } finally {
      asIngress.close();
    }
  });

  it('builds the table at Service ClusterIPs and serves the Route certificates', async () => {
    const caSecret = await admin.get<KubeObject & { type: string; data: Record<string, string> }>(resources.secrets, `tenant-${name}-ca`, 'landlord-system');
    const rootSecret = await admin.get<KubeObject & { type: string; data: Record<string, string> }>(resources.secrets, rootCaSecretName, 'landlord-system');
    assert.ok(caSecret && rootSecret);
    rootCa = bundleFromSecret(rootSecret).certificate;
    const tenantCa = await loadAuthority(bundleFromSecret(caSecret));
    const issue = async (namespace: string, secretName: string, ...dns: string[]) =>
      admin.apply(resources.secrets, tlsSecret({ name: secretName, namespace, labels: {} }, await issueLeafCertificate(tenantCa, { dns, uri: [] })) as unknown as KubeObject, 'test');

    await admin.create(resources.services, service(name, 'web'));
    await admin.create(resources.services, service(second, 'api'));
    await admin.create(resources.services, service(other, 'web'));
    await admin.create(routeType, route(name, 'web'));
    await admin.create(routeType, route(second, 'api', { tls: { secretName: 'own-api' } }));
    await admin.create(routeType, route(name, 'raw', { protocol: 'tls' }));
    await admin.create(routeType, route(other, 'web', { hostname: `stolen.${name}.example` }));
    await admin.create(ingressType, {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'shop', namespace: second },
      spec: { ingressClassName: 'landlord', rules: [{ host: `shop.${name}.example`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api', port: { name: 'http' } } } }] } }] },
    });
    // web's certificate is issued by the operator's Route controller; own-api is the tenant's own.
    await eventually('the operator-issued certificate of web', () => admin.get(resources.secrets, 'landlord-tls-web', name));
    await issue(second, 'own-api', `api.${name}.example`, `shop.${name}.example`);
    await issue(other, 'landlord-tls-web', `stolen.${name}.example`);

    const ip = async (namespace: string, serviceName: string) => ((await admin.get<KubeObject & { spec: { clusterIP: string } }>(resources.services, serviceName, namespace))?.spec.clusterIP ?? '');
    const expected = [`api.${name}.example / -> ${await ip(second, 'api')}:80`, `shop.${name}.example / -> ${await ip(second, 'api')}:80`, `web.${name}.example / -> ${await ip(name, 'web')}:80`];
    const routes = () => (ingress.source.lastBuild()?.configuration.table.routes ?? []).map((r) => `${r.host} ${r.path} -> ${r.backend.host}:${r.backend.port}`).sort();
    await eventually('the table', () => Promise.resolve(JSON.stringify(routes()) === JSON.stringify(expected) && ingress.source.lastBuild()?.configuration.certificates.certificates.length === 2 ? true : undefined));

    const port = ingress.addresses.ingress?.port ?? 0;
    for (const host of ['web', 'api', 'shop']) {
      const result = await handshake(port, `${host}.${name}.example`, rootCa);
      assert.ok(!(result instanceof Error), `${host}: ${describeOutcome(result)}`);
      assert.match(result.names, new RegExp(`DNS:${host}\\.${name}\\.example`));
    }
    const stolen = await handshake(port, `stolen.${name}.example`, rootCa);
    assert.ok(stolen instanceof Error && /unrecognized name/i.test(stolen.message), describeOutcome(stolen));
  });

  it('keeps a certificate whose renewal is invalid, and drops a deleted Route with its certificate', async () => {
    const port = ingress.addresses.ingress?.port ?? 0;
    // A tenant-owned Secret (spec.tls.secretName): the operator leaves it alone, so a bad renewal stays.
    const before = await handshake(port, `api.${name}.example`, rootCa);
    assert.ok(!(before instanceof Error));
    const web = await admin.get<KubeObject & { data: Record<string, string> }>(resources.secrets, 'landlord-tls-web', name);
    assert.ok(web);
    // The key of another certificate: the pair no longer matches.
    await admin.mergePatch(resources.secrets, 'own-api', second, { data: { 'tls.key': web.data['tls.key'] } });
    await eventually('the issue about the bad renewal', () => Promise.resolve(ingress.source.lastBuild()?.issues.some((i) => /own-api.*keeping its previous certificate/.test(`${i.source} ${i.message}`)) ? true : undefined));
    const kept = await handshake(port, `api.${name}.example`, rootCa);
    assert.ok(!(kept instanceof Error));
    assert.equal(kept.serial, before.serial);

    await admin.delete(routeType, 'web', name);
    await eventually('web gone from the table', () => Promise.resolve(ingress.source.lastBuild()?.configuration.table.routes.every((r) => !r.host.startsWith('web.')) ? true : undefined));
    const gone = await handshake(port, `web.${name}.example`, rootCa);
    assert.ok(gone instanceof Error && /unrecognized name/i.test(gone.message), describeOutcome(gone));
  });
});
