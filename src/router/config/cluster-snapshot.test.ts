import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { snapshotFromCluster, type ClusterObjects, type EndpointSliceObject, type NamespaceObject, type RouteObject, type ServiceObject, type TenantObject } from './cluster-snapshot.ts';
import { translate } from './translate.ts';

/**
 * Fixture builders: objects as the API server returns them, with only the fields a case needs.
 * `route` is a passthrough Route unless a case says otherwise, so the backend is Service db itself.
 */
function tenant(name: string, domains: string[], created = '2026-01-01T00:00:00Z', namespaces?: string[]): TenantObject {
  return { metadata: { name, creationTimestamp: created }, spec: { owners: {}, domains, ...(namespaces ? { namespaces } : {}) } };
}
function namespace(name: string, tenantLabel?: string): NamespaceObject {
  return { metadata: { name, labels: tenantLabel ? { 'landlord.dev/tenant': tenantLabel } : {} } };
}
function route(ns: string, name: string, spec: Record<string, unknown> = {}, created = '2026-01-02T00:00:00Z'): RouteObject {
  return { metadata: { namespace: ns, name, generation: 1, creationTimestamp: created }, spec: { hostname: 'db.acme.example', protocol: 'tls', backend: { service: 'db', port: 443 }, tls: { mode: 'passthrough' }, ...spec } };
}
function service(ns: string, name: string, ports: { name?: string; port: number }[] = [{ name: 'https', port: 443 }]): ServiceObject {
  return { metadata: { namespace: ns, name }, spec: { ports } };
}
function slice(ns: string, serviceName: string, endpoints: { addresses: string[]; ready?: boolean }[], ports: { name?: string; port: number }[] = [{ name: 'https', port: 8443 }], addressType = 'IPv4'): EndpointSliceObject {
  return {
    metadata: { namespace: ns, name: `${serviceName}-${Math.random().toString(36).slice(2, 7)}`, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    endpoints: endpoints.map((e) => ({ addresses: e.addresses, conditions: e.ready === undefined ? {} : { ready: e.ready } })),
    ports,
  };
}
/** acme owns acme.example; namespace acme is its namespace; Service db has one ready endpoint. */
function cluster(extra: Partial<ClusterObjects> = {}): ClusterObjects {
  return {
    tenants: [tenant('acme', ['*.acme.example'])],
    namespaces: [namespace('acme', 'acme'), namespace('plain')],
    services: [service('acme', 'db')],
    endpointSlices: [slice('acme', 'db', [{ addresses: ['10.0.0.1'] }])],
    routes: [route('acme', 'db')],
    ...extra,
  };
}
const verdictOf = (objects: ClusterObjects, key = 'acme/db') => {
  const verdict = snapshotFromCluster(objects).verdicts.get(key);
  assert.ok(verdict, `no verdict for ${key}`);
  return `${verdict.accepted.reason}/${verdict.ready.reason}`;
};
const readyMessageOf = (objects: ClusterObjects, key = 'acme/db') => snapshotFromCluster(objects).verdicts.get(key)?.ready.message;
/** A sidecar Route `db` with the operator's Service landlord-route-db (port tls) and its slice. */
const sidecarMode = { routes: [route('acme', 'db', { tls: {} })], services: [service('acme', 'db'), service('acme', 'landlord-route-db', [{ name: 'tls', port: 443 }])] };
const sidecarSlice = (endpoints: { addresses: string[]; ready?: boolean }[]) => slice('acme', 'landlord-route-db', endpoints, [{ name: 'tls', port: 8443 }]);
/** An http Route served by acme's ingress, Service landlord-ingress (port tls) in acme's first namespace. */
const ingressMode = (namespace = 'acme') => ({
  routes: [route('acme', 'db', { protocol: 'http', tls: undefined })],
  services: [service('acme', 'db'), service(namespace, 'landlord-ingress', [{ name: 'tls', port: 443 }])],
  endpointSlices: [slice(namespace, 'landlord-ingress', [{ addresses: ['10.0.9.9'] }], [{ name: 'tls', port: 8443 }])],
});
const backendsOf = (objects: ClusterObjects) => snapshotFromCluster(objects).snapshot.routes.map((r) => `${r.hostname}->${r.backends.map((b) => `${b.host}:${b.port}`).join(',')}`);

describe('snapshotFromCluster: verdicts', () => {
  const cases: [string, Partial<ClusterObjects>, string][] = [
    ['accepts and routes a Route inside its tenant\u2019s zone', {}, 'Accepted/Routed'],
    ['accepts the bare zone name, since *.acme.example means the zone', { routes: [route('acme', 'db', { hostname: 'acme.example' })] }, 'Accepted/Routed'],
    ['accepts a wildcard hostname inside the zone', { routes: [route('acme', 'db', { hostname: '*.apps.acme.example' })] }, 'Accepted/Routed'],
    ['accepts a zone written without *.', { tenants: [tenant('acme', ['acme.example'])] }, 'Accepted/Routed'],
    ['refuses a hostname of another tenant\u2019s zone', { tenants: [tenant('acme', ['*.acme.example']), tenant('globex', ['globex.example'])], routes: [route('acme', 'db', { hostname: 'db.globex.example' })] }, 'HostnameNotInTenantDomains/NotAccepted'],
    ['refuses a name that merely ends like the zone', { routes: [route('acme', 'db', { hostname: 'evilacme.example' })] }, 'HostnameNotInTenantDomains/NotAccepted'],
    ['ignores a Route in a namespace without the tenant label', { namespaces: [namespace('acme')] }, 'NamespaceHasNoTenant/NotAccepted'],
    ['ignores a Route whose namespace names a Tenant that does not exist', { namespaces: [namespace('acme', 'ghost')] }, 'TenantNotFound/NotAccepted'],
    ['ignores a tenant field the Route sets itself', { namespaces: [namespace('acme')], routes: [route('acme', 'db', { tenant: 'acme' })] }, 'NamespaceHasNoTenant/NotAccepted'],
    ['refuses an unknown protocol', { routes: [route('acme', 'db', { protocol: 'udp' })] }, 'InvalidSpec/NotAccepted'],
    ['refuses an IP address as hostname', { routes: [route('acme', 'db', { hostname: '10.0.0.1' })] }, 'InvalidSpec/NotAccepted'],
    ['refuses a backend without a port', { routes: [route('acme', 'db', { backend: { service: 'db' } })] }, 'InvalidSpec/NotAccepted'],
    ['reports a missing Service', { services: [] }, 'Accepted/ServiceNotFound'],
    ['reports a Service port that does not exist', { routes: [route('acme', 'db', { backend: { service: 'db', port: 8443 } })] }, 'Accepted/ServicePortNotFound'],
    ['reports a Service without EndpointSlices', { endpointSlices: [] }, 'Accepted/NoReadyEndpoints'],
    ['reports a Service whose endpoints are all unready', { endpointSlices: [slice('acme', 'db', [{ addresses: ['10.0.0.1'], ready: false }])] }, 'Accepted/NoReadyEndpoints'],
    ['does not use a slice of the same Service name in another namespace', { endpointSlices: [slice('other', 'db', [{ addresses: ['10.0.0.1'] }])] }, 'Accepted/NoReadyEndpoints'],
    ['refuses an unknown TLS mode', { routes: [route('acme', 'db', { tls: { mode: 'edge' } })] }, 'InvalidSpec/NotAccepted'],
    ['routes a sidecar Route to the sidecar Service\u2019s endpoints', { ...sidecarMode, endpointSlices: [sidecarSlice([{ addresses: ['10.0.0.5'] }])] }, 'Accepted/Routed'],
    ['never routes a sidecar Route to the backend Service itself', { ...sidecarMode, services: [service('acme', 'db')] }, 'Accepted/SidecarServiceNotFound'],
    ['reports a sidecar Route whose pods carry no sidecar yet', sidecarMode, 'Accepted/NoSidecarEndpoints'],
    ['reports a sidecar Route whose sidecars are not ready', { ...sidecarMode, endpointSlices: [sidecarSlice([{ addresses: ['10.0.0.5'], ready: false }])] }, 'Accepted/NoSidecarEndpoints'],
    ['routes an http Route to the tenant ingress', ingressMode(), 'Accepted/Routed'],
    ['reports an ingress Route while the tenant ingress Service is missing', { ...ingressMode(), services: [service('acme', 'db')] }, 'Accepted/TenantIngressNotReady'],
    ['reports an ingress Route while the tenant ingress has no ready endpoints', { ...ingressMode(), endpointSlices: [] }, 'Accepted/TenantIngressNotReady'],
    ['finds the tenant ingress in the tenant\u2019s first namespace', { ...ingressMode('acme-web'), tenants: [tenant('acme', ['*.acme.example'], undefined, ['acme-web', 'acme'])], namespaces: [namespace('acme', 'acme'), namespace('acme-web', 'acme')] }, 'Accepted/Routed'],
    ['never uses an ingress in a namespace of another tenant', { ...ingressMode('globex'), tenants: [tenant('acme', ['*.acme.example'], undefined, ['globex']), tenant('globex', ['globex.example'])], namespaces: [namespace('acme', 'acme'), namespace('globex', 'globex')] }, 'Accepted/TenantIngressNotReady'],
    ['does not serve a Tenant whose zone nests in an older Tenant\u2019s', { tenants: [tenant('globex', ['example'], '2025-01-01T00:00:00Z'), tenant('acme', ['*.acme.example'])] }, 'TenantDomainsConflict/NotAccepted'],
  ];
  for (const [title, extra, expected] of cases) it(title, () => assert.equal(verdictOf(cluster(extra)), expected));

  it('gives a hostname to the older of two Routes claiming it', () => {
    const objects = cluster({ routes: [route('acme', 'db', {}, '2026-01-03T00:00:00Z'), route('acme', 'first', {}, '2026-01-02T00:00:00Z')] });
    assert.equal(verdictOf(objects, 'acme/first'), 'Accepted/Routed');
    assert.equal(verdictOf(objects, 'acme/db'), 'HostnameConflict/NotAccepted');
  });

  it('lets a tls and a postgres Route share a hostname (different listeners)', () => {
    const objects = cluster({ routes: [route('acme', 'db'), route('acme', 'pg', { protocol: 'postgres' })] });
    assert.equal(verdictOf(objects, 'acme/pg'), 'Accepted/Routed');
    assert.equal(verdictOf(objects), 'Accepted/Routed');
  });

  it('states the address clients connect to, by listener', () => {
    const { verdicts } = snapshotFromCluster(cluster({ routes: [route('acme', 'db'), route('acme', 'pg', { protocol: 'postgres' })] }));
    assert.equal(verdicts.get('acme/db')?.address, 'db.acme.example:443');
    assert.equal(verdicts.get('acme/pg')?.address, 'db.acme.example:5432');
  });

  const messages: [string, Partial<ClusterObjects>, string][] = [
    ['tells the user the operator has not created the sidecar Service', { ...sidecarMode, services: [service('acme', 'db')] }, 'the operator has not created Service acme/landlord-route-db (port tls) for this sidecar Route yet; if this persists, check the operator and the Route\'s other conditions'],
    ['tells the user to restart pods started before the Route', sidecarMode, 'no pod behind Service acme/landlord-route-db carries the landlord sidecar: pods started before the Route need a restart (kubectl -n acme rollout restart deployment/<name>); new pods get it'],
    ['tells the user the tenant ingress is not ready', { ...ingressMode(), endpointSlices: [] }, 'tenant ingress not ready: Service acme/landlord-ingress has no ready endpoints; check Deployment landlord-ingress in namespace acme'],
  ];
  for (const [title, extra, expected] of messages) it(title, () => assert.equal(readyMessageOf(cluster(extra)), expected));

  it('tells the user how to fix a hostname outside the tenant\u2019s domains', () => {
    const verdict = snapshotFromCluster(cluster({ routes: [route('acme', 'db', { hostname: 'x.other.example' })] })).verdicts.get('acme/db');
    assert.match(verdict?.accepted.message ?? '', /x\.other\.example is outside the domains of tenant acme \(acme\.example\)/);
  });
});

describe('snapshotFromCluster: endpoints', () => {
  const cases: [string, Partial<ClusterObjects>, string[]][] = [
    ['dials the slice\u2019s target port, not the Service port', {}, ['db.acme.example->10.0.0.1:8443']],
    ['keeps endpoints whose ready condition is absent and drops unready ones', { endpointSlices: [slice('acme', 'db', [{ addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.3'], ready: false }, { addresses: ['10.0.0.1'], ready: true }])] }, ['db.acme.example->10.0.0.1:8443,10.0.0.2:8443']],
    ['picks the slice port named like the Service port', { services: [service('acme', 'db', [{ name: 'metrics', port: 9090 }, { name: 'https', port: 443 }])], endpointSlices: [slice('acme', 'db', [{ addresses: ['10.0.0.1'] }], [{ name: 'metrics', port: 9091 }, { name: 'https', port: 8443 }])] }, ['db.acme.example->10.0.0.1:8443']],
    ['matches an unnamed single Service port to the unnamed slice port', { services: [service('acme', 'db', [{ port: 443 }])], endpointSlices: [slice('acme', 'db', [{ addresses: ['10.0.0.1'] }], [{ port: 9443 }])] }, ['db.acme.example->10.0.0.1:9443']],
    ['merges several slices and removes duplicate endpoints', { endpointSlices: [slice('acme', 'db', [{ addresses: ['10.0.0.2'] }]), slice('acme', 'db', [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }])] }, ['db.acme.example->10.0.0.1:8443,10.0.0.2:8443']],
    ['ignores FQDN slices', { endpointSlices: [slice('acme', 'db', [{ addresses: ['db.example.net'] }], undefined, 'FQDN'), slice('acme', 'db', [{ addresses: ['fd00::1'] }], undefined, 'IPv6')] }, ['db.acme.example->fd00::1:8443']],
    ['leaves out a Route without ready endpoints', { endpointSlices: [] }, []],
    ['leaves out a Route outside its tenant\u2019s domains', { routes: [route('acme', 'db', { hostname: 'db.other.example' })] }, []],
  ];
  for (const [title, extra, expected] of cases) it(title, () => assert.deepEqual(backendsOf(cluster(extra)), expected));
});

describe('snapshotFromCluster: PROXY protocol by TLS mode', () => {
  const proxyOf = (objects: ClusterObjects) => snapshotFromCluster(objects).snapshot.routes.map((r) => `${r.backends.map((b) => `${b.host}:${b.port}`).join(',')} ${r.proxyProtocol}`);
  const cases: [string, Partial<ClusterObjects>, string[]][] = [
    ['sends PROXY v2 to the sidecar even when the Route does not ask', { ...sidecarMode, endpointSlices: [sidecarSlice([{ addresses: ['10.0.0.5'] }])] }, ['10.0.0.5:8443 v2']],
    ['sends PROXY v2 to the tenant ingress', ingressMode(), ['10.0.9.9:8443 v2']],
    ['sends no PROXY header to a passthrough app that does not ask', {}, ['10.0.0.1:8443 none']],
    ['sends PROXY v2 to a passthrough app that asks', { routes: [route('acme', 'db', { proxyProtocol: true })] }, ['10.0.0.1:8443 v2']],
  ];
  for (const [title, extra, expected] of cases) it(title, () => assert.deepEqual(proxyOf(cluster(extra)), expected));
});

describe('snapshotFromCluster: the snapshot', () => {
  it('maps a tenant zone to the zone and every name below it', () => {
    assert.deepEqual(snapshotFromCluster(cluster()).snapshot.tenants.map((t) => [t.name, t.domains]), [['acme', ['acme.example', '*.acme.example']]]);
  });

  it('takes the tenant from the namespace label and PROXY protocol from the Route', () => {
    const [spec] = snapshotFromCluster(cluster({ routes: [route('acme', 'db', { proxyProtocol: true })] })).snapshot.routes;
    assert.equal(spec?.tenant, 'acme');
    assert.equal(spec?.proxyProtocol, 'v2');
    assert.equal(spec?.source, 'acme/db');
  });

  it('serves an http Route on the TLS listener and redirects plain HTTP to HTTPS', () => {
    const [spec] = snapshotFromCluster(cluster({ routes: [route('acme', 'db', { protocol: 'http' })] })).snapshot.routes;
    assert.equal(spec?.protocol, 'tls');
    assert.deepEqual(spec?.http, { backends: [], redirectToHttps: true });
  });

  it('always produces a snapshot translate accepts, even with conflicting Tenants and Routes', () => {
    const objects = cluster({
      tenants: [tenant('acme', ['*.acme.example']), tenant('copycat', ['acme.example']), tenant('bad', ['not a zone'])],
      namespaces: [namespace('acme', 'acme'), namespace('copycat', 'copycat')],
      services: [service('acme', 'db'), service('copycat', 'db')],
      endpointSlices: [slice('acme', 'db', [{ addresses: ['10.0.0.1'] }]), slice('copycat', 'db', [{ addresses: ['10.0.0.9'] }])],
      routes: [route('acme', 'db'), route('acme', 'again'), route('copycat', 'db')],
    });
    const result = translate(snapshotFromCluster(objects).snapshot, 1);
    assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues));
    assert.deepEqual(backendsOf(objects), ['db.acme.example->10.0.0.1:8443']);
  });

  it('builds one route per Route for a thousand Routes', () => {
    const routes = Array.from({ length: 1000 }, (_, i) => route('acme', `r${i}`, { hostname: `r${i}.acme.example` }));
    assert.equal(snapshotFromCluster(cluster({ routes })).snapshot.routes.length, 1000);
  });
});
