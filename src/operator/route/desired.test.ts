import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sidecarPortName, type Route, type RouteSpec } from '../../api/route.ts';
import { desiredCertificateSecret, sidecarPlan, type ServiceLike } from './desired.ts';

const route = (spec: Partial<RouteSpec> = {}): Route => ({
  apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name: 'db', namespace: 'acme', uid: 'uid-1' },
  spec: { hostname: 'db.acme.example', protocol: 'tls', backend: { service: 'mysql', port: 3306 }, ...spec },
});
const backend = (selector?: Record<string, string>): ServiceLike => ({ metadata: { name: 'mysql', namespace: 'acme' }, spec: selector ? { selector } : {} });
const owner = { apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', name: 'db', uid: 'uid-1', controller: true, blockOwnerDeletion: true };
const routeLabels = { 'app.kubernetes.io/managed-by': 'landlord', 'landlord.dev/tenant': 'acme', 'landlord.dev/route': 'db' };

describe('desiredCertificateSecret', () => {
  it('is a kubernetes.io/tls Secret owned by the Route, in cert-manager layout', () => {
    const secret = desiredCertificateSecret(route(), 'acme', { certificate: 'LEAF\nCA\n', privateKey: 'KEY\n', ca: 'CA\n', crl: 'unused' });
    assert.deepEqual(secret, {
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: { name: 'landlord-tls-db', namespace: 'acme', labels: routeLabels, ownerReferences: [owner] },
      data: { 'tls.crt': Buffer.from('LEAF\nCA\n').toString('base64'), 'tls.key': Buffer.from('KEY\n').toString('base64'), 'ca.crt': Buffer.from('CA\n').toString('base64') },
    });
  });
});

describe('sidecarPlan', () => {
  const cases: Array<[string, Route, ServiceLike | undefined, string]> = [
    ['no Service for an http Route (ingress by default)', route({ protocol: 'http' }), backend({ app: 'x' }), 'none'],
    ['no Service for passthrough', route({ tls: { mode: 'passthrough' } }), backend({ app: 'x' }), 'none'],
    ['a Service for tls (sidecar by default)', route(), backend({ app: 'x' }), 'service'],
    ['a Service for postgres (sidecar by default)', route({ protocol: 'postgres' }), backend({ app: 'x' }), 'service'],
    ['a Service for an http Route that asks for a sidecar', route({ protocol: 'http', tls: { mode: 'sidecar' } }), backend({ app: 'x' }), 'service'],
    ['blocked without a backend Service', route(), undefined, 'blocked/BackendServiceNotFound'],
    ['blocked by a backend without selector', route(), backend(), 'blocked/BackendServiceHasNoSelector'],
    ['blocked by a backend with an empty selector', route(), backend({}), 'blocked/BackendServiceHasNoSelector'],
  ];
  for (const [name, subject, service, expected] of cases) {
    it(name, () => {
      const plan = sidecarPlan(subject, 'acme', service);
      assert.equal(plan.kind === 'blocked' ? `blocked/${plan.reason}` : plan.kind, expected);
    });
  }

  it('mirrors the backend selector into a headless Service whose port targets the sidecar port by name', () => {
    const plan = sidecarPlan(route(), 'acme', backend({ tier: 'db', app: 'mysql' }));
    assert.equal(plan.kind, 'service');
    assert.deepEqual(plan.kind === 'service' ? plan.service : undefined, {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'landlord-route-db', namespace: 'acme', labels: routeLabels, ownerReferences: [owner] },
      spec: {
        clusterIP: 'None',
        selector: { app: 'mysql', tier: 'db' },
        ports: [{ name: 'tls', protocol: 'TCP', port: 443, targetPort: sidecarPortName('db') }],
      },
    });
    assert.match(sidecarPortName('db'), /^ll-[0-9a-f]{10}$/);
  });
});
