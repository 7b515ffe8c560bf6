/**
 * The API server restarts under a running operator: the operator's watches fail, retry with
 * backoff and resume; it then reconciles new tenants and repairs drift without being restarted.
 * Uses a cluster of its own (never the suite's shared one, whose API server it would restart).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type DevCluster } from '../../src/devcluster/index.ts';
import { buildOperator, KubeClient, resources, type Operator } from '../../src/operator/index.ts';
import { apiServerPid, restartApiServer } from '../support/apiserver.ts';
import { eventually } from '../support/cluster.ts';
import { installCrds, tenant, untilReady } from '../support/tenants.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';

describe('operator across an API server restart', () => {
  let cluster: DevCluster;
  let kube: KubeClient;
  let operator: Operator;

  before(async () => {
    cluster = await startCluster({ name: 'op-restart', node: false });
    await installCrds(loadKubeconfigFile(cluster.kubeconfigPath));
    kube = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath));
    operator = buildOperator({ client: new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath)), workers: 4 });
    void operator.run();
    await operator.started();
  });

  after(async () => {
    await operator?.stop();
    kube?.close();
    await cluster?.stop();
  });

  it('recovers its watches and keeps reconciling after kube-apiserver is killed and down for 3 s', async () => {
    await kube.create(resources.tenants, tenant('before'));
    await untilReady(kube, 'before');
    const restartsBefore = watchRestarts(operator);

    await restartApiServer(cluster, apiServerPid(cluster), 3000);
    // The restarted server answers 503 ("server is starting") for a while: retry the create.
    await eventually('kube-apiserver to accept a Tenant again', () => kube.create(resources.tenants, tenant('after')), 60_000);
    await untilReady(kube, 'after', 90_000);
    await kube.delete(resources.resourceQuotas, 'landlord-quota', 'before');
    await eventually('the deleted quota to come back', () => kube.get(resources.resourceQuotas, 'landlord-quota', 'before'), 60_000);
    assert.ok(watchRestarts(operator) > restartsBefore, 'the watches noticed the restart');
  });
});

function watchRestarts(operator: Operator): number {
  const text = operator.metrics.render();
  return [...text.matchAll(/^landlord_operator_watch_restarts_total\{[^}]*reason="error"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}
