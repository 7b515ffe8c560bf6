/**
 * The Route controller and the webhook serving certificate against a real kube-apiserver, with
 * the operator running under the ClusterRole `npm run generate` writes (deploy/rbac/operator.yaml),
 * so a missing permission fails here: certificate Secrets chained to the tenant CA, sidecar
 * Services mirroring their backend, conditions beside the router's, refusals, zero writes on
 * resync, and the webhook certificate with its caBundle.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { webhookConfigurations } from '../../src/admission/index.ts';
import type { Condition } from '../../src/api/meta.ts';
import { sidecarPortName, type Route, type RouteSpec } from '../../src/api/route.ts';
import type { DevCluster } from '../../src/devcluster/index.ts';
import {
  buildOperator, fieldManager, KubeClient, operatorRbacObjects, resources, webhookDnsNames, type KubeObject, type Operator,
} from '../../src/operator/index.ts';
import { createLogger } from '../../src/shared/log.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { installCrds, tenant, untilReady, withNamespaces } from '../support/tenants.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';
import { settled } from '../support/operator.ts';

type RouteObject = Route & KubeObject;
type SecretObject = KubeObject & { type?: string; data?: Record<string, string> };
type ServiceObject = KubeObject & { spec: { clusterIP?: string; selector?: Record<string, string>; ports?: Array<Record<string, unknown>> } };
type WebhookConfiguration = KubeObject & { webhooks: Array<{ name: string; clientConfig: { caBundle?: string } }> };

const run = Math.random().toString(36).slice(2, 6);
const named = (base: string): string => `${base}${run}`;
const pem = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8');
const exec = promisify(execFile);

const cluster: DevCluster = await testCluster({ node: false });

describe('route controller', () => {
  const owner = named('routes');
  const ns = owner;
  const operatorUser = `landlord-operator-test-${run}`;
  let kube: KubeClient;
  let operator: Operator;
  let rootPem: string;
  let tenantCaFingerprint: string;

  const route = (name: string, spec: Partial<RouteSpec> = {}, namespace = ns): RouteObject => ({
    apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name, namespace },
    spec: { hostname: `${name}.${owner}.example`, protocol: 'tls', backend: { service: 'mysql', port: 3306 }, ...spec },
  });
  const service = (name: string, selector: Record<string, string>, namespace = ns): KubeObject => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace },
    spec: { selector, ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }] },
  });
  const getRoute = (name: string, namespace = ns): Promise<RouteObject | undefined> => kube.get<RouteObject>(resources.routes, name, namespace);
  /** Resolves with the Route once condition `type` has `status`/`reason` for its current generation. */
  const untilCondition = (name: string, type: string, status: string, reason: string, namespace = ns): Promise<{ route: RouteObject; condition: Condition }> =>
    eventually(`Route ${namespace}/${name} ${type}=${status}/${reason}`, async () => {
      const current = await getRoute(name, namespace);
      const found = current?.status?.conditions?.find((c) => c.type === type);
      return current && found?.status === status && found.reason === reason && found.observedGeneration === current.metadata.generation
        ? { route: current, condition: found } : undefined;
    });
  const secretOf = (name: string): Promise<SecretObject | undefined> => kube.get<SecretObject>(resources.secrets, `landlord-tls-${name}`, ns);
  const sidecarServiceOf = (name: string): Promise<ServiceObject | undefined> => kube.get<ServiceObject>(resources.services, `landlord-route-${name}`, ns);
  const gone = (what: string, read: () => Promise<unknown>): Promise<true> => eventually(what, async () => ((await read()) === undefined ? true : undefined));

  before(async () => {
    await installCrds(loadKubeconfigFile(cluster.kubeconfigPath));
    kube = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath));
    // The operator runs as a user bound to exactly the generated ClusterRole.
    const [, clusterRole] = operatorRbacObjects();
    await kube.apply(resources.clusterRoles, clusterRole!, fieldManager);
    await kube.apply({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false }, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: operatorUser },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole!.metadata.name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: operatorUser }],
    }, fieldManager);
    const operatorConfig = loadKubeconfigFile(await cluster.kubeconfigFor({ user: operatorUser }));
    // LANDLORD_TEST_OPERATOR_LOG=1 shows the operator's log (reconcile failures) when a test times out.
    const logger = process.env.LANDLORD_TEST_OPERATOR_LOG ? { logger: createLogger({ component: 'operator' }) } : {};
    operator = buildOperator({ client: new KubeClient(operatorConfig), workers: 4, ...logger });
    void operator.run();
    await operator.started();

    await kube.create(resources.tenants, tenant(owner, withNamespaces(ns)));
    const ready = await untilReady(kube, owner);
    tenantCaFingerprint = ready.status!.ca!.fingerprint;
    rootPem = pem((await kube.get<SecretObject>(resources.secrets, 'landlord-root-ca', 'landlord-system'))?.data?.['tls.crt']);
    await kube.create(resources.services, service('mysql', { app: 'mysql' }));
  });

  after(async () => {
    await operator.stop();
    await kube.delete({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false }, operatorUser);
    kube.close();
  });

  it('issues a Secret chained to the tenant CA for the hostname, and the sidecar Service, both owned by the Route', async () => {
    const created = await kube.create<RouteObject>(resources.routes, route('db'));
    const { route: issued } = await untilCondition('db', 'CertificateIssued', 'True', 'Issued');
    await untilCondition('db', 'SidecarServiceCreated', 'True', 'Created');
    const ownerReference = { apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', name: 'db', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true };
    const labels = { 'app.kubernetes.io/managed-by': 'landlord', 'landlord.dev/tenant': owner, 'landlord.dev/route': 'db' };

    const secret = await secretOf('db');
    assert.equal(secret?.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    assert.deepEqual(secret.metadata.ownerReferences, [ownerReference]);
    assert.deepEqual(secret.metadata.labels, labels);
    const chain = pem(secret.data?.['tls.crt']).split(/(?<=-----END CERTIFICATE-----\n?)/).filter((part) => part.trim());
    assert.equal(chain.length, 2, 'tls.crt is the leaf and the tenant CA');
    const leaf = new X509Certificate(chain[0]!);
    const tenantCa = new X509Certificate(chain[1]!);
    assert.equal(leaf.subjectAltName, `DNS:db.${owner}.example`);
    assert.equal(tenantCa.fingerprint256, tenantCaFingerprint);
    assert.equal(new X509Certificate(pem(secret.data?.['ca.crt'])).fingerprint256, tenantCaFingerprint);
    assert.ok(leaf.checkPrivateKey(createPrivateKey(pem(secret.data?.['tls.key']))));
    assert.equal(issued.status?.certificate?.notAfter, leaf.validToDate.toISOString().replace(/\.\d+Z$/, 'Z'));
    await opensslVerifies(rootPem, chain[1]!, chain[0]!, `db.${owner}.example`);

    const sidecar = await sidecarServiceOf('db');
    assert.equal(sidecar?.spec.clusterIP, 'None');
    assert.deepEqual(sidecar.spec.selector, { app: 'mysql' });
    assert.deepEqual(sidecar.spec.ports?.map((p) => [p.name, p.port, p.targetPort, p.protocol]), [['tls', 443, sidecarPortName('db'), 'TCP']]);
    assert.deepEqual(sidecar.metadata.ownerReferences, [ownerReference]);
    assert.deepEqual(sidecar.metadata.labels, labels);
  });

  it('keeps the sidecar Service selector equal to the backend\'s, keys added and removed', async () => {
    await kube.mergePatch(resources.services, 'mysql', ns, { spec: { selector: { app: 'mysql', tier: 'db' } } });
    await eventually('the selector to gain tier', async () => ((await sidecarServiceOf('db'))?.spec.selector?.tier === 'db' ? true : undefined));
    await kube.mergePatch(resources.services, 'mysql', ns, { spec: { selector: { app: null, role: 'primary' } } });
    await eventually('the selector to follow', async () => {
      const selector = (await sidecarServiceOf('db'))?.spec.selector;
      return JSON.stringify(selector) === JSON.stringify({ role: 'primary', tier: 'db' }) ? true : undefined;
    });
  });

  it('repairs a deleted Secret and an edited sidecar Service', async () => {
    await kube.delete(resources.secrets, 'landlord-tls-db', ns);
    await kube.mergePatch(resources.services, 'landlord-route-db', ns, { spec: { selector: { role: 'other' } } });
    await eventually('the Secret to come back', () => secretOf('db'));
    await eventually('the selector to be restored', async () => ((await sidecarServiceOf('db'))?.spec.selector?.role === 'primary' ? true : undefined));
  });

  it('keeps its condition beside the router\'s Accepted condition, each writer owning its own', async () => {
    const current = (await getRoute('db'))!;
    const others = (current.status?.conditions ?? []).filter((c) => c.type !== 'Accepted' && c.type !== 'Ready');
    // What the router writes: a merge patch of the whole list, keeping conditions of other types.
    const accepted: Condition = { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'by the router', observedGeneration: current.metadata.generation!, lastTransitionTime: '2026-01-01T00:00:00Z' };
    await kube.mergePatch(resources.routes, 'db', ns, { status: { conditions: [...others, accepted], address: `db.${owner}.example:443` } }, 'status');
    // A spec change makes the operator apply its conditions again (new observedGeneration, new certificate).
    await kube.mergePatch(resources.routes, 'db', ns, { spec: { hostname: `api.${owner}.example` } });
    const { route: after } = await untilCondition('db', 'CertificateIssued', 'True', 'Issued');
    assert.deepEqual(after.status?.conditions?.find((c) => c.type === 'Accepted'), accepted, 'the router\'s condition survived');
    assert.equal(after.status?.address, `db.${owner}.example:443`, 'and so did its address');
    await eventually('a certificate for the new hostname', async () => {
      const secret = await secretOf('db');
      return new X509Certificate(pem(secret?.data?.['tls.crt'])).subjectAltName === `DNS:api.${owner}.example` ? true : undefined;
    });

    // Leaving sidecar mode removes the Service and that condition, and still not the router's.
    await kube.mergePatch(resources.routes, 'db', ns, { spec: { tls: { mode: 'passthrough' } } });
    await gone('the sidecar Service to be deleted', () => sidecarServiceOf('db'));
    const passthrough = await eventually('SidecarServiceCreated to be removed', async () => {
      const now = await getRoute('db');
      const types = now?.status?.conditions?.map((c) => c.type) ?? [];
      return now?.status?.conditions?.find((c) => c.type === 'CertificateIssued')?.observedGeneration === now?.metadata.generation && !types.includes('SidecarServiceCreated') ? now : undefined;
    });
    assert.deepEqual(passthrough.status?.conditions?.find((c) => c.type === 'Accepted'), accepted);
    assert.ok(await secretOf('db'), 'a passthrough Route keeps its certificate');
  });

  it('refuses a hostname outside the tenant\'s domains: condition False, no Secret, no Service', async () => {
    await kube.create(resources.routes, route('outside', { hostname: `db.elsewhere${run}.example` }));
    const { condition } = await untilCondition('outside', 'CertificateIssued', 'False', 'HostnameNotInTenantDomains');
    assert.match(condition.message, new RegExp(`outside the domains of tenant ${owner}`));
    await untilCondition('outside', 'SidecarServiceCreated', 'False', 'HostnameNotInTenantDomains');
    assert.equal(await secretOf('outside'), undefined);
    assert.equal(await sidecarServiceOf('outside'), undefined);
  });

  it('issues nothing for a Route naming its own Secret, and deletes what it issued before', async () => {
    await kube.create(resources.routes, route('own', { tls: { secretName: 'my-own-cert' } }));
    const { condition } = await untilCondition('own', 'CertificateIssued', 'False', 'OwnCertificate');
    assert.match(condition.message, /my-own-cert/);
    assert.equal(await secretOf('own'), undefined);
    assert.ok(await eventually('the sidecar Service of a Route with its own certificate', () => sidecarServiceOf('own')));

    await kube.create(resources.routes, route('switch'));
    await untilCondition('switch', 'CertificateIssued', 'True', 'Issued');
    assert.ok(await secretOf('switch'));
    await kube.mergePatch(resources.routes, 'switch', ns, { spec: { tls: { secretName: 'my-own-cert' } } });
    await untilCondition('switch', 'CertificateIssued', 'False', 'OwnCertificate');
    await gone('the issued Secret to be deleted', () => secretOf('switch'));
    assert.equal((await getRoute('switch'))?.status?.certificate, undefined, 'no expiry shown for a certificate landlord does not hold');
  });

  it('creates no sidecar Service until the backend Service exists, then mirrors it', async () => {
    await kube.create(resources.routes, route('later', { backend: { service: 'later', port: 5432 }, protocol: 'postgres' }));
    await untilCondition('later', 'SidecarServiceCreated', 'False', 'BackendServiceNotFound');
    await untilCondition('later', 'CertificateIssued', 'True', 'Issued');
    assert.equal(await sidecarServiceOf('later'), undefined);
    await kube.create(resources.services, service('later', { app: 'pg' }));
    await untilCondition('later', 'SidecarServiceCreated', 'True', 'Created');
    assert.deepEqual((await sidecarServiceOf('later'))?.spec.selector, { app: 'pg' });
  });

  it('never takes over a Secret of the same name that landlord did not create', async () => {
    await kube.create(resources.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'landlord-tls-taken', namespace: ns }, type: 'Opaque', data: { a: 'Yg==' } });
    await kube.create(resources.routes, route('taken'));
    await untilCondition('taken', 'CertificateIssued', 'False', 'SecretNameTaken');
    const secret = await secretOf('taken');
    assert.deepEqual([secret?.type, secret?.data], ['Opaque', { a: 'Yg==' }]);
    // Left as it is, this Route would cost one read per reconcile; the resync test below expects none.
    await kube.delete(resources.routes, 'taken', ns);
  });

  it('waits for a namespace without tenant, and leaves it alone', async () => {
    const plain = named('plain');
    await kube.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: plain } });
    try {
      await kube.create(resources.routes, route('db', {}, plain));
      await untilCondition('db', 'CertificateIssued', 'False', 'NamespaceHasNoTenant', plain);
      assert.equal(await kube.get(resources.secrets, 'landlord-tls-db', plain), undefined);
      assert.equal(await kube.get(resources.services, 'landlord-route-db', plain), undefined);
    } finally {
      await kube.delete(resources.namespaces, plain);
    }
  });

  it('issues the webhook serving certificate and keeps the caBundle of landlord-admission equal to the root CA', async () => {
    // Scoped to a tenant that does not exist, so the shared cluster never calls this webhook.
    const { mutating, validating } = webhookConfigurations({
      client: { service: { namespace: 'landlord-system', name: 'landlord-webhook' }, caPem: '' }, tenants: [`nobody${run}`],
    });
    const mutatingType = resources.mutatingWebhookConfigurations;
    const validatingType = resources.validatingWebhookConfigurations;
    await kube.create(mutatingType, mutating as KubeObject);
    await kube.create(validatingType, validating as KubeObject);
    try {
      const secret = await eventually('the webhook Secret', () => kube.get<SecretObject>(resources.secrets, 'landlord-webhook-tls', 'landlord-system'));
      assert.equal(secret.type, 'kubernetes.io/tls');
      assert.equal(pem(secret.data?.['ca.crt']), rootPem);
      const leaf = new X509Certificate(pem(secret.data?.['tls.crt']));
      assert.equal(leaf.subjectAltName, webhookDnsNames.map((name) => `DNS:${name}`).join(', '));
      assert.deepEqual(webhookDnsNames, ['landlord-webhook.landlord-system.svc', 'landlord-webhook.landlord-system.svc.cluster.local']);
      assert.ok(leaf.verify(new X509Certificate(rootPem).publicKey), 'signed by the platform root');
      assert.ok(leaf.checkPrivateKey(createPrivateKey(pem(secret.data?.['tls.key']))));

      const bundle = Buffer.from(rootPem).toString('base64');
      const caBundles = async (): Promise<string[]> => {
        const configurations = await Promise.all([kube.get<WebhookConfiguration>(mutatingType, 'landlord-admission'), kube.get<WebhookConfiguration>(validatingType, 'landlord-admission')]);
        return configurations.flatMap((c) => c?.webhooks.map((w) => w.clientConfig.caBundle ?? '') ?? []);
      };
      await eventually('every caBundle to be the root', async () => ((await caBundles()).every((b) => b === bundle) ? true : undefined));
      assert.equal((await caBundles()).length, 5);

      // Drift: an installer re-applying the manifest empties one; the operator sets it again.
      const current = (await kube.get<WebhookConfiguration>(validatingType, 'landlord-admission'))!;
      await kube.mergePatch(validatingType, 'landlord-admission', undefined, {
        webhooks: current.webhooks.map((w, index) => (index === 1 ? { ...w, clientConfig: { ...w.clientConfig, caBundle: '' } } : w)),
      });
      await eventually('the caBundle to be restored', async () => ((await caBundles()).every((b) => b === bundle) ? true : undefined));

      // A deleted Secret is issued again.
      await kube.delete(resources.secrets, 'landlord-webhook-tls', 'landlord-system');
      const again = await eventually('the webhook Secret to be issued again', async () => {
        const found = await kube.get<SecretObject>(resources.secrets, 'landlord-webhook-tls', 'landlord-system');
        return found && found.metadata.uid !== secret.metadata.uid ? found : undefined;
      });
      assert.notEqual(again.data?.['tls.key'], secret.data?.['tls.key'], 'a new key');
    } finally {
      await kube.delete(mutatingType, 'landlord-admission');
      await kube.delete(validatingType, 'landlord-admission');
    }
  });

  it('sends zero requests on a full resync after convergence', async () => {
    await settled(operator);
    const writesBefore = operator.client.writeCount();
    const requestsBefore = operator.client.requestCount();
    const reconcilesBefore = reconcileCount(operator, 'route');
    operator.resync();
    await settled(operator);
    assert.ok(reconcileCount(operator, 'route') - reconcilesBefore >= 5, 'the resync reconciled every Route');
    assert.equal(operator.client.writeCount() - writesBefore, 0, 'no POST/PUT/PATCH/DELETE during the resync');
    assert.equal(operator.client.requestCount() - requestsBefore, 0, 'every read came from the caches');
  });

  it('deletes what a deleted Route owned', async () => {
    await kube.delete(resources.routes, 'later', ns);
    await gone('the Secret of a deleted Route', () => secretOf('later'));
    await gone('the sidecar Service of a deleted Route', () => sidecarServiceOf('later'));
  });
});

/** `openssl verify` with the root as the only trust anchor, the tenant CA as untrusted intermediate, and the hostname checked. */
async function opensslVerifies(root: string, intermediate: string, leaf: string, hostname: string): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'landlord-routes-'));
  try {
    await writeFile(path.join(dir, 'root.crt'), root);
    await writeFile(path.join(dir, 'ca.crt'), intermediate);
    await writeFile(path.join(dir, 'leaf.crt'), leaf);
    const { stdout } = await exec('openssl', ['verify', '-CAfile', 'root.crt', '-untrusted', 'ca.crt', '-verify_hostname', hostname, '-purpose', 'sslserver', 'leaf.crt'], { cwd: dir });
    assert.match(stdout, /leaf\.crt: OK/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function reconcileCount(operator: Operator, controller: string): number {
  const text = operator.metrics.render();
  return [...text.matchAll(new RegExp(`^landlord_operator_reconciles_total\\{controller="${controller}",[^}]*\\} (\\d+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}
