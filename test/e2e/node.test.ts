import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import {
  buildLandlordImage,
  buildTestAppImage,
  landlordImage,
  startCluster,
  testAppImage,
} from '../../src/devcluster/index.ts';
import { isLandlordError } from '../../src/shared/errors.ts';
import { eventually, testCluster } from '../support/cluster.ts';

const run = promisify(execFile);
const projectRoot = path.resolve(import.meta.dirname, '..', '..');

/** A pod spec that satisfies the restricted Pod Security profile. */
function restrictedPod(name: string, image: string, extra: { args?: string[]; restartPolicy?: string } = {}): V1Pod {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      restartPolicy: extra.restartPolicy ?? 'Always',
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'main',
          image,
          imagePullPolicy: 'Never',
          ...(extra.args ? { args: extra.args } : {}),
          ports: [{ containerPort: 8080 }],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        },
      ],
    },
  };
}

const cluster = await testCluster({ node: true });

describe('local cluster node', () => {
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  let work: string;
  const namespace = `e2e-node-${Date.now()}`;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'landlord-e2e-'));
    await cluster.importImage(buildTestAppImage(path.join(work, 'test-app.tar')).file);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Pods are admitted once the controller-manager has made the namespace's default ServiceAccount.
    await eventually('the default ServiceAccount', () => core.readNamespacedServiceAccount({ namespace, name: 'default' }));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('runs a test-app pod reachable by pod IP and by Service ClusterIP, with logs', async () => {
    await core.createNamespacedPod({ namespace, body: restrictedPod('web', testAppImage) });
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    const pod = await eventually('pod web to run', async () => {
      const current = await core.readNamespacedPod({ namespace, name: 'web' });
      return current.status?.phase === 'Running' && current.status.podIP ? current : undefined;
    }, 60_000);

    const byPod = await eventually('HTTP from the pod IP', async () => (await fetch(`http://${pod.status?.podIP}:8080/`)).text());
    assert.equal(byPod.trim(), 'test-app web');

    const service = await core.readNamespacedService({ namespace, name: 'web' });
    const byService = await eventually('HTTP through the ClusterIP', async () => (await fetch(`http://${service.spec?.clusterIP}/`)).text());
    assert.equal(byService.trim(), 'test-app web');

    const { stdout } = await run('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', namespace, 'logs', 'web']);
    assert.match(stdout, /test-app web serving HTTP on :8080/);
  });

  it("runs landlord's own image", async () => {
    await cluster.importImage(buildLandlordImage(path.join(work, 'landlord.tar'), projectRoot).file);
    await core.createNamespacedPod({ namespace, body: restrictedPod('landlord-version', landlordImage, { args: ['--version'], restartPolicy: 'Never' }) });
    const phase = await eventually('the landlord pod to finish', async () => {
      const current = await core.readNamespacedPod({ namespace, name: 'landlord-version' });
      const value = current.status?.phase;
      return value === 'Succeeded' || value === 'Failed' ? value : undefined;
    }, 90_000);
    const log = await core.readNamespacedPodLog({ namespace, name: 'landlord-version' });
    assert.equal(phase, 'Succeeded', `pod log:\n${log}`);
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    assert.equal(log.trim(), version);
  });

  it('refuses a second node on the same machine', async () => {
    await assert.rejects(startCluster({ name: 'second-node', node: true }), (error) => isLandlordError(error, 'LL_DEVCLUSTER_NODE_BUSY'));
  });
});
