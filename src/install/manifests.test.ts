import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restrictedViolations } from '../admission/index.ts';
import type { KubeObject } from '../operator/index.ts';
import { landlordEntrypoint } from '../shared/image.ts';
import { allObjects, componentNames, controllerNodeFlags, defaultHostPorts, genericPlatformOptions, platformManifests, type PlatformOptions } from './manifests.ts';

const local: PlatformOptions = { image: 'landlord.dev/landlord:dev', imagePullPolicy: 'Never', router: { kind: 'host-loopback', ports: defaultHostPorts }, replicas: 1, imageId: 'sha256:abc', routerSourceCidr: '10.244.0.1/32' };

type PodSpec = Parameters<typeof restrictedViolations>[0]['spec'];
interface Container { name: string; args: string[]; ports: Array<{ name: string; containerPort: number }>; readinessProbe: Record<string, { port?: unknown; host?: string }>; image: string; imagePullPolicy: string }

const deployments = (options: PlatformOptions): KubeObject[] => platformManifests(options).components.filter((o) => o.kind === 'Deployment');
interface TestPodSpec { containers: Container[]; serviceAccountName: string; hostNetwork?: boolean; dnsPolicy?: string; volumes?: unknown[] }
const podSpecOf = (deployment: KubeObject) => (deployment.spec as { template: { spec: TestPodSpec } }).template.spec;
const find = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind} ${name}`);
  return found;
};
const violationsOf = (deployment: KubeObject) =>
  restrictedViolations({ kind: 'Deployment', labels: {}, path: 'spec.template.spec', pointer: '/spec/template/spec', spec: podSpecOf(deployment) as unknown as PodSpec, annotations: {} }).map((v) => v.rule);

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
/** Whether the ClusterRole bound to `serviceAccount` allows `verb` on `group/resource`, as RBAC would judge it. */
function allows(objects: KubeObject[], serviceAccount: string, group: string, resource: string, verb: string): boolean {
  const binding = objects.find((o) => o.kind === 'ClusterRoleBinding' && (o.subjects as Array<{ name: string; namespace: string }>).some((s) => s.name === serviceAccount && s.namespace === 'landlord-system'));
  if (!binding) return false;
  const role = find(objects, 'ClusterRole', (binding.roleRef as { name: string }).name);
  return (role.rules as Rule[]).some((rule) => !rule.resourceNames && rule.apiGroups.includes(group) && rule.resources.includes(resource) && rule.verbs.includes(verb));
}

describe('platformManifests', () => {
  it("runs the operator with its node flags on the image's entrypoint, since Node refuses some of them in NODE_OPTIONS", () => {
    const container = podSpecOf(find(deployments(local), 'Deployment', componentNames.controller)).containers[0] as Container & { command?: string[]; env?: unknown };
    assert.deepEqual(container.command, [landlordEntrypoint.node, ...controllerNodeFlags, landlordEntrypoint.cli]);
    assert.equal(container.args[0], 'controller');
  });

  it('renders every component of the generic installation within the restricted pod security profile', () => {
    for (const deployment of deployments(genericPlatformOptions)) assert.deepEqual(violationsOf(deployment), [], deployment.metadata.name);
  });

  it('lets only the local router share the host network, and nothing else of the restricted profile', () => {
    for (const deployment of deployments(local)) {
      const expected = deployment.metadata.name === componentNames.router ? ['baseline/hostNamespaces'] : [];
      assert.deepEqual(violationsOf(deployment), expected, deployment.metadata.name);
    }
  });

  it('makes the local router listen on loopback host ports only, probed on loopback, replaced rather than surged', () => {
    const router = find(deployments(local), 'Deployment', componentNames.router);
    const spec = podSpecOf(router);
    assert.equal(spec.hostNetwork, true);
    assert.equal(spec.dnsPolicy, 'ClusterFirstWithHostNet');
    const args = spec.containers[0]!.args;
    for (const flag of ['--listen-tls', '--listen-http', '--listen-postgres', '--metrics']) assert.match(args[args.indexOf(flag) + 1] ?? '', /^127\.0\.0\.1:\d+$/, flag);
    assert.equal(args[args.indexOf('--listen-postgres') + 1], '127.0.0.1:15432');
    assert.equal(spec.containers[0]!.readinessProbe.httpGet?.host, '127.0.0.1');
    assert.deepEqual((router.spec as { strategy?: unknown }).strategy, { type: 'Recreate' });
  });

  it('puts the generic router behind a LoadBalancer Service that keeps client addresses', () => {
    const service = find(platformManifests(genericPlatformOptions).components, 'Service', componentNames.router);
    const spec = service.spec as { type: string; externalTrafficPolicy: string; ports: Array<{ port: number; targetPort: string }> };
    assert.equal(spec.type, 'LoadBalancer');
    assert.equal(spec.externalTrafficPolicy, 'Local');
    const router = podSpecOf(find(deployments(genericPlatformOptions), 'Deployment', componentNames.router)).containers[0]!;
    for (const port of spec.ports) assert.ok(router.ports.some((p) => p.name === port.targetPort), `${port.targetPort} is a container port`);
    assert.deepEqual(spec.ports.map((p) => p.port), [443, 80, 5432]);
  });

  it('points the webhook Service at the webhook container and mounts the operator-issued certificate', () => {
    const objects = platformManifests(genericPlatformOptions).components;
    const service = find(objects, 'Service', 'landlord-webhook');
    const webhook = podSpecOf(find(objects, 'Deployment', componentNames.webhook));
    const port = (service.spec as { ports: Array<{ port: number; targetPort: string }> }).ports[0]!;
    assert.equal(port.port, 443);
    assert.ok(webhook.containers[0]!.ports.some((p) => p.name === port.targetPort && p.containerPort === 8443));
    assert.deepEqual(webhook.volumes?.at(-1), { name: 'tls', secret: { secretName: 'landlord-webhook-tls' } });
  });

  it('probes each component on a port it declares', () => {
    for (const options of [genericPlatformOptions, local]) {
      for (const deployment of deployments(options)) {
        const container = podSpecOf(deployment).containers[0]!;
        const probe = container.readinessProbe.httpGet!;
        assert.ok(container.ports.some((p) => p.name === probe.port || p.containerPort === probe.port), `${deployment.metadata.name} probes ${String(probe.port)}`);
      }
    }
  });

  it('grants the webhook and the router what they read and write, and nothing to write for the webhook', () => {
    const objects = allObjects(platformManifests(genericPlatformOptions));
    const needs: Array<[string, string, string, string]> = [
      ['landlord-webhook', 'landlord.dev', 'tenants', 'get'], ['landlord-webhook', 'landlord.dev', 'routes', 'list'],
      ['landlord-webhook', '', 'namespaces', 'get'], ['landlord-webhook', '', 'services', 'list'],
      ['landlord-router', 'landlord.dev', 'routes', 'watch'], ['landlord-router', 'landlord.dev', 'tenants', 'watch'],
      ['landlord-router', '', 'namespaces', 'watch'], ['landlord-router', '', 'services', 'watch'],
      ['landlord-router', 'discovery.k8s.io', 'endpointslices', 'watch'], ['landlord-router', 'landlord.dev', 'routes/status', 'patch'],
      ['landlord-operator', 'landlord.dev', 'tenants', 'watch'], ['landlord-operator', 'coordination.k8s.io', 'leases', 'update'],
    ];
    for (const [account, group, resource, verb] of needs) assert.ok(allows(objects, account, group, resource, verb), `${account} may ${verb} ${group}/${resource}`);
    for (const verb of ['create', 'update', 'patch', 'delete']) assert.ok(!allows(objects, 'landlord-webhook', 'landlord.dev', 'routes', verb), `webhook may not ${verb} routes`);
  });

  it('runs each component under its own ServiceAccount from the chosen image and pull policy', () => {
    const objects = platformManifests(local).components;
    for (const deployment of deployments(local)) {
      const spec = podSpecOf(deployment);
      assert.ok(objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === spec.serviceAccountName) || spec.serviceAccountName === 'landlord-operator');
      assert.equal(spec.containers[0]!.image, 'landlord.dev/landlord:dev');
      assert.equal(spec.containers[0]!.imagePullPolicy, 'Never');
      assert.deepEqual((deployment.spec as { template: { metadata: { annotations?: object } } }).template.metadata.annotations, { 'landlord.dev/image-id': 'sha256:abc' });
    }
  });

  it('hands the chosen image and pull policy on to the tenant ingresses and the injected sidecars', () => {
    const args = (name: string) => podSpecOf(deployments(local).find((d) => d.metadata.name === name)!).containers[0]!.args.join(' ');
    assert.match(args(componentNames.controller), / --image landlord\.dev\/landlord:dev --image-pull-policy Never/);
    assert.match(args(componentNames.webhook), / --sidecar-image landlord\.dev\/landlord:dev --sidecar-image-pull-policy Never/);
  });

  it('refuses host ports below 1024, which a non-root router cannot bind', () => {
    assert.throws(() => platformManifests({ ...local, router: { kind: 'host-loopback', ports: { ...defaultHostPorts, tls: 443 } } }), /LL_INSTALL_PORT_INVALID|tls port 443/);
  });

  it('refuses two listeners on one host port', () => {
    assert.throws(() => platformManifests({ ...local, router: { kind: 'host-loopback', ports: { ...defaultHostPorts, http: 10443 } } }), /tls and http ports are both 10443/);
  });

  it('lists CRDs first and webhook configurations last, so each object can be applied in order', () => {
    const kinds = allObjects(platformManifests(genericPlatformOptions)).map((o) => o.kind);
    assert.deepEqual(kinds.slice(0, 2), ['CustomResourceDefinition', 'CustomResourceDefinition']);
    assert.deepEqual(kinds.slice(-2), ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    assert.ok(kinds.indexOf('Namespace') < kinds.indexOf('ServiceAccount'));
  });
});
