/**
 * The router's Kubernetes provider against a real kube-apiserver (1.20, so EndpointSlices are
 * discovery.k8s.io/v1beta1): Routes, Tenants, Namespaces, Services and EndpointSlices written by
 * the test become routes a real TLS client reaches by SNI, and statuses on the Routes. Most Routes
 * are `passthrough` (the test's echo server is the app); one case per TLS mode checks that sidecar
 * and ingress Routes reach only the Services ADR 0004 names, with PROXY v2.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { ApisApi, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Route } from '../../src/api/route.ts';
import { buildRouter, createKubernetesProvider, type KubernetesProvider, type Router, type RoutingSnapshot } from '../../src/router/index.ts';
import { createTestPki, type TestPki } from '../../src/router/testing/certs.ts';
import { closeServer, freePort, listen, startTlsEcho, type EchoBackend } from '../../src/router/testing/peers.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { installCrds } from '../support/tenants.ts';

const group = 'landlord.dev';
const version = 'v1alpha1';
const suffix = Date.now().toString(36);
const acme = `acme-${suffix}`;
const globex = `globex-${suffix}`;
const acmeZone = `${acme}.test`;
const globexZone = `${globex}.test`;
const dbHost = `db.${acmeZone}`;
const cliMain = path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

// At module level: testCluster registers the cluster's stop with `after`, which inside a `before`
// hook would stop the cluster as soon as that hook ends.
const cluster = await testCluster({ node: false });

/** Sends `payload` through the router with SNI `servername`; resolves with the echo, rejects when refused. */
async function exchange(port: number, servername: string, ca: Buffer, payload = 'ping'): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername, ca });
  try {
    await once(socket, 'secureConnect');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.end(payload);
    await once(socket, 'end');
    return text;
  } finally {
    socket.destroy();
  }
}

const refused = async (port: number, servername: string, ca: Buffer): Promise<true | undefined> =>
  exchange(port, servername, ca).then(
    () => undefined,
    () => true,
  );

