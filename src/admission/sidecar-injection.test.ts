import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route, RouteSpec } from '../api/route.ts';
import { isLandlordError } from '../shared/errors.ts';
import type { MutationContext } from './defaults.ts';
import { mutate } from './review.ts';
import { denialMessage, type Decision, type KubeObject } from './review-types.ts';
import { defaultSidecarSettings, sidecarSettings, type NamespaceRoutes, type ServiceFact } from './sidecar-injection.ts';
import { applyPatch, compliantContainer, compliantPodSpec, request, workload } from './testing.ts';
import type { Container, PodSpec } from './workloads.ts';

/** Fixture builders: a MySQL pod labelled app=db, its Service, and Routes to it. */
function dbPod(edit: (spec: PodSpec) => void = () => undefined, labels: Record<string, string> = { app: 'db' }): KubeObject {
  const spec = compliantPodSpec();
  spec.containers = [{ ...compliantContainer('mysql'), ports: [{ name: 'mysql', containerPort: 3306 }] }];
  edit(spec);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-0', namespace: 'acme', labels }, spec };
}
function service(name = 'db', ports: ServiceFact['ports'] = [{ port: 3306, targetPort: 'mysql' }], selector: Record<string, string> | undefined = { app: 'db' }): ServiceFact {
  return { name, selector, ports };
}
function route(name: string, spec: Partial<RouteSpec> = {}): Pick<Route, 'metadata' | 'spec'> {
  return { metadata: { name, namespace: 'acme' }, spec: { hostname: `${name}.acme.example`, protocol: 'tls', backend: { service: 'db', port: 3306 }, ...spec } };
}
const facts = (routes: Array<Pick<Route, 'metadata' | 'spec'>>, services: ServiceFact[] = [service()]): NamespaceRoutes => ({ routes, services });

const containersOf = (object: KubeObject): Container[] => (object.spec as PodSpec).containers ?? [];
const sidecarsOf = (object: KubeObject): Container[] => containersOf(object).filter((c) => c.name?.startsWith('landlord-sidecar-'));

/** What a pod create comes out as: the sidecars' names and arguments, or the denial. */
function outcome(pod: KubeObject, context: MutationContext): string[] {
  const decision = mutate(request('CREATE', pod), context);
  if (!decision.allowed) return [`denied: ${denialMessage(decision.violations)}`];
  return sidecarsOf(applyPatch(pod, decision.patch ?? [])).map((c) => `${c.name ?? ''}: ${(c.args as string[]).join(' ')}`);
}

const base = '--trusted-proxy 10.244.0.1/32';
const sidecar0 = (app = 3306, rest = `--client-auth none ${base}`) => `landlord-sidecar-0: sidecar server --listen 0.0.0.0:8443 --app 127.0.0.1:${app} --cert-dir /var/run/landlord/tls-0 --status 0.0.0.0:9901 ${rest}`;

