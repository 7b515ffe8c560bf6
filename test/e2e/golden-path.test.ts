/**
 * The golden path of the design (steps 1–6) on the local node: landlord installed as `landlord up`
 * installs it, two tenants created by the platform admin, an acme developer publishing a
 * PostgreSQL database and an HTTP app behind Routes, real clients (psql, curl, openssl) reaching
 * them through the edge router on 127.0.0.1, and a globex developer's attacks on acme, each denied
 * with its reason.
 *
 * The local cluster's network plugin does not enforce NetworkPolicy: nothing here claims that
 * globex's pods cannot open connections to acme's pods. What is asserted is what holds: acme's
 * namespace carries the default-deny policy, and acme's sidecar refuses a globex identity.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildLandlordImage, buildPostgresImage, buildTestAppImage, landlordImage, nodeNetwork, postgresImage, testAppImage } from '../../src/devcluster/index.ts';
import { installPlatform, platformManifests, readRootCertificate, removePlatform, type PlatformManifests, type RouterHostPorts } from '../../src/install/index.ts';
import { issueLeafCertificate, loadAuthority, tenantNamePolicy, tenantPolicyOf, workloadIdentity, type PemBundle } from '../../src/pki/index.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { KubeHttp, type Outcome } from '../support/kube-http.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const cluster = await testCluster({ node: true });

const tenants = {
  acme: { domain: 'acme.example', group: 'acme-devs' },
  globex: { domain: 'globex.example', group: 'globex-devs' },
} as const;
const hosts = { db: 'db.acme.example', app: 'app.acme.example', api: 'api.acme.example' } as const;
const databaseUser = 'acme';

/** Loopback ports free right now (the router binds them moments later). */
async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

const api = (group: string) => (group === '' ? '/api/v1' : `/apis/${group}`);
const collection = (group: string, plural: string, namespace?: string) => `${api(group)}${namespace ? `/namespaces/${namespace}` : ''}/${plural}`;
const routes = (namespace: string) => collection('landlord.dev/v1alpha1', 'routes', namespace);

interface Condition { type: string; status: string; reason?: string; message?: string }
interface Obj { metadata: { name: string; labels?: Record<string, string> }; spec?: Record<string, unknown>; status?: { phase?: string; namespaces?: string[]; conditions?: Condition[]; podIP?: string }; data?: Record<string, string> }

async function read(client: KubeHttp, path: string): Promise<Obj | undefined> {
  const outcome = await client.request('GET', path);
  return outcome.status === 200 ? outcome.body as Obj : undefined;
}

async function create(client: KubeHttp, path: string, body: object): Promise<void> {
  const outcome = await client.request('POST', path, body);
  assert.equal(outcome.status, 201, `create ${path}: ${outcome.message}`);
}

