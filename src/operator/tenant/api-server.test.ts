import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../runtime/kube.ts';
import { apiServerEndpointsOf } from './api-server.ts';

const endpoints = (subsets: unknown): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default' }, subsets });

describe('the API server\'s endpoints, for the tenant ingress\'s egress policy', () => {
  it('lists every TCP address and port, sorted, once each', () => {
    assert.deepEqual(apiServerEndpointsOf(endpoints([
      { addresses: [{ ip: '10.0.0.3' }, { ip: '10.0.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
      { addresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'https', port: 6443 }, { name: 'dns', port: 53, protocol: 'UDP' }] },
    ])), [{ ip: '10.0.0.2', port: 6443 }, { ip: '10.0.0.3', port: 6443 }]);
  });

  it('gives none for a missing object, and skips what is malformed instead of throwing', () => {
    assert.deepEqual(apiServerEndpointsOf(undefined), []);
    assert.deepEqual(apiServerEndpointsOf(endpoints(undefined)), []);
    assert.deepEqual(apiServerEndpointsOf(endpoints([{ addresses: [{ ip: 7 }, {}], ports: [{ port: '6443' }] }, {}])), []);
  });
});
