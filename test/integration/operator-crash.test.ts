/**
 * Crash safety: `landlord controller` runs as a child process and is SIGKILLed at random points
 * while many tenants are created, changed and deleted; after a final restart it must converge
 * with nothing duplicated and nothing orphaned. Bounded: a fixed number of kills, each run
 * lasting at most a few seconds, and a deadline for convergence.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Tenant } from '../../src/api/tenant.ts';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { KubeClient, resources, type KubeObject } from '../../src/operator/index.ts';
import { testCluster } from '../support/cluster.ts';
import { startController, type ControllerProcess } from '../support/controller.ts';
import { installCrds, tenant, withNamespaces } from '../support/tenants.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';

type TenantObject = Tenant & KubeObject;
const cluster: DevCluster = await testCluster({ node: false });
const run = Math.random().toString(36).slice(2, 6);
const tenantCount = 24;
const kills = 5;
const names = Array.from({ length: tenantCount }, (_, i) => `crash${run}-${i}`);
const deleted = new Set(names.filter((_, i) => i % 6 === 0));
const changed = new Set(names.filter((_, i) => i % 6 === 1));

describe('operator crash safety', () => {
  let kube: KubeClient;
  let controller: ControllerProcess | undefined;

  before(async () => {
    await installCrds(loadKubeconfigFile(cluster.kubeconfigPath));
    kube = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath));
  });

  after(async () => {
    if (controller && controller.child.exitCode === null) {
      controller.child.kill('SIGKILL');
      await controller.exited;
    }
    kube.close();
  });

  it(`converges after ${kills} SIGKILLs at random points, with no duplicates or orphans`, async () => {
    await Promise.all(names.map((name) => kube.create(resources.tenants, tenant(name, withNamespaces(name, `${name}-b`)))));
    for (let round = 0; round < kills; round++) {
      // The same identity, as a restarted pod of a StatefulSet would have: it takes its Lease back
      // at once, so every kill lands while reconciling rather than while waiting for the Lease.
      controller = startController(cluster.kubeconfigPath, ['--identity', `crash-${run}`, '--lease-duration', '2', '--workers', '8']);
      await sleep(300 + Math.random() * 2000);
      if (round === 1) await Promise.all([...changed].map((name) => kube.mergePatch(resources.tenants, name, undefined, { spec: { namespaces: [name, `${name}-c`], quota: { pods: 9 } } })));
      if (round === 2) await Promise.all([...deleted].map((name) => kube.delete(resources.tenants, name)));
      controller.child.kill('SIGKILL');
      assert.equal(await controller.exited, 'SIGKILL');
    }

    controller = startController(cluster.kubeconfigPath, ['--identity', `crash-${run}`, '--lease-duration', '2', '--workers', '8']);
    await until('every tenant to converge', 180_000, async () => {
      const { items } = await kube.list<TenantObject>(resources.tenants);
      const ours = items.filter((t) => names.includes(t.metadata.name));
      const ready = ours.filter((t) => t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === t.metadata.generation));
      // Namespace contents are removed by Kubernetes' namespace controller after the operator
      // deletes the namespace: converged means those namespaces are gone, not just terminating.
      const removed = [...deleted, ...[...changed].map((name) => `${name}-b`)];
      const namespacesGone = await Promise.all(removed.map(async (name) => (await kube.get(resources.namespaces, name)) === undefined));
      return ours.length === names.length - deleted.size && ready.length === ours.length && namespacesGone.every(Boolean);
    }, () => controller?.logTail() ?? '');

    for (const name of names) await expectExactlyTheTenantsObjects(kube, name);

    controller.child.kill('SIGTERM');
    assert.equal(await controller.exited, 0, 'a graceful stop exits 0');
  });
});

/** The objects labelled for `name` are exactly those landlord wants for it: none missing, none extra. */
async function expectExactlyTheTenantsObjects(kube: KubeClient, name: string): Promise<void> {
  const selector = `landlord.dev/tenant=${name}`;
  const kinds = [
    resources.namespaces, resources.roleBindings, resources.resourceQuotas, resources.limitRanges, resources.networkPolicies, resources.configMaps, resources.secrets,
    resources.serviceAccounts, resources.services, resources.deployments, resources.roles,
  ];
  const found = (await Promise.all(kinds.map((type) => kube.list(type, { labelSelector: selector })))).flatMap((list) => list.items)
    .filter((object) => !object.metadata.deletionTimestamp);
  if (deleted.has(name)) {
    assert.deepEqual(found.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`), [], `${name} was deleted: nothing of it may remain`);
    return;
  }
  const namespaces = changed.has(name) ? [name, `${name}-c`] : [name, `${name}-b`];
  const perNamespace = ['ConfigMap/landlord-tenant-ca', 'LimitRange/landlord-limits', 'NetworkPolicy/landlord-allow-dns', 'NetworkPolicy/landlord-allow-edge-router', 'NetworkPolicy/landlord-allow-platform',
    'NetworkPolicy/landlord-allow-same-tenant', 'NetworkPolicy/landlord-default-deny', 'ResourceQuota/landlord-quota', 'RoleBinding/landlord-tenant-admin',
    'Role/landlord-ingress', 'RoleBinding/landlord-ingress'];
  const expected = [
    ...namespaces.map((ns) => `Namespace//${ns}`),
    ...namespaces.flatMap((ns) => perNamespace.map((entry) => entry.replace('/', `/${ns}/`))),
    ...['ServiceAccount', 'Deployment', 'Service'].map((kind) => `${kind}/${name}/landlord-ingress`),
    `Secret/landlord-system/tenant-${name}-ca`,
  ].sort();
  assert.deepEqual(found.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort(), expected, `${name}: exactly the wanted objects`);

  const current = await kube.get<TenantObject>(resources.tenants, name);
  const secret = found.find((o) => o.kind === 'Secret') as KubeObject & { data: Record<string, string> };
  const caFingerprint = new X509Certificate(Buffer.from(secret.data['tls.crt']!, 'base64').toString()).fingerprint256;
  assert.equal(current?.status?.ca?.fingerprint, caFingerprint, `${name}: status names the CA in the Secret`);
  for (const bundle of found.filter((o) => o.kind === 'ConfigMap') as Array<KubeObject & { data: Record<string, string> }>) {
    assert.equal(new X509Certificate(bundle.data['ca.crt']!).fingerprint256, caFingerprint, `${name}: ${bundle.metadata.namespace} trusts the same CA`);
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}\n${detail()}`);
}