/** Each pod's phase and container states, for failure messages. */
async function podsOf(client: KubeHttp, namespace: string, selector: string): Promise<string> {
  const pods = ((await client.request('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`)).body as { items?: Array<Obj & { status?: { containerStatuses?: Array<{ name: string; ready: boolean; state?: object }> } }> }).items ?? [];
  return JSON.stringify(pods.map((p) => ({ name: p.metadata.name, phase: p.status?.phase, containers: p.status?.containerStatuses?.map((c) => ({ name: c.name, ready: c.ready, state: c.state })) })));
}

/** The namespace's latest events and the EndpointSlices of `service`, for failure messages. */
async function diagnostics(client: KubeHttp, namespace: string, service?: string): Promise<string> {
  const events = ((await client.request('GET', `/api/v1/namespaces/${namespace}/events`)).body as { items?: Array<{ involvedObject: { kind: string; name: string }; reason: string; message: string }> }).items ?? [];
  const lines = events.slice(-15).map((e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message}`);
  if (service) {
    const slices = (await client.request('GET', `/apis/discovery.k8s.io/v1beta1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`)).body;
    lines.push(`EndpointSlices of ${service}: ${JSON.stringify((slices as { items?: Array<{ endpoints?: unknown; ports?: unknown }> }).items?.map((slice) => ({ endpoints: slice.endpoints, ports: slice.ports })))}`);
  }
  return lines.join(' | ');
}

function assertDenied(outcome: Outcome, status: number, message: RegExp, what: string): void {
  assert.equal(outcome.status, status, `${what}: expected HTTP ${status}, got ${outcome.status}: ${outcome.message}`);
  assert.match(outcome.message, message, what);
}

const restrictedPod = (container: Record<string, unknown>) => ({
  securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{
    // Imported into the node, never pulled: the webhook turns IfNotPresent into Always in tenant namespaces.
    imagePullPolicy: 'Never',
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '300m', memory: '256Mi' } },
    ...container,
  }],
});

function deployment(name: string, container: Record<string, unknown>, volumes: object[] = []): object {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { app: name } },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { ...restrictedPod({ name, ...container }), volumes } } },
  };
}

const service = (name: string, port: number, targetPort: number) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'main', port, targetPort }] },
});

const route = (name: string, spec: object) => ({ apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name }, spec });

/** GET / over TLS through the router's TLS port with SNI `servername`, presenting `client` if given. */
function httpsGet(port: number, servername: string, ca: string, client?: PemBundle): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = https.get({
      host: '127.0.0.1', port, servername, ca, path: '/', headers: { host: servername }, agent: false,
      ...(client ? { cert: client.certificate, key: client.privateKey } : {}),
    }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
      response.on('error', reject);
    });
    request.setTimeout(10_000, () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', reject);
  });
}

/** Runs a client tool to completion (bounded), never throwing on a failed exit. */
function tool(command: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { encoding: 'utf8', timeout: 15_000 }, (error, stdout, stderr) => resolve({ ok: error === null, stdout, stderr }));
    child.stdin?.end();
  });
}

/** The sidecar's counter of denied handshakes for `reason`, read from its status port on the pod IP. */
async function deniedHandshakes(podIp: string, statusPort: number, reason: string): Promise<number> {
  const response = await fetch(`http://${podIp}:${statusPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  const line = text.split('\n').find((l) => l.startsWith('landlord_sidecar_handshakes_total{') && l.includes('result="denied"') && l.includes(`reason="${reason}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the golden path: two tenants, a database and an app behind the edge, and attacks between them', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'landlord-e2e-golden-'));
  const rootCaFile = path.join(work, 'root-ca.crt');
  const admin = new KubeHttp(cluster.kubeconfigPath);
  let alice: KubeHttp;
  let mallory: KubeHttp;
  let manifests: PlatformManifests | undefined;
  let ports: RouterHostPorts;
  let rootCa: string;
  const namespaceOf: Record<string, string> = {};

  before(async () => {
    // Step 1: install as `landlord up` does, from the image built from this checkout.
    const image = buildLandlordImage(path.join(work, 'landlord.tar'), projectRoot);
    await cluster.importImage(image.file);
    await cluster.importImage(buildTestAppImage(path.join(work, 'test-app.tar')).file);
    await cluster.importImage(buildPostgresImage(path.join(work, 'postgres.tar')).file);
    const [tls, http, postgres, metrics] = await freeLoopbackPorts(4);
    ports = { tls: tls!, http: http!, postgres: postgres!, metrics: metrics! };
    manifests = platformManifests({ image: landlordImage, imagePullPolicy: 'Never', router: { kind: 'host-loopback', ports }, replicas: 1, imageId: image.id, routerSourceCidr: `${nodeNetwork.nodeIP}/32` });
    await installPlatform({
      kubeConfig: cluster.kubeConfig(), manifests, onProgress: () => {}, timeoutMs: 240_000,
      routerAddresses: [ports.tls, ports.http, ports.postgres].map((port) => ({ host: '127.0.0.1', port })),
    });
    rootCa = await readRootCertificate(cluster.kubeConfig());
    writeFileSync(rootCaFile, rootCa);
    alice = new KubeHttp(await cluster.kubeconfigFor({ user: 'alice', groups: [tenants.acme.group] }));
    mallory = new KubeHttp(await cluster.kubeconfigFor({ user: 'mallory', groups: [tenants.globex.group] }));
  });

  after(async () => {
    // Step 7: tenants deleted take their namespaces; then the platform goes (its webhooks fail closed on tenant namespaces).
    for (const name of Object.keys(tenants)) await admin.request('DELETE', `${collection('landlord.dev/v1alpha1', 'tenants')}/${name}`);
    try {
      for (const namespace of Object.values(namespaceOf)) {
        await eventually(`namespace ${namespace} to be gone after its tenant was deleted`, async () => ((await read(admin, `/api/v1/namespaces/${namespace}`)) ? undefined : true), 180_000);
      }
    } finally {
      if (manifests) await removePlatform(cluster.kubeConfig(), manifests, { keepCustomResourceDefinitions: true });
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('step 2: the platform admin creates tenants acme and globex, and both become Ready', async () => {
    for (const [name, { domain, group }] of Object.entries(tenants)) {
      await create(admin, collection('landlord.dev/v1alpha1', 'tenants'), { apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { owners: { groups: [group] }, domains: [`*.${domain}`] } });
    }
    for (const name of Object.keys(tenants)) {
      const ready = await eventually(`tenant ${name} to be Ready`, async () => {
        const tenant = await read(admin, `${collection('landlord.dev/v1alpha1', 'tenants')}/${name}`);
        return tenant?.status?.phase === 'Ready' ? tenant : undefined;
      }, 120_000);
      assert.ok(ready.status?.namespaces?.length, `tenant ${name} reports its namespaces`);
      namespaceOf[name] = ready.status.namespaces[0]!;
    }
  });

  it('step 3: acme has its namespace, owner binding, quota, limits, default-deny policy, name-constrained CA and a Ready ingress', async () => {
    const namespace = namespaceOf.acme!;
    const ns = await read(admin, `/api/v1/namespaces/${namespace}`);
    assert.equal(ns?.metadata.labels?.['landlord.dev/tenant'], 'acme');
    const list = async (group: string, plural: string) => ((await admin.request('GET', `${collection(group, plural, namespace)}?labelSelector=${encodeURIComponent('landlord.dev/tenant=acme')}`)).body as { items: Obj[] }).items;

    const bindings = await list('rbac.authorization.k8s.io/v1', 'rolebindings');
    const owner = bindings.find((b) => ((b as unknown as { subjects?: Array<{ kind: string; name: string }> }).subjects ?? []).some((s) => s.kind === 'Group' && s.name === tenants.acme.group));
    assert.ok(owner, `a RoleBinding binds group ${tenants.acme.group} in ${namespace}: ${bindings.map((b) => b.metadata.name).join(', ')}`);
    assert.ok((await list('', 'resourcequotas')).length > 0, 'a ResourceQuota');
    assert.ok((await list('', 'limitranges')).length > 0, 'a LimitRange');
    const denyAll = (await list('networking.k8s.io/v1', 'networkpolicies')).find((p) => p.metadata.name === 'landlord-default-deny');
    assert.ok(denyAll, 'the default-deny NetworkPolicy');
    assert.deepEqual((denyAll.spec as { podSelector: object; policyTypes: string[] }).podSelector, {}, 'default-deny selects every pod');
    assert.deepEqual([...(denyAll.spec as { policyTypes: string[] }).policyTypes].sort(), ['Egress', 'Ingress']);

    const ca = await read(admin, `/api/v1/namespaces/landlord-system/secrets/tenant-acme-ca`);
    assert.ok(ca?.data?.['tls.crt'], 'acme\u2019s CA Secret');
    const caFile = path.join(work, 'acme-ca.crt');
    writeFileSync(caFile, Buffer.from(ca.data['tls.crt'], 'base64'));
    const constraints = execFileSync('openssl', ['x509', '-in', caFile, '-noout', '-ext', 'nameConstraints,basicConstraints'], { encoding: 'utf8' });
    assert.match(constraints, /Name Constraints: critical/, constraints);
    assert.match(constraints, /Permitted:[\s\S]*DNS:acme\.example/, constraints);
    assert.doesNotMatch(constraints, /DNS:globex\.example/, constraints);
    assert.match(constraints, /CA:TRUE/, constraints);

    await eventually('acme\u2019s landlord-ingress pod to be Ready', async () => {
      const pods = ((await admin.request('GET', `${collection('', 'pods', namespace)}?labelSelector=${encodeURIComponent('app.kubernetes.io/name=landlord-ingress')}`)).body as { items: Obj[] }).items;
      return pods.some((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? true : undefined;
    }, 180_000).catch(async (error: Error) => assert.fail(`${error.message}; pods ${await podsOf(admin, namespace, 'app.kubernetes.io/name=landlord-ingress')}; ${await diagnostics(admin, namespace)}`));
  });

  it('step 4: an acme developer publishes PostgreSQL and the app behind Routes that become Ready with issued certificates', async () => {
    const namespace = namespaceOf.acme!;
    // Routes first: the webhook injects a Route's sidecar when a pod is created (ADR 0004).
    await create(alice, routes(namespace), route('db', { hostname: hosts.db, protocol: 'postgres', backend: { service: 'db', port: 5432 } }));
    await create(alice, routes(namespace), route('app', { hostname: hosts.app, protocol: 'http', backend: { service: 'app', port: 80 } }));
    // Only acme's `default` service account may call the api Route; step 6 tries another identity of acme's.
    const caller = workloadIdentity(tenantNamePolicy('acme', [tenants.acme.domain]), namespace, 'default');
    await create(alice, routes(namespace), route('api', { hostname: hosts.api, protocol: 'tls', tls: { mode: 'sidecar', clientAuthentication: 'required', allowedClients: [caller] }, backend: { service: 'app', port: 80 } }));
    await create(alice, collection('', 'services', namespace), service('db', 5432, 5432));
    await create(alice, collection('', 'services', namespace), service('app', 80, 8080));
    // The webhook injects from its watch caches of Routes and Services: a pod created the moment
    // after them can miss them. Once the operator has written each sidecar Service, they are known.
    for (const name of ['db', 'api']) {
      await eventually(`the operator to create Route ${name}'s sidecar Service`, async () => {
        const conditions = (await read(alice, `${routes(namespace)}/${name}`))?.status?.conditions ?? [];
        return conditions.some((c) => c.type === 'SidecarServiceCreated' && c.status === 'True') ? true : undefined;
      }, 60_000);
    }
    await create(alice, collection('apps/v1', 'deployments', namespace), deployment('db', {
      image: postgresImage,
      env: [{ name: 'POSTGRES_USER', value: databaseUser }],
      ports: [{ name: 'postgres', containerPort: 5432 }],
      readinessProbe: { exec: { command: ['pg_isready', '--host', '127.0.0.1', '--port', '5432', '--timeout', '1'] }, periodSeconds: 2 },
      volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql' }],
    }, [{ name: 'data', emptyDir: {} }]));
    await create(alice, collection('apps/v1', 'deployments', namespace), deployment('app', {
      image: testAppImage,
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 2 },
    }));

    for (const name of ['db', 'app']) {
      await eventually(`Deployment ${namespace}/${name} to be available`, async () => {
        const live = await read(alice, `${collection('apps/v1', 'deployments', namespace)}/${name}`);
        return (live?.status as { availableReplicas?: number } | undefined)?.availableReplicas === 1 ? true : undefined;
      }, 180_000).catch(async (error: Error) => assert.fail(`${error.message}; pods ${await podsOf(admin, namespace, `app=${name}`)}`));
      const containers = await podsOf(admin, namespace, `app=${name}`);
      assert.match(containers, /landlord-sidecar-0/, `the ${name} pod carries its Route's sidecar: ${containers}`);
    }
    for (const name of ['db', 'app', 'api']) {
      let conditions: Condition[] = [];
      await eventually(`Route ${name} to be Ready and CertificateIssued (last: ${JSON.stringify(conditions)})`, async () => {
        conditions = (await read(alice, `${routes(namespace)}/${name}`))?.status?.conditions ?? [];
        const holds = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
        return holds('Ready') && holds('CertificateIssued') ? true : undefined;
      }, 120_000).catch(async (error: Error) => assert.fail(`${error.message}; conditions ${JSON.stringify(conditions)}; ${await diagnostics(admin, namespace, `landlord-route-${name}`)}`));
    }
  });

  it('step 5: psql and curl reach the database and the app through the edge, with certificates from acme\u2019s CA', async () => {
    const query = await eventually('psql through the router\u2019s PostgreSQL port', async () => {
      const run = await tool('psql', [`host=${hosts.db} hostaddr=127.0.0.1 port=${ports.postgres} sslmode=verify-full sslrootcert=${rootCaFile} sslsni=1 user=${databaseUser} dbname=postgres connect_timeout=5`, '-tAc', 'select 40 + 2']);
      if (!run.ok) throw new Error(run.stderr.trim());
      return run.stdout.trim();
    }, 60_000);
    assert.equal(query, '42');

    const body = await eventually('curl through router \u2192 acme\u2019s ingress \u2192 app', async () => {
      const run = await tool('curl', ['-sS', '--max-time', '10', '--cacert', rootCaFile, '--connect-to', `${hosts.app}:443:127.0.0.1:${ports.tls}`, `https://${hosts.app}/`]);
      if (!run.ok) throw new Error(run.stderr.trim());
      return run.stdout.startsWith('test-app ') ? run.stdout.trim() : undefined;
    }, 60_000);
    assert.match(body, /^test-app app-[a-z0-9]+-[a-z0-9]+$/);

    for (const [host, port, extra] of [[hosts.app, ports.tls, []], [hosts.db, ports.postgres, ['-starttls', 'postgres']]] as const) {
      // landlord leaves have empty subjects: -verify_hostname checks the host against the SANs.
      const run = await tool('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', host, '-verify_hostname', host, '-showcerts', '-CAfile', rootCaFile, '-verify_return_error', ...extra]);
      assert.match(run.stdout, /Verify return code: 0 \(ok\)/, `${host}: ${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /i:.*acme/, `${host}: the leaf was issued by acme\u2019s CA: ${run.stdout}`);
    }
  });

  it('step 6: globex\u2019s developer cannot read acme\u2019s pods, secrets or routes', async () => {
    const namespace = namespaceOf.acme!;
    for (const [group, plural] of [['', 'pods'], ['', 'secrets'], ['landlord.dev/v1alpha1', 'routes']] as const) {
      assertDenied(await mallory.call('list', collection(group, plural, namespace), ''), 403, new RegExp(`User "mallory" cannot list resource "${plural}"`), `list ${plural} in ${namespace}`);
    }
    assertDenied(await mallory.call('get', collection('', 'secrets', namespace), 'landlord-tls-db'), 403, /cannot get resource "secrets"/, 'get acme\u2019s certificate Secret');
    assertDenied(await mallory.call('get', routes(namespace), 'db'), 403, /cannot get resource "routes"/, 'get acme\u2019s Route');
  });

  it('step 6: globex\u2019s developer cannot claim acme\u2019s hostnames, relabel a namespace to acme, or escalate to cluster-admin', async () => {
    const namespace = namespaceOf.globex!;
    assertDenied(await mallory.call('create', routes(namespace), '', route('steal', { hostname: 'steal.acme.example', protocol: 'http', backend: { service: 'web', port: 80 } })),
      403, /hostnames\/tenantDomains: spec\.hostname steal\.acme\.example must be inside the tenant's domains \(globex\.example\)/, 'a Route claiming steal.acme.example');
    assertDenied(await mallory.request('PATCH', `/api/v1/namespaces/${namespace}`, { metadata: { labels: { 'landlord.dev/tenant': 'acme' } } }, 'application/merge-patch+json'),
      403, /cannot patch resource "namespaces"|tenant\/platformLabels/, 'relabelling globex\u2019s namespace to acme');
    assertDenied(await mallory.call('create', collection('rbac.authorization.k8s.io/v1', 'rolebindings', namespace), '', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'grab' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'mallory' }],
    }), 403, /is attempting to grant RBAC permissions not currently held/, 'a RoleBinding to cluster-admin');
  });

  it('step 6: globex\u2019s developer cannot run privileged, host-network or hostPath pods, nor open a NodePort', async () => {
    const namespace = namespaceOf.globex!;
    const pod = (name: string, spec: Record<string, unknown>, container: Record<string, unknown> = {}) => {
      const base = restrictedPod({ name: 'c', image: testAppImage, ...container });
      return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { ...base, ...spec } };
    };
    const attacks: Array<[string, object, RegExp]> = [
      ['a privileged pod', pod('priv', {}, { securityContext: { privileged: true, allowPrivilegeEscalation: true, capabilities: { drop: ['ALL'] } } }), /baseline\/privileged/],
      ['a hostNetwork pod', pod('hostnet', { hostNetwork: true }), /baseline\/hostNamespaces/],
      ['a hostPath pod', pod('hostpath', { volumes: [{ name: 'root', hostPath: { path: '/' } }] }, { volumeMounts: [{ name: 'root', mountPath: '/host' }] }), /baseline\/hostPathVolumes/],
    ];
    for (const [what, body, rule] of attacks) {
      assertDenied(await mallory.call('create', collection('', 'pods', namespace), '', body), 403, rule, what);
    }
    assertDenied(await mallory.call('create', collection('', 'services', namespace), '', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'open' }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] } }),
      403, /tenant\/serviceExposure: spec\.type must be ClusterIP, not NodePort/, 'a NodePort Service');
  });

  it('step 6: acme\u2019s sidecar refuses globex\u2019s client certificates and acme\u2019s identities the Route does not allow, and admits the one it does', async () => {
    const caOf = async (tenant: string) => {
      const secret = await read(admin, `/api/v1/namespaces/landlord-system/secrets/tenant-${tenant}-ca`);
      const data = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
      return loadAuthority({ certificate: data['tls.crt'] ?? '', privateKey: data['tls.key'] ?? '', ca: data['ca.crt'] ?? '' });
    };
    const clientOf = async (tenant: string, serviceAccount = 'default') => {
      const authority = await caOf(tenant);
      return issueLeafCertificate(authority, { dns: [], uri: [workloadIdentity(tenantPolicyOf(authority), namespaceOf[tenant]!, serviceAccount)] });
    };

    const pods = ((await admin.request('GET', `${collection('', 'pods', namespaceOf.acme)}?labelSelector=app%3Dapp`)).body as { items: Array<Obj & { spec: { containers: Array<{ name: string; ports?: Array<{ name?: string; containerPort: number }> }> } }> }).items;
    assert.equal(pods.length, 1, 'one app pod');
    const appPod = pods[0]!;
    const statusPort = appPod.spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name?.startsWith('ll-status-'))?.containerPort;
    const podIp = appPod.status?.podIP;
    assert.ok(statusPort !== undefined && podIp, 'the app pod carries the api Route\u2019s sidecar with a status port');

    const attacks: Array<[string, PemBundle, string]> = [
      ['a globex client certificate', await clientOf('globex'), 'untrusted_tenant'],
      ['an acme client certificate for a service account the Route does not allow', await clientOf('acme', 'intruder'), 'identity_not_allowed'],
    ];
    for (const [what, client, reason] of attacks) {
      const deniedBefore = await deniedHandshakes(podIp, statusPort, reason);
      const refused = await httpsGet(ports.tls, hosts.api, rootCa, client).then((body) => `answered: ${body}`, (error: Error) => error.message);
      assert.doesNotMatch(refused, /^answered/, `${what} gets no answer from acme\u2019s api Route`);
      const counted: number = await eventually(`the sidecar to count the ${reason} denial`, async () => {
        const now = await deniedHandshakes(podIp, statusPort, reason);
        return now > deniedBefore ? now : undefined;
      }, 15_000).catch(async (error: Error): Promise<never> => {
        const metrics: string = await (await fetch(`http://${podIp}:${statusPort}/metrics`)).text();
        return assert.fail(`${what}: ${error.message}; the client saw: ${refused}; ${metrics.split('\n').filter((l) => l.startsWith('landlord_sidecar_handshakes')).join(' | ')}`);
      });
      assert.equal(counted, deniedBefore + 1, what);
    }

    const body = await httpsGet(ports.tls, hosts.api, rootCa, await clientOf('acme'));
    assert.equal(body.trim(), `test-app ${appPod.metadata.name}`, 'acme\u2019s allowed identity reaches the app through the sidecar');
  });
});
