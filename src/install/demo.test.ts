import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restrictedViolations } from '../admission/index.ts';
import { demoObjects } from './demo.ts';

type PodSpec = Parameters<typeof restrictedViolations>[0]['spec'];
const demo = demoObjects({ app: 'landlord.dev/test-app:dev', database: 'landlord.dev/postgres:dev' });
const deployments = demo.workloads.filter((o) => o.kind === 'Deployment');
const podSpecOf = (o: (typeof deployments)[number]) => (o.spec as { template: { spec: PodSpec & { containers: Array<{ imagePullPolicy?: string }> } } }).template.spec;

describe('demoObjects', () => {
  it('runs the demo\u2019s pods within the restricted profile the webhook enforces in tenant namespaces', () => {
    for (const deployment of deployments) {
      assert.deepEqual(restrictedViolations({ kind: 'Deployment', labels: {}, path: 'spec.template.spec', pointer: '/spec/template/spec', spec: podSpecOf(deployment), annotations: {} }), [], deployment.metadata.name);
    }
  });

  it('runs imported images with pull policy Never, which the webhook keeps (it turns IfNotPresent into Always)', () => {
    for (const deployment of deployments) assert.deepEqual(podSpecOf(deployment).containers.map((c) => c.imagePullPolicy), ['Never']);
  });

  it('applies the Routes before the Deployments, so the sidecar is injected into the first pods', () => {
    const kinds = demo.workloads.map((o) => o.kind);
    assert.ok(kinds.lastIndexOf('Route') < kinds.indexOf('Deployment'));
  });

  it('puts every Route\u2019s hostname inside the demo tenant\u2019s domain and its backend on a Service it creates', () => {
    const domains = (demo.tenant.spec as { domains: string[] }).domains;
    for (const route of demo.workloads.filter((o) => o.kind === 'Route')) {
      const spec = route.spec as { hostname: string; backend: { service: string; port: number } };
      assert.ok(domains.some((domain) => spec.hostname.endsWith(domain.replace(/^\*/, ''))), spec.hostname);
      const service = demo.workloads.find((o) => o.kind === 'Service' && o.metadata.name === spec.backend.service);
      assert.ok((service?.spec as { ports: Array<{ port: number }> } | undefined)?.ports.some((p) => p.port === spec.backend.port), route.metadata.name);
    }
  });
});