describe('router Kubernetes provider', () => {
  let kubeConfig: KubeConfig;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let sliceVersion: string;
  let pki: TestPki;
  let echo: EchoBackend;
  /** Stands in for a sidecar or a tenant ingress: reads PROXY v2, then TLS. */
  let terminator: EchoBackend;
  let router: Router;
  let port: number;
  let provider: KubernetesProvider;

  const readRoute = async (namespace: string, name: string): Promise<Route> => (await custom.getNamespacedCustomObject({ group, version, namespace, plural: 'routes', name })) as Route;
  const condition = async (namespace: string, name: string, type: string): Promise<string | undefined> => {
    const found = (await readRoute(namespace, name)).status?.conditions?.find((c) => c.type === type);
    return found ? `${found.status} ${found.reason}` : undefined;
  };
  const conditionBecomes = (namespace: string, name: string, type: string, expected: string) =>
    eventually(`${type} of Route ${namespace}/${name} to be ${expected}`, async () => ((await condition(namespace, name, type)) === expected ? true : undefined));
  const createRoute = (namespace: string, name: string, hostname: string) =>
    custom.createNamespacedCustomObject({ group, version, namespace, plural: 'routes', body: { apiVersion: `${group}/${version}`, kind: 'Route', metadata: { name }, spec: { hostname, protocol: 'tls', backend: { service: 'db', port: 443 }, tls: { mode: 'passthrough' } } } });
  /** A selector-less Service with one port named `tls`, and its EndpointSlice pointing at the terminator. */
  const tlsServiceWithSlice = async (namespace: string, name: string, withSlice: boolean) => {
    if (!(await core.readNamespacedService({ namespace, name }).catch(() => undefined))) {
      await core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { ports: [{ name: 'tls', port: 443, targetPort: 8443 }] } } });
    }
    if (!withSlice) return;
    await custom.createNamespacedCustomObject({
      group: 'discovery.k8s.io', version: sliceVersion, namespace, plural: 'endpointslices',
      body: {
        apiVersion: `discovery.k8s.io/${sliceVersion}`, kind: 'EndpointSlice', metadata: { name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'tls', port: terminator.port, protocol: 'TCP' }],
      },
    });
  };
  const writeSlice = async (ready: boolean) => {
    const body = {
      apiVersion: `discovery.k8s.io/${sliceVersion}`,
      kind: 'EndpointSlice',
      metadata: { name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4',
      endpoints: ready ? [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] : [],
      ports: [{ name: 'https', port: echo.port, protocol: 'TCP' }],
    };
    const target = { group: 'discovery.k8s.io', version: sliceVersion, namespace: acme, plural: 'endpointslices' };
    const existing = (await custom.getNamespacedCustomObject({ ...target, name: 'db-1' }).catch(() => undefined)) as Route | undefined;
    if (existing) await custom.replaceNamespacedCustomObject({ ...target, name: 'db-1', body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion } } });
    else await custom.createNamespacedCustomObject({ ...target, body });
  };

  before(async () => {
    kubeConfig = cluster.kubeConfig();
    core = kubeConfig.makeApiClient(CoreV1Api);
    custom = kubeConfig.makeApiClient(CustomObjectsApi);
    await installCrds(kubeConfig);
    const discovery = (await kubeConfig.makeApiClient(ApisApi).getAPIVersions()).groups.find((g) => g.name === 'discovery.k8s.io');
    sliceVersion = discovery?.versions.some((v) => v.version === 'v1') ? 'v1' : 'v1beta1';

    pki = createTestPki();
    const leaf = pki.leaf('db', [dbHost, `db.${globexZone}`, `*.${acmeZone}`]);
    echo = await startTlsEcho('db', leaf);
    terminator = await startTlsEcho('terminator', leaf, { proxyProtocol: true });
    router = buildRouter();
    port = await listen(router.tlsServer);

    for (const [tenant, zone] of [[acme, `*.${acmeZone}`], [globex, globexZone]] as const) {
      await custom.createClusterCustomObject({ group, version, plural: 'tenants', body: { apiVersion: `${group}/${version}`, kind: 'Tenant', metadata: { name: tenant }, spec: { owners: {}, domains: [zone] } } });
      await core.createNamespace({ body: { metadata: { name: tenant, labels: { 'landlord.dev/tenant': tenant } } } });
    }
    // A selector-less Service: nobody but us writes its EndpointSlices.
    await core.createNamespacedService({ namespace: acme, body: { metadata: { name: 'db' }, spec: { ports: [{ name: 'https', port: 443, targetPort: 8443 }] } } });
    await writeSlice(true);
    await createRoute(acme, 'db', dbHost);

    provider = await createKubernetesProvider({ kubeConfig, onSnapshot: (snapshot) => router.applySnapshot(snapshot).ok, debounceMs: 50 });
    await provider.ready;
  });

  after(async () => {
    provider?.close();
    await closeServer(router.tlsServer);
    await echo?.close();
    await terminator?.close();
    pki?.cleanup();
    for (const name of [acme, globex]) {
      await core.deleteNamespace({ name }).catch(() => undefined);
      await custom.deleteClusterCustomObject({ group, version, plural: 'tenants', name }).catch(() => undefined);
    }
  });

  it('detects the EndpointSlice version the cluster serves', () => {
    assert.equal(sliceVersion, 'v1beta1', 'the local cluster is Kubernetes 1.20');
  });

  it('routes a real TLS client by SNI to the Route\u2019s ready endpoint', async () => {
    const answer = await eventually('the route to serve', () => exchange(port, dbHost, pki.ca, 'hello').catch(() => undefined));
    assert.equal(answer, 'db:hello');
  });

  it('marks the Route Accepted and Ready, with its address and observed generation', async () => {
    await conditionBecomes(acme, 'db', 'Ready', 'True Routed');
    const route = await readRoute(acme, 'db');
    assert.equal(await condition(acme, 'db', 'Accepted'), 'True Accepted');
    assert.equal(route.status?.address, `${dbHost}:443`);
    assert.equal(route.status?.observedGeneration, route.metadata.generation);
  });

  it('writes no status in a steady state', async () => {
    await conditionBecomes(acme, 'db', 'Ready', 'True Routed');
    const writes = provider.stats().statusWrites;
    const before = (await readRoute(acme, 'db')).metadata.resourceVersion;
    // Unrelated churn makes the provider rebuild, but nothing about the Route changes.
    await core.createNamespacedConfigMap({ namespace: acme, body: { metadata: { name: 'churn' } } });
    await core.patchNamespace({ name: acme, body: { metadata: { annotations: { churn: '1' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await sleep(1_000);
    assert.equal(provider.stats().statusWrites, writes);
    assert.equal((await readRoute(acme, 'db')).metadata.resourceVersion, before);
  });

  it('reports NoReadyEndpoints and refuses clients when the endpoints scale to zero', async () => {
    await writeSlice(false);
    await conditionBecomes(acme, 'db', 'Ready', 'False NoReadyEndpoints');
    await eventually('the router to refuse the hostname', () => refused(port, dbHost, pki.ca));
    await writeSlice(true);
    await conditionBecomes(acme, 'db', 'Ready', 'True Routed');
    assert.equal(await eventually('the route to serve again', () => exchange(port, dbHost, pki.ca).catch(() => undefined)), 'db:ping');
  });

  it('refuses a Route for another tenant\u2019s hostname and does not route it', async () => {
    const foreign = `db.${globexZone}`;
    await createRoute(acme, 'steal', foreign);
    await conditionBecomes(acme, 'steal', 'Accepted', 'False HostnameNotInTenantDomains');
    assert.equal(await condition(acme, 'steal', 'Ready'), 'False NotAccepted');
    assert.equal((await readRoute(acme, 'steal')).status?.address, undefined);
    assert.equal(await refused(port, foreign, pki.ca), true);
    // The acme route kept serving throughout.
    assert.equal(await exchange(port, dbHost, pki.ca), 'db:ping');
  });

  it('reports a Route whose Service does not exist', async () => {
    await custom.createNamespacedCustomObject({ group, version, namespace: acme, plural: 'routes', body: { apiVersion: `${group}/${version}`, kind: 'Route', metadata: { name: 'nosvc' }, spec: { hostname: `nosvc.${acmeZone}`, protocol: 'tls', backend: { service: 'missing', port: 443 }, tls: { mode: 'passthrough' } } } });
    await conditionBecomes(acme, 'nosvc', 'Ready', 'False ServiceNotFound');
  });

  it('routes a sidecar Route only to its sidecar Service, with PROXY v2, saying what is missing until then', async () => {
    const host = `side.${acmeZone}`;
    await custom.createNamespacedCustomObject({ group, version, namespace: acme, plural: 'routes', body: { apiVersion: `${group}/${version}`, kind: 'Route', metadata: { name: 'side' }, spec: { hostname: host, protocol: 'tls', backend: { service: 'db', port: 443 } } } });
    await conditionBecomes(acme, 'side', 'Ready', 'False SidecarServiceNotFound');
    assert.equal(await refused(port, host, pki.ca), true, 'the backend Service db has ready endpoints, but a sidecar Route never uses them');
    await tlsServiceWithSlice(acme, 'landlord-route-side', false);
    await conditionBecomes(acme, 'side', 'Ready', 'False NoSidecarEndpoints');
    await tlsServiceWithSlice(acme, 'landlord-route-side', true);
    await conditionBecomes(acme, 'side', 'Ready', 'True Routed');
    const headers = terminator.proxyHeaders.length;
    assert.equal(await eventually('the sidecar route to serve', () => exchange(port, host, pki.ca, 'side').catch(() => undefined)), 'terminator:side');
    assert.ok(terminator.proxyHeaders.length > headers, 'the router sent a PROXY v2 header');
  });

  it('routes an http Route to the tenant ingress in the tenant\u2019s first namespace, with PROXY v2', async () => {
    const host = `web.${acmeZone}`;
    await custom.createNamespacedCustomObject({ group, version, namespace: acme, plural: 'routes', body: { apiVersion: `${group}/${version}`, kind: 'Route', metadata: { name: 'web' }, spec: { hostname: host, protocol: 'http', backend: { service: 'db', port: 443 } } } });
    await conditionBecomes(acme, 'web', 'Ready', 'False TenantIngressNotReady');
    await tlsServiceWithSlice(acme, 'landlord-ingress', true);
    await conditionBecomes(acme, 'web', 'Ready', 'True Routed');
    const headers = terminator.proxyHeaders.length;
    assert.equal(await eventually('the ingress route to serve', () => exchange(port, host, pki.ca, 'web').catch(() => undefined)), 'terminator:web');
    assert.ok(terminator.proxyHeaders.length > headers, 'the router sent a PROXY v2 header');
  });

  it('serves the cluster’s Routes from `landlord router --kubeconfig`', async () => {
    const [tlsPort, metricsPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [cliMain, 'router', '--kubeconfig', cluster.kubeconfigPath, '--listen-tls', `127.0.0.1:${tlsPort}`, '--metrics', `127.0.0.1:${metricsPort}`, '--no-access-log'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    try {
      await eventually('the CLI router to be healthy', async () => ((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status === 200 ? true : undefined));
      assert.equal(await exchange(tlsPort, dbHost, pki.ca, 'cli'), 'db:cli');
    } finally {
      child.kill('SIGTERM');
      assert.deepEqual(await exited, [0, null]);
    }
  });

  it('turns a burst of 100 new Routes into a few snapshots and one status write each', async () => {
    const before = provider.stats();
    const names = Array.from({ length: 100 }, (_, i) => `burst-${i}`);
    await Promise.all(names.map((name) => createRoute(acme, name, `${name}.${acmeZone}`)));
    await eventually('every burst Route to be Ready', async () => {
      const list = (await custom.listNamespacedCustomObject({ group, version, namespace: acme, plural: 'routes' })) as { items: Route[] };
      const ready = list.items.filter((r) => r.metadata.name.startsWith('burst-') && r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === names.length ? true : undefined;
    });
    await sleep(500);
    const after = provider.stats();
    assert.ok(after.snapshots - before.snapshots <= 10, `${after.snapshots - before.snapshots} snapshots for one burst`);
    assert.equal(after.statusWrites - before.statusWrites, names.length);
    assert.equal(await exchange(port, `burst-42.${acmeZone}`, pki.ca, 'x').catch((e: Error) => e.message), 'db:x');
  });

  it('starts a second router from a full cluster with one snapshot and no status writes', async () => {
    let applied = 0;
    const second = buildRouter();
    const onSnapshot = (snapshot: RoutingSnapshot): boolean => {
      applied += 1;
      return second.applySnapshot(snapshot).ok;
    };
    const restarted = await createKubernetesProvider({ kubeConfig, onSnapshot, debounceMs: 50 });
    try {
      await restarted.ready;
      await sleep(1_000);
      assert.equal(applied, 1);
      assert.deepEqual({ snapshots: restarted.stats().snapshots, statusWrites: restarted.stats().statusWrites }, { snapshots: 1, statusWrites: 0 });
      assert.equal(second.table?.lookup('tls', `burst-99.${acmeZone}`, []).kind, 'route');
    } finally {
      restarted.close();
    }
  });

  it('stops routing a hostname when its Route is deleted', async () => {
    await custom.deleteNamespacedCustomObject({ group, version, namespace: acme, plural: 'routes', name: 'db' });
    await eventually('the route to be removed', () => refused(port, dbHost, pki.ca));
    assert.equal(router.table?.lookup('tls', dbHost, []).kind, 'reject');
  });
});