describe('TLS sidecar injection', () => {
  const cases: Array<{ name: string; pod?: KubeObject; context: MutationContext; expect: string[] }> = [
    { name: 'injects a sidecar for a sidecar Route whose backend Service selects the pod', context: { routes: facts([route('db', { tls: { mode: 'sidecar' } })]) }, expect: [sidecar0()] },
    { name: 'terminates tls Routes in a sidecar when the Route names no mode', context: { routes: facts([route('db')]) }, expect: [sidecar0()] },
    { name: 'adds --postgres for a postgres Route', context: { routes: facts([route('pg', { protocol: 'postgres' })]) }, expect: [sidecar0(3306, `--client-auth none ${base} --postgres`)] },
    { name: 'requires client certificates of the tenant for clientAuthentication required', context: { routes: facts([route('db', { tls: { clientAuthentication: 'required' } })]) }, expect: [sidecar0(3306, `--client-auth required --allow-any-identity ${base}`)] },
    {
      name: 'admits only the Route\'s allowed clients: SPIFFE IDs as URI SANs, other names as DNS SANs',
      context: { routes: facts([route('db', { tls: { clientAuthentication: 'required', allowedClients: ['spiffe://acme.landlord.local/ns/shop/sa/api', 'batch.acme.example'] } })]) },
      expect: [sidecar0(3306, `--client-auth required --allow-uri spiffe://acme.landlord.local/ns/shop/sa/api --allow-dns batch.acme.example ${base}`)],
    },
    {
      name: 'denies a pod selected by a Route that lists allowed clients without requiring client certificates',
      context: { routes: facts([route('db', { tls: { allowedClients: ['spiffe://acme.landlord.local/ns/shop/sa/api'] } })]) },
      expect: ['denied: sidecar/allowedClients: Route db selects this pod and lists spec.tls.allowedClients, but with clientAuthentication none the sidecar asks no client for a certificate: set clientAuthentication to required on the Route'],
    },
    { name: 'trusts PROXY v2 from the router source CIDR of the webhook settings', context: { routes: facts([route('db')]), sidecar: { ...defaultSidecarSettings, routerSourceCidr: '10.0.0.0/8' } }, expect: [sidecar0(3306, '--client-auth none --trusted-proxy 10.0.0.0/8')] },
    { name: 'numbers several sidecars in Route name order', context: { routes: facts([route('web'), route('api', { protocol: 'postgres' })]) }, expect: [
      `landlord-sidecar-0: sidecar server --listen 0.0.0.0:8443 --app 127.0.0.1:3306 --cert-dir /var/run/landlord/tls-0 --status 0.0.0.0:9901 --client-auth none ${base} --postgres`,
      `landlord-sidecar-1: sidecar server --listen 0.0.0.0:8444 --app 127.0.0.1:3306 --cert-dir /var/run/landlord/tls-1 --status 0.0.0.0:9902 --client-auth none ${base}`,
    ] },
    { name: 'resolves a numeric targetPort as it is', context: { routes: facts([route('db')], [service('db', [{ port: 3306, targetPort: 13306 }])]) }, expect: [sidecar0(13306)] },
    { name: 'takes the Service port itself when targetPort is unset', context: { routes: facts([route('db')], [service('db', [{ port: 3306 }])]) }, expect: [sidecar0(3306)] },
    { name: 'injects nothing into a pod the backend Service does not select', pod: dbPod(undefined, { app: 'web' }), context: { routes: facts([route('db')]) }, expect: [] },
    { name: 'injects nothing for a Service without a selector', context: { routes: facts([route('db')], [{ name: 'db', ports: [{ port: 3306, targetPort: 'mysql' }] }]) }, expect: [] },
    { name: 'injects nothing for a Route whose Service does not exist', context: { routes: facts([route('db')], []) }, expect: [] },
    { name: 'injects nothing for a passthrough Route', context: { routes: facts([route('db', { tls: { mode: 'passthrough' } })]) }, expect: [] },
    { name: 'injects nothing for an http Route, which the tenant ingress terminates', context: { routes: facts([route('web', { protocol: 'http' })]) }, expect: [] },
    { name: 'injects nothing when the Routes were not gathered', context: {}, expect: [] },
    { name: 'denies a pod selected by a Route with optional client authentication, naming the Route', context: { routes: facts([route('db', { tls: { clientAuthentication: 'optional' } })]) }, expect: [
      'denied: sidecar/clientAuthentication: Route db selects this pod with spec.tls.clientAuthentication optional, which the TLS sidecar does not support: set it to none or required on the Route',
    ] },
    { name: 'denies a pod on which the Service\u2019s named targetPort does not resolve', pod: dbPod((spec) => { spec.containers = [compliantContainer('mysql')]; }), context: { routes: facts([route('db')]) }, expect: [
      'denied: sidecar/backendPort: Route db: Service db port 3306 targets the port named "mysql", which no container of this pod declares; name the app\'s containerPort "mysql" or give the Service a numeric targetPort',
    ] },
    { name: 'denies a pod selected by a Route whose backend port the Service lacks', context: { routes: facts([route('db', { backend: { service: 'db', port: 5432 } })]) }, expect: [
      'denied: sidecar/backendPort: Route db: spec.backend.port 5432 is not a port of Service db (it has: 3306); fix the Route',
    ] },
    { name: 'denies a pod defining its own landlord-sidecar container', pod: dbPod((spec) => { spec.containers?.push(compliantContainer('landlord-sidecar-0')); }), context: { routes: facts([]) }, expect: [
      'denied: sidecar/reservedNames: spec.containers[1].name landlord-sidecar-0 is reserved for the TLS sidecars landlord injects: rename the container (a pod copied from a running one must drop its injected sidecars)',
    ] },
    { name: 'denies a pod defining its own ll-tls volume', pod: dbPod((spec) => { spec.volumes = [{ name: 'll-tls-0', emptyDir: {} }]; }), context: { routes: facts([route('db')]) }, expect: [
      'denied: sidecar/reservedNames: spec.volumes[0].name ll-tls-0 is reserved for the TLS sidecars landlord injects: rename the volume',
    ] },
    { name: 'denies an app declaring the port its sidecar listens on', pod: dbPod((spec) => { spec.containers?.[0]?.ports?.push({ name: 'https', containerPort: 8443 }); }), context: { routes: facts([route('db')]) }, expect: [
      'denied: sidecar/portConflict: spec.containers[0].ports[1].containerPort 8443 is a port of landlord\'s TLS sidecar in this pod: move the app to another port',
    ] },
  ];
  for (const { name, pod, context, expect } of cases) it(name, () => assert.deepEqual(outcome(pod ?? dbPod(), context), expect));

  it('builds the sidecar container and its certificate volume as the ADR 0004 contract says', () => {
    const pod = dbPod();
    const decision = mutate(request('CREATE', pod), { routes: facts([route('db', { tls: { secretName: 'own-cert' } })]) });
    const stored = applyPatch(pod, patchOf(decision));
    const [sidecar] = sidecarsOf(stored);
    assert.deepEqual(sidecar, {
      name: 'landlord-sidecar-0',
      image: 'landlord.dev/landlord:dev',
      imagePullPolicy: 'IfNotPresent',
      args: ['sidecar', 'server', '--listen', '0.0.0.0:8443', '--app', '127.0.0.1:3306', '--cert-dir', '/var/run/landlord/tls-0', '--status', '0.0.0.0:9901', '--client-auth', 'none', '--trusted-proxy', '10.244.0.1/32'],
      ports: [{ name: 'll-7bdc25d169', containerPort: 8443, protocol: 'TCP' }, { name: 'll-status-0', containerPort: 9901, protocol: 'TCP' }],
      readinessProbe: { httpGet: { path: '/_status', port: 'll-status-0' }, periodSeconds: 5 },
      resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
      securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
      volumeMounts: [{ name: 'll-tls-0', mountPath: '/var/run/landlord/tls-0', readOnly: true }],
    });
    assert.deepEqual((stored.spec as PodSpec).volumes, [{
      name: 'll-tls-0',
      projected: {
        sources: [
          { secret: { name: 'own-cert', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] } },
          { configMap: { name: 'landlord-tenant-ca', items: ['ca.crt', 'root.crt', 'ca.crl', 'root.crl'].map((key) => ({ key, path: key })) } },
        ],
      },
    }]);
  });

  it('mounts the Route certificate the operator issues when the Route names no Secret', () => {
    const pod = dbPod();
    const stored = applyPatch(pod, patchOf(mutate(request('CREATE', pod), { routes: facts([route('db')]) })));
    const volume = (stored.spec as PodSpec).volumes?.[0] as { projected: { sources: Array<{ secret?: { name: string } }> } };
    assert.equal(volume.projected.sources[0]?.secret?.name, 'landlord-tls-db');
  });

  it('injects each sidecar once when the pod comes back with its sidecars, defaulted by the API server', () => {
    const context = { routes: facts([route('db'), route('pg', { protocol: 'postgres' })]) };
    const first = applyPatch(dbPod(), patchOf(mutate(request('CREATE', dbPod()), context)));
    const defaulted = structuredClone(first);
    for (const container of containersOf(defaulted)) Object.assign(container, { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
    for (const volume of (defaulted.spec as PodSpec).volumes ?? []) (volume.projected as Record<string, unknown>).defaultMode = 420;
    assert.deepEqual(patchOf(mutate(request('CREATE', first), context)), []);
    assert.deepEqual(patchOf(mutate(request('CREATE', defaulted), context)), []);
    assert.deepEqual(sidecarsOf(defaulted).map((c) => c.name), ['landlord-sidecar-0', 'landlord-sidecar-1']);
  });

  it('refuses a copied pod whose sidecar no longer matches the Routes', () => {
    const stored = applyPatch(dbPod(), patchOf(mutate(request('CREATE', dbPod()), { routes: facts([route('db')]) })));
    const decision = mutate(request('CREATE', stored), { routes: facts([route('db', { protocol: 'postgres' })]) });
    assert.match(decision.allowed ? '' : denialMessage(decision.violations), /sidecar\/reservedNames: spec\.containers\[1\]\.name landlord-sidecar-0 is reserved/);
  });

  it('keeps the sidecar\u2019s pull policy while still forcing Always on the tenant\u2019s own containers', () => {
    const pod = dbPod((spec) => { spec.containers = spec.containers?.map((c) => ({ ...c, imagePullPolicy: 'IfNotPresent' })); });
    const context = { routes: facts([route('db')]) };
    const first = applyPatch(pod, patchOf(mutate(request('CREATE', pod), context)));
    const again = applyPatch(first, patchOf(mutate(request('CREATE', first), context)));
    assert.deepEqual(containersOf(again).map((c) => `${c.name ?? ''}=${c.imagePullPolicy ?? ''}`), ['mysql=Always', 'landlord-sidecar-0=IfNotPresent']);
  });

  it('leaves workload templates to their pods', () => {
    const deployment = workload('Deployment', dbPod().spec as PodSpec);
    (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels = { app: 'db' };
    const decision = mutate(request('CREATE', deployment), { routes: facts([route('db')]) });
    assert.deepEqual(patchOf(decision), []);
  });
});

describe('sidecar settings', () => {
  const refusals: Array<[string, Parameters<typeof sidecarSettings>[0], RegExp]> = [
    ['refuses an unknown pull policy', { image: 'x', imagePullPolicy: 'Sometimes', routerSourceCidr: '10.0.0.0/8' }, /--sidecar-image-pull-policy "Sometimes" is not a pull policy/],
    ['refuses a router source without a prefix length', { image: 'x', imagePullPolicy: 'Always', routerSourceCidr: '10.244.0.1' }, /--router-source-cidr "10.244.0.1" is not a CIDR/],
    ['refuses an IPv4 prefix longer than 32 bits', { image: 'x', imagePullPolicy: 'Always', routerSourceCidr: '10.244.0.1/33' }, /is not a CIDR/],
    ['refuses an empty image', { image: ' ', imagePullPolicy: 'Always', routerSourceCidr: 'fd00::/64' }, /--sidecar-image is empty/],
  ];
  for (const [name, input, message] of refusals) {
    it(name, () => assert.throws(() => sidecarSettings(input), (error: unknown) => isLandlordError(error, 'LL_ADMISSION_SIDECAR_SETTINGS_INVALID') && message.test(error.message)));
  }
  it('accepts the defaults', () => assert.deepEqual(sidecarSettings(defaultSidecarSettings), defaultSidecarSettings));
});

function patchOf(decision: Decision): Array<{ op: string; path: string; value?: unknown }> {
  assert.ok(decision.allowed, decision.allowed ? '' : denialMessage(decision.violations));
  return decision.patch ?? [];
}
