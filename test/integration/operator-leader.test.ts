/**
 * Leader election and probes: of two operators one leads and reconciles, the other stands by
 * (ready, writing nothing); when the leader stops it releases the Lease and the other takes
 * over. /healthz, /readyz and /metrics answer on each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { buildOperator, KubeClient, resources, type KubeObject, type Operator } from '../../src/operator/index.ts';
import { testCluster } from '../support/cluster.ts';
import { installCrds, tenant, untilReady } from '../support/tenants.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';

const cluster: DevCluster = await testCluster({ node: false });
const run = Math.random().toString(36).slice(2, 6);

const candidate = (identity: string): Operator => buildOperator({
  client: new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath)),
  workers: 2,
  health: { port: 0 },
  leaderElection: { identity, leaseDurationMs: 3000, renewDeadlineMs: 2000, renewIntervalMs: 300 },
});

async function get(operator: Operator, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${operator.healthPort()}${path}`);
  return { status: response.status, body: await response.text() };
}

describe('operator leader election and probes', () => {
  let kube: KubeClient;
  const operators = new Map<string, Operator>();

  before(async () => {
    await installCrds(loadKubeconfigFile(cluster.kubeconfigPath));
    kube = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath));
  });

  after(async () => {
    await Promise.all([...operators.values()].map((operator) => operator.stop()));
    kube.close();
  });

  it('runs one leader, keeps the other on standby, and hands over on a clean stop', async () => {
    for (const identity of [`a-${run}`, `b-${run}`]) {
      const operator = candidate(identity);
      operators.set(identity, operator);
      void operator.run();
    }
    const [first] = await Promise.race([...operators].map(async ([identity, operator]) => {
      await operator.started();
      return [identity, operator] as const;
    }));
    const leader = operators.get(first)!;
    const [standbyName, standby] = [...operators].find(([identity]) => identity !== first)!;

    const lease = await kube.get<KubeObject & { spec: { holderIdentity: string } }>(resources.leases, 'landlord-operator', 'landlord-system');
    assert.equal(lease?.spec.holderIdentity, first);

    // Both candidates may have tried to take the Lease at the start (the loser got 409); from then on
    // the standby only reads it.
    const standbyWrites = standby.client.writeCount();
    const name = `lead${run}`;
    await kube.create(resources.tenants, tenant(name));
    await untilReady(kube, name);
    assert.equal(standby.client.writeCount() - standbyWrites, 0, 'the standby writes nothing');

    for (const operator of [leader, standby]) {
      assert.equal((await get(operator, '/healthz')).status, 200);
      assert.equal((await get(operator, '/readyz')).status, 200, 'leader and standby are both ready');
      assert.equal((await get(operator, '/nothing')).status, 404);
    }
    const leaderMetrics = (await get(leader, '/metrics')).body;
    assert.match(leaderMetrics, /^landlord_operator_leader 1$/m);
    assert.match(leaderMetrics, /^# TYPE landlord_operator_reconciles_total counter$/m);
    assert.match(leaderMetrics, /^landlord_operator_api_requests_total\{verb="PATCH",resource="namespaces"\} \d+$/m);
    assert.match((await get(standby, '/metrics')).body, /^landlord_operator_leader 0$/m);

    await leader.stop();
    operators.delete(first);
    await standby.started();
    const second = `next${run}`;
    await kube.create(resources.tenants, tenant(second));
    await untilReady(kube, second);
    const handedOver = await kube.get<KubeObject & { spec: { holderIdentity: string; leaseTransitions: number } }>(resources.leases, 'landlord-operator', 'landlord-system');
    assert.equal(handedOver?.spec.holderIdentity, standbyName);
  });
});
