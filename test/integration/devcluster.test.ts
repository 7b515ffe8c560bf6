import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { attachCluster, startCluster } from '../../src/devcluster/index.ts';
import { isLandlordError } from '../../src/shared/errors.ts';
import { eventually, liveProcesses, testCluster } from '../support/cluster.ts';

const statusOf = (error: unknown): number | undefined => (error instanceof ApiException ? error.code : undefined);

function clientFor(kubeconfigFile: string): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigFile);
  return config.makeApiClient(CoreV1Api);
}

const cluster = await testCluster({ node: false });

describe('local cluster control plane', () => {

  it('creates, reads and deletes a namespace', async () => {
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    const name = `ns-${Date.now()}`;
    await core.createNamespace({ body: { metadata: { name, labels: { purpose: 'test' } } } });
    const read = await core.readNamespace({ name });
    assert.equal(read.metadata?.labels?.purpose, 'test');
    await core.deleteNamespace({ name });
    // The controller-manager's namespace controller finishes the deletion.
    await eventually('the namespace to be gone', async () => {
      try {
        await core.readNamespace({ name });
        return undefined;
      } catch (error) {
        return statusOf(error) === 404 ? true : undefined;
      }
    });
  });

  it('denies a user without grants (403) and allows them after a binding', async () => {
    const admin = cluster.kubeConfig();
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const core = admin.makeApiClient(CoreV1Api);
    const user = `alice-${Date.now()}`;
    const namespace = `team-${Date.now()}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const alice = clientFor(await cluster.kubeconfigFor({ user, groups: ['tenant:acme'] }));

    await assert.rejects(alice.listNamespace(), (error) => statusOf(error) === 403);
    await assert.rejects(alice.listNamespacedPod({ namespace }), (error) => statusOf(error) === 403);

    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'alice-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
    });
    const pods = await eventually('the RoleBinding to take effect', async () => alice.listNamespacedPod({ namespace }).catch(() => undefined));
    assert.deepEqual(pods.items, []);
    // The binding is namespaced: cluster-wide listing stays forbidden.
    await assert.rejects(alice.listNamespace(), (error) => statusOf(error) === 403);

    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: `${user}-namespaces` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view-namespaces-test' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'tenant:acme' }],
      },
    });
    await rbac.createClusterRole({
      body: { metadata: { name: 'view-namespaces-test' }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list'] }] },
    });
    const namespaces = await eventually('the ClusterRoleBinding to take effect', async () => alice.listNamespace().catch(() => undefined));
    assert.ok(namespaces.items.some((ns) => ns.metadata?.name === namespace));
  });

  it('runs a second control plane beside the first and leaves no process after stop()', async () => {
    const second = await startCluster({ name: 'second' });
    const pids = second.daemons().map((d) => d.pid);
    try {
      assert.notEqual(second.server, cluster.server);
      const [a, b] = await Promise.all([
        cluster.kubeConfig().makeApiClient(CoreV1Api).readNamespace({ name: 'default' }),
        second.kubeConfig().makeApiClient(CoreV1Api).readNamespace({ name: 'default' }),
      ]);
      assert.notEqual(a.metadata?.uid, b.metadata?.uid, 'two clusters must not share etcd');
      assert.deepEqual(second.daemons().map((d) => d.name), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    } finally {
      await second.stop();
    }
    assert.deepEqual(liveProcesses(pids), []);
    assert.equal(existsSync(second.dir), false);
  });

  it('refuses a cluster name that is not a DNS label', async () => {
    await assert.rejects(startCluster({ name: 'Not_A_Label' }), (error) => isLandlordError(error, 'LL_DEVCLUSTER_BAD_NAME'));
  });

  it('says clearly that there is no cluster to attach to', () => {
    assert.throws(() => attachCluster('/nonexistent/landlord'), (error) => isLandlordError(error, 'LL_DEVCLUSTER_NOT_FOUND'));
  });
});
