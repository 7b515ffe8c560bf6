import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../operator/index.ts';
import { caBundleSet, deploymentProgress, podTrouble } from './readiness.ts';

const deployment = (generation: number, replicas: number, status: Record<string, number>): KubeObject =>
  ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'landlord-webhook', generation }, spec: { replicas }, status });

describe('deploymentProgress', () => {
  const cases: Array<[string, KubeObject, { ready: number; desired: number; done: boolean }]> = [
    ['counts a fresh Deployment without status as not ready', deployment(1, 1, {}), { ready: 0, desired: 1, done: false }],
    ['is done when every replica of the observed generation is updated and available', deployment(2, 2, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), { ready: 2, desired: 2, done: true }],
    ['is not done while an old pod is still running beside the new ones', deployment(2, 1, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 2 }), { ready: 1, desired: 1, done: false }],
    ['ignores a status from before the latest change of the spec', deployment(3, 1, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }), { ready: 0, desired: 1, done: false }],
    ['is not done while an updated pod is not yet available', deployment(1, 1, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 }), { ready: 0, desired: 1, done: false }],
  ];
  for (const [name, object, expected] of cases) {
    it(name, () => assert.deepEqual(deploymentProgress(object), { name: 'landlord-webhook', ...expected }));
  }
});

describe('caBundleSet', () => {
  const configuration = (...bundles: Array<string | undefined>): KubeObject =>
    ({ apiVersion: 'v1', kind: 'X', metadata: { name: 'landlord-admission' }, webhooks: bundles.map((caBundle) => ({ clientConfig: caBundle === undefined ? {} : { caBundle } })) });
  it('is set when every webhook carries a bundle', () => assert.equal(caBundleSet(configuration('Y2E=', 'Y2E=')), true));
  it('is not set while one webhook has an empty bundle', () => assert.equal(caBundleSet(configuration('Y2E=', '')), false));
  it('is not set while one webhook has no bundle field', () => assert.equal(caBundleSet(configuration(undefined)), false));
  it('is not set for a configuration without webhooks', () => assert.equal(caBundleSet(configuration()), false));
});

describe('podTrouble', () => {
  const pod = (name: string, status: object): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, status });
  const event = (podName: string, reason: string, message: string, at: string): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Event', metadata: { name: `${podName}.${at}` }, type: 'Warning', reason, message, lastTimestamp: at, involvedObject: { kind: 'Pod', name: podName } });

  it('says when no pod exists yet', () => assert.equal(podTrouble([], []), 'no pod exists yet'));

  it('names the waiting reason and the latest warning of the first pod that is not ready', () => {
    const pods = [
      pod('ok', { phase: 'Running', containerStatuses: [{ name: 'c', ready: true }] }),
      pod('stuck', { phase: 'Pending', containerStatuses: [{ name: 'webhook', ready: false, state: { waiting: { reason: 'ContainerCreating' } } }] }),
    ];
    const events = [
      event('stuck', 'FailedScheduling', 'old', '2026-01-01T00:00:00Z'),
      event('stuck', 'FailedMount', 'secret "landlord-webhook-tls" not found', '2026-01-01T00:01:00Z'),
      event('ok', 'Unhealthy', 'not this pod', '2026-01-01T00:02:00Z'),
    ];
    assert.equal(podTrouble(pods, events), 'pod stuck: Pending; webhook ContainerCreating; FailedMount: secret "landlord-webhook-tls" not found');
  });

  it('reports restarts with the last exit of a crashing container', () => {
    const crashing = pod('crash', {
      phase: 'Running',
      containerStatuses: [{ name: 'router', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }],
    });
    assert.equal(podTrouble([crashing], []), 'pod crash: Running; router CrashLoopBackOff (back-off 40s); router restarted 3 times, last exit 1 Error');
  });
});
