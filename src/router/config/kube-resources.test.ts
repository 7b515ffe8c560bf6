/**
 * EndpointSlice version detection against a scripted discovery endpoint on 127.0.0.1: the local
 * cluster is Kubernetes 1.20 (v1beta1 only), so the v1 answer of current clusters is scripted.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { isLandlordError } from '../../shared/errors.ts';
import { detectEndpointSliceVersion } from './kube-resources.ts';

describe('detectEndpointSliceVersion', () => {
  let discoveryVersions: string[] = [];
  const server = http.createServer((request, response) => {
    if (!request.url?.startsWith('/apis')) return void response.writeHead(404).end();
    const versions = discoveryVersions.map((version) => ({ groupVersion: `discovery.k8s.io/${version}`, version }));
    const groups = [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }];
    if (versions[0]) groups.push({ name: 'discovery.k8s.io', versions, preferredVersion: versions[0] });
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups }));
  });
  let kubeConfig: KubeConfig;

  before(async () => {
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'scripted', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'anonymous' }],
      contexts: [{ name: 'scripted', cluster: 'scripted', user: 'anonymous' }],
      currentContext: 'scripted',
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const cases: [string, string[], string][] = [
    ['uses v1 where the cluster serves it (Kubernetes 1.21+)', ['v1', 'v1beta1'], 'v1'],
    ['uses v1 on clusters that no longer serve v1beta1 (1.25+)', ['v1'], 'v1'],
    ['falls back to v1beta1 on Kubernetes 1.20', ['v1beta1'], 'v1beta1'],
  ];
  for (const [title, versions, expected] of cases) {
    it(title, async () => {
      discoveryVersions = versions;
      assert.equal(await detectEndpointSliceVersion(kubeConfig), expected);
    });
  }

  it('refuses a cluster without EndpointSlices', async () => {
    discoveryVersions = [];
    await assert.rejects(detectEndpointSliceVersion(kubeConfig), (error) => isLandlordError(error, 'LL_ROUTER_KUBE_NO_ENDPOINTSLICES'));
  });
});
