/**
 * TLS sidecar injection through a real kube-apiserver (ADR 0004): a tenant creates a pod whose
 * labels a Route's backend Service selects, and the stored pod carries one sidecar per Route,
 * in Route-name order, with the contract's arguments, ports and certificate volume.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { kubeTenantFacts, type TenantFacts } from '../../src/admission/index.ts';
import { sidecarPortName } from '../../src/api/route.ts';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { startWebhook, tenantFixture, type RunningWebhook, type TenantFixture } from '../support/admission.ts';
import { testCluster } from '../support/cluster.ts';
import { KubeHttp } from '../support/kube-http.ts';
import { installCrds } from '../support/tenants.ts';

const suffix = Date.now().toString(36);
const routerSource = '10.96.7.0/24';
const ledgerClient = 'spiffe://inject.landlord.local/ns/payments/sa/ledger';

// Started at the top level so that the cluster's `after` (stop) belongs to the file, not a hook.
const cluster: DevCluster = await testCluster({ node: false });

describe('TLS sidecar injection called by the API server', () => {
  const tenantName = `inject${suffix}`;
  let acme: TenantFixture;
  let webhook: RunningWebhook;
  let facts: TenantFacts;
  let tenant: KubeHttp;
  let core: CoreV1Api;

  const route = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name }, spec: { hostname: `${name}.${tenantName}.example`, ...spec } });
  const service = (name: string, app: string, ports: Array<{ name: string; port: number; targetPort: number | string }>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app }, ports } });
  const pod = (name: string, app: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app } },
    spec: { containers: [{ name: 'app', image: 'registry.example/db:1', ports: [{ name: 'mysql', containerPort: 3306 }, { containerPort: 5432 }] }] },
  });
  const pods = (): string => `/api/v1/namespaces/${acme.namespace}/pods`;
  const stored = (name: string): Promise<V1Pod> => core.readNamespacedPod({ namespace: acme.namespace, name });
  const sidecars = (p: V1Pod) => (p.spec?.containers ?? []).filter((c) => c.name.startsWith('landlord-sidecar-'));

  before(async () => {
    const admin = cluster.kubeConfig();
    await installCrds(admin);
    acme = await tenantFixture(cluster, tenantName);
    core = admin.makeApiClient(CoreV1Api);
    const custom = admin.makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({ group: 'landlord.dev', version: 'v1alpha1', plural: 'tenants', body: { apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name: tenantName }, spec: { owners: { groups: [acme.group] }, domains: [`*.${tenantName}.example`] } } });
    facts = kubeTenantFacts(admin);
    webhook = await startWebhook(cluster, {
      tenants: [tenantName], probeNamespace: acme.namespace,
      deps: {
        hostnameFacts: (namespace) => facts.hostnameFacts(namespace),
        mutationContext: (namespace, needs) => facts.mutationContext(namespace, needs),
        sidecar: { image: 'landlord.dev/landlord:dev', imagePullPolicy: 'IfNotPresent', routerSourceCidr: routerSource },
      },
    });
    tenant = new KubeHttp(acme.kubeconfig);
    const services = `/api/v1/namespaces/${acme.namespace}/services`;
    for (const body of [
      service('db', 'db', [{ name: 'mysql', port: 3306, targetPort: 'mysql' }, { name: 'pg', port: 5432, targetPort: 5432 }]),
      service('vault', 'vault', [{ name: 'https', port: 443, targetPort: 8200 }]),
      service('ledger', 'ledger', [{ name: 'https', port: 443, targetPort: 8443 }]),
    ]) {
      const created = await tenant.call('create', services, '', body);
      assert.equal(created.status, 201, created.message);
    }
    // The built-in admin role the tenant fixture binds does not know Routes: the platform creates them here.
    const routes = new KubeHttp(cluster.kubeconfigPath);
    const collection = `/apis/landlord.dev/v1alpha1/namespaces/${acme.namespace}/routes`;
    const ledger = route('ledger', { protocol: 'tls', backend: { service: 'ledger', port: 443 }, tls: { clientAuthentication: 'required', allowedClients: [ledgerClient, 'batch.ledger.internal'] } });
    const warned = await routes.call('create', collection, '', ledger);
    assert.equal(warned.status, 201, warned.message);
    // The tenant CA can carry neither: the fixture's tenant is not `inject`, and its zone is `<tenant>.example`.
    assert.deepEqual(warned.warnings, [
      `spec.tls.allowedClients[0] ${ledgerClient} is outside tenant ${tenantName}'s trust domain (${tenantName}.<platform trust domain>): its sidecars trust only ${tenantName}'s CA, so no client will match it`,
      `spec.tls.allowedClients[1] batch.ledger.internal is outside tenant ${tenantName}'s zones (${tenantName}.example): ${tenantName}'s CA cannot issue a certificate for it, so no client will match it`,
    ]);
    for (const body of [
      route('mysql', { protocol: 'tls', backend: { service: 'db', port: 3306 }, tls: { clientAuthentication: 'required' } }),
      route('aaa-pg', { protocol: 'postgres', backend: { service: 'db', port: 5432 } }),
      route('direct', { protocol: 'tls', backend: { service: 'db', port: 3306 }, tls: { mode: 'passthrough' } }),
      route('web', { protocol: 'http', backend: { service: 'db', port: 3306 } }),
      route('vault', { protocol: 'tls', backend: { service: 'vault', port: 443 }, tls: { clientAuthentication: 'optional' } }),
    ]) {
      const created = await routes.call('create', collection, '', body);
      assert.equal(created.status, 201, created.message);
    }
  });
  after(async () => {
    await webhook?.remove();
    facts?.close();
  });

  it('gives a tenant\u2019s pod one sidecar per sidecar-mode Route selecting it, in Route-name order', async () => {
    const created = await tenant.call('create', pods(), '', pod('db-0', 'db'));
    assert.equal(created.status, 201, created.message);
    const db = await stored('db-0');
    assert.deepEqual(sidecars(db).map((c) => ({ name: c.name, image: c.image, imagePullPolicy: c.imagePullPolicy, args: c.args, ports: c.ports?.map((p) => `${p.name ?? ''}:${p.containerPort}`) })), [
      {
        name: 'landlord-sidecar-0', image: 'landlord.dev/landlord:dev', imagePullPolicy: 'IfNotPresent',
        args: ['sidecar', 'server', '--listen', '0.0.0.0:8443', '--app', '127.0.0.1:5432', '--cert-dir', '/var/run/landlord/tls-0', '--status', '0.0.0.0:9901', '--client-auth', 'none', '--trusted-proxy', routerSource, '--postgres'],
        ports: [`${sidecarPortName('aaa-pg')}:8443`, 'll-status-0:9901'],
      },
      {
        name: 'landlord-sidecar-1', image: 'landlord.dev/landlord:dev', imagePullPolicy: 'IfNotPresent',
        args: ['sidecar', 'server', '--listen', '0.0.0.0:8444', '--app', '127.0.0.1:3306', '--cert-dir', '/var/run/landlord/tls-1', '--status', '0.0.0.0:9902', '--client-auth', 'required', '--allow-any-identity', '--trusted-proxy', routerSource],
        ports: [`${sidecarPortName('mysql')}:8444`, 'll-status-1:9902'],
      },
    ]);
    assert.equal(db.spec?.containers[0]?.imagePullPolicy, 'Always', 'the tenant\u2019s own container still gets Always');
    const volumes = (db.spec?.volumes ?? []).filter((v) => v.name.startsWith('ll-tls-'));
    assert.deepEqual(volumes.map((v) => [v.name, v.projected?.sources?.map((s) => s.secret?.name ?? s.configMap?.name)]), [
      ['ll-tls-0', ['landlord-tls-aaa-pg', 'landlord-tenant-ca']],
      ['ll-tls-1', ['landlord-tls-mysql', 'landlord-tenant-ca']],
    ]);
    // The API server's ServiceAccount plugin may add its token mount after the webhook; the certificates must be there.
    assert.ok(sidecars(db)[1]?.volumeMounts?.some((m) => m.name === 'll-tls-1' && m.mountPath === '/var/run/landlord/tls-1' && m.readOnly === true));
  });

  it('hands a Route\'s allowed clients to its sidecar, and no other identity', async () => {
    const created = await tenant.call('create', pods(), '', pod('ledger-0', 'ledger'));
    assert.equal(created.status, 201, created.message);
    const [ledger] = sidecars(await stored('ledger-0'));
    const args = ledger?.args ?? [];
    assert.deepEqual(args.slice(args.indexOf('--client-auth')), ['--client-auth', 'required', '--allow-uri', ledgerClient, '--allow-dns', 'batch.ledger.internal', '--trusted-proxy', routerSource]);
  });

  it('refuses Routes whose TLS settings would protect less than they say', async () => {
    const routes = new KubeHttp(cluster.kubeconfigPath);
    const collection = `/apis/landlord.dev/v1alpha1/namespaces/${acme.namespace}/routes`;
    const attempts: Array<[string, Record<string, unknown>, number, RegExp]> = [
      ['client certificates on an http Route (TLS ends in the tenant ingress)', route('shop', { protocol: 'http', backend: { service: 'db', port: 3306 }, tls: { clientAuthentication: 'required' } }),
        403, /admission webhook "hostnames\.validate\.landlord\.dev" denied the request: routes\/clientAuthentication: spec\.tls\.clientAuthentication required is enforced only by the TLS sidecar/],
      ['allowed clients without required client certificates', route('open', { protocol: 'tls', backend: { service: 'db', port: 3306 }, tls: { allowedClients: [ledgerClient] } }),
        403, /routes\/allowedClients: spec\.tls\.allowedClients must go with spec\.tls\.clientAuthentication required/],
      ['an allowed client that is neither a SPIFFE ID nor a DNS name', route('odd', { protocol: 'tls', backend: { service: 'db', port: 3306 }, tls: { clientAuthentication: 'required', allowedClients: ['https://ledger.example/'] } }),
        422, /spec\.tls\.allowedClients(\[0\])?: Invalid value: "https:\/\/ledger\.example\/"/],
    ];
    for (const [what, body, status, message] of attempts) {
      const refused = await routes.call('create', collection, '', body);
      assert.equal(refused.status, status, `${what}: ${refused.message}`);
      assert.match(refused.message, message, what);
    }
  });

  it('injects nothing into a pod no sidecar-mode Route selects', async () => {
    const created = await tenant.call('create', pods(), '', pod('other-0', 'other'));
    assert.equal(created.status, 201, created.message);
    assert.deepEqual(sidecars(await stored('other-0')), []);
  });

  it('denies a pod selected by a Route with optional client authentication, naming the Route', async () => {
    const denied = await tenant.call('create', pods(), '', pod('vault-0', 'vault'));
    assert.equal(denied.status, 403);
    assert.match(denied.message, /admission webhook "pods\.mutate\.landlord\.dev" denied the request: sidecar\/clientAuthentication: Route vault selects this pod with spec\.tls\.clientAuthentication optional/);
  });

  it('keeps exactly one sidecar per Route when a stored pod is created again', async () => {
    const original = await stored('db-0');
    await core.deleteNamespacedPod({ namespace: acme.namespace, name: 'db-0', gracePeriodSeconds: 0 });
    const copy = JSON.parse(JSON.stringify(original)) as V1Pod & Record<string, unknown>;
    delete copy.status;
    copy.metadata = { name: 'db-1', labels: original.metadata?.labels ?? {} };
    if (copy.spec) delete copy.spec.nodeName;
    const created = await tenant.call('create', pods(), '', copy);
    assert.equal(created.status, 201, created.message);
    const again = await stored('db-1');
    assert.deepEqual(sidecars(again).map((c) => c.name), ['landlord-sidecar-0', 'landlord-sidecar-1']);
    assert.equal((again.spec?.volumes ?? []).filter((v) => v.name.startsWith('ll-tls-')).length, 2);
    assert.deepEqual(sidecars(again).map((c) => c.imagePullPolicy), ['IfNotPresent', 'IfNotPresent']);
  });

  it('denies a tenant naming its own container like an injected sidecar', async () => {
    const body = pod('fake-0', 'other');
    body.spec.containers.push({ name: 'landlord-sidecar-0', image: 'registry.example/evil:1', ports: [] });
    const denied = await tenant.call('create', pods(), '', body);
    assert.equal(denied.status, 403);
    assert.match(denied.message, /sidecar\/reservedNames: spec\.containers\[1\]\.name landlord-sidecar-0 is reserved/);
  });
});
