/**
 * ADR 0004's sidecar path on a real node: the webhook injects the TLS sidecar into a tenant's pod,
 * the EndpointSlice controller makes that pod (and only a pod with the sidecar) an endpoint of the
 * Route's sidecar Service, and the edge router reaches the app through it: client → router →
 * PROXY v2 + TLS → sidecar in the pod → plaintext HTTP on 127.0.0.1.
 *
 * The operator is not part of this test: the Route certificate Secret, the tenant trust bundle and
 * the sidecar Service are written here as ADR 0004 says the operator writes them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { kubeTenantFacts, type TenantFacts } from '../../src/admission/index.ts';
import { routeCertificateSecretName, routeSidecarServiceName, sidecarPortName } from '../../src/api/route.ts';
import { buildLandlordImage, buildTestAppImage, landlordImage, testAppImage } from '../../src/devcluster/index.ts';
import { buildRouter, createKubernetesProvider, type KubernetesProvider, type Router } from '../../src/router/index.ts';
import { closeServer, listen } from '../../src/router/testing/peers.ts';
import { testPlatform } from '../../src/sidecar/testing.ts';
import { startWebhook, tenantFixture, type RunningWebhook, type TenantFixture } from '../support/admission.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { KubeHttp } from '../support/kube-http.ts';
import { installCrds } from '../support/tenants.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const suffix = Date.now().toString(36);

const cluster = await testCluster({ node: true });

/** GET / over TLS through the router with SNI `servername`. */
function get(port: number, servername: string, ca: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, servername, ca, path: '/', headers: { host: servername }, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('an injected TLS sidecar on a real node', () => {
  const tenantName = `side${suffix}`;
  const host = `web.${tenantName}.test`;
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  let work: string;
  let acme: TenantFixture;
  let webhook: RunningWebhook;
  let facts: TenantFacts;
  let router: Router;
  let provider: KubernetesProvider;
  let routerPort: number;
  let trust: string[];

  const podSpec = (name: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } },
    spec: {
      securityContext: { runAsUser: 65532 },
      containers: [{ name: 'web', image: testAppImage, imagePullPolicy: 'Never', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } } }],
    },
  });
  const readyPod = (name: string) => eventually(`pod ${name} to be ready`, async () => {
    const pod = await core.readNamespacedPod({ namespace: acme.namespace, name });
    return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod : undefined;
  }, 120_000);

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'landlord-e2e-injection-'));
    await cluster.importImage(buildTestAppImage(path.join(work, 'test-app.tar')).file);
    await cluster.importImage(buildLandlordImage(path.join(work, 'landlord.tar'), projectRoot).file);
    const admin = cluster.kubeConfig();
    await installCrds(admin);
    acme = await tenantFixture(cluster, tenantName);
    const custom = admin.makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({ group: 'landlord.dev', version: 'v1alpha1', plural: 'tenants', body: { apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name: tenantName }, spec: { owners: { groups: [acme.group] }, domains: [`*.${tenantName}.test`] } } });

    // What the operator issues: the Route's certificate and the tenant's trust bundle.
    const platform = await testPlatform();
    const authority = await platform.tenant(tenantName);
    const files = platform.mountFiles(authority, await platform.issue(authority, { dns: [host] }));
    trust = [platform.root.certificate, authority.bundle.certificate];
    await core.createNamespacedSecret({ namespace: acme.namespace, body: { metadata: { name: routeCertificateSecretName('web') }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': files['tls.crt'] ?? '', 'tls.key': files['tls.key'] ?? '' } } });
    await core.createNamespacedConfigMap({ namespace: acme.namespace, body: { metadata: { name: 'landlord-tenant-ca' }, data: { 'ca.crt': files['ca.crt'] ?? '', 'root.crt': files['root.crt'] ?? '', 'ca.crl': files['ca.crl'] ?? '', 'root.crl': files['root.crl'] ?? '' } } });

    facts = kubeTenantFacts(admin);
    webhook = await startWebhook(cluster, {
      tenants: [tenantName], probeNamespace: acme.namespace,
      deps: { hostnameFacts: (namespace) => facts.hostnameFacts(namespace), mutationContext: (namespace, needs) => facts.mutationContext(namespace, needs), sidecar: { image: landlordImage, imagePullPolicy: 'IfNotPresent', routerSourceCidr: '10.244.0.1/32' } },
    });

    const tenant = new KubeHttp(acme.kubeconfig);
    const created = await tenant.call('create', `/api/v1/namespaces/${acme.namespace}/services`, '', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } });
    assert.equal(created.status, 201, created.message);
    // A pod from before the Route: it has no sidecar and must never become a router backend.
    assert.equal((await tenant.call('create', `/api/v1/namespaces/${acme.namespace}/pods`, '', podSpec('early'))).status, 201);
    await custom.createNamespacedCustomObject({ group: 'landlord.dev', version: 'v1alpha1', namespace: acme.namespace, plural: 'routes', body: { apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name: 'web' }, spec: { hostname: host, protocol: 'tls', backend: { service: 'web', port: 80 } } } });
    // The operator's headless sidecar Service: the backend's selector, port tls → the sidecar's port name.
    await core.createNamespacedService({ namespace: acme.namespace, body: { metadata: { name: routeSidecarServiceName('web') }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'tls', port: 443, targetPort: sidecarPortName('web') }] } } });
    const pod = await tenant.call('create', `/api/v1/namespaces/${acme.namespace}/pods`, '', podSpec('web-0'));
    assert.equal(pod.status, 201, pod.message);

    router = buildRouter();
    routerPort = await listen(router.tlsServer);
    provider = await createKubernetesProvider({ kubeConfig: admin, onSnapshot: (snapshot) => router.applySnapshot(snapshot).ok, debounceMs: 50 });
    await provider.ready;
  });
  after(async () => {
    provider?.close();
    if (router) await closeServer(router.tlsServer);
    await webhook?.remove();
    facts?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('starts the injected sidecar next to the app and makes the pod ready', async () => {
    const pod: V1Pod = await readyPod('web-0');
    assert.deepEqual(pod.status?.containerStatuses?.map((c) => `${c.name}:${String(c.ready)}`).sort(), ['landlord-sidecar-0:true', 'web:true']);
  });

  it('serves the app through router and sidecar with the tenant\u2019s certificate', async () => {
    const body = await eventually('HTTPS through the router and the sidecar', () => get(routerPort, host, trust).catch(() => undefined), 60_000);
    assert.equal(body.trim(), 'test-app web-0');
  });

  it('never makes the pod without a sidecar a backend of the Route', async () => {
    const early = await readyPod('early');
    const web = await readyPod('web-0');
    const route = router.table?.lookup('tls', host, []);
    assert.equal(route?.kind, 'route');
    const backends = route?.kind === 'route' ? route.route.backends.map((b) => `${b.host}:${b.port}`) : [];
    assert.deepEqual(backends, [`${web.status?.podIP ?? ''}:8443`]);
    assert.notEqual(early.status?.podIP, web.status?.podIP);
  });
});
