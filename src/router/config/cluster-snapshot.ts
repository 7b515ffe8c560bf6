/**
 * snapshotFromCluster(objects): the Kubernetes provider's pure step. It turns the cached Routes,
 * Tenants, Namespaces, Services and EndpointSlices into the router's `RoutingSnapshot` plus one
 * verdict per Route (what its status conditions must say). No I/O, no clock.
 *
 * Security stance, fails closed:
 * - a Route's tenant is its namespace's `landlord.dev/tenant` label, never anything the Route says;
 *   Routes in namespaces without that label, or whose Tenant does not exist, are not routed;
 * - a Route is routed only when its hostname lies inside one of its tenant's zones;
 * - a Tenant whose zones overlap an older Tenant's is not served at all (admission should have
 *   refused it), so one bad Tenant cannot make `translate` reject the whole cluster's table;
 * - two Routes claiming the same hostname on the same listener: the older one keeps it.
 * Everything that reaches the snapshot is therefore translatable; a Route that is accepted but has
 * no ready endpoint is left out (the listener answers as for an unknown name).
 *
 * Backends by TLS mode (docs/adr/0004-routes-end-to-end.md), never a plaintext app port unless the
 * Route says `passthrough`:
 * - `sidecar`: the endpoints of the operator's Service `landlord-route-<route>` port `tls`, which
 *   only pods carrying the injected sidecar resolve; always PROXY v2;
 * - `ingress`: the endpoints of Service `landlord-ingress` port `tls` in the tenant's first
 *   namespace; always PROXY v2;
 * - `passthrough`: the backend Service's endpoints; PROXY v2 only when the Route asks.
 */
import { labels } from '../../api/meta.ts';
import { effectiveTlsMode, routeServicePortName, routeSidecarServiceName, tenantIngressName, type TlsMode } from '../../api/route.ts';
import type { Endpoint, RouteSpec, RoutingSnapshot, TenantSpec } from './ir.ts';
import { parseHostnamePattern } from './translate.ts';

/** The fields of each object that routing reads; typed client objects and raw JSON both fit. */
export interface ObjectMetadata {
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
  readonly generation?: number | undefined;
  readonly creationTimestamp?: string | Date | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

export interface RouteObject {
  readonly metadata?: ObjectMetadata | undefined;
  /** Untrusted: the CRD may preserve unknown fields, so every field is checked here. */
  readonly spec?: unknown;
}

export interface TenantObject {
  readonly metadata?: ObjectMetadata | undefined;
  readonly spec?: unknown;
}

export interface NamespaceObject {
  readonly metadata?: ObjectMetadata | undefined;
}

export interface ServicePortObject {
  readonly name?: string | undefined;
  readonly port?: number | undefined;
}

export interface ServiceObject {
  readonly metadata?: ObjectMetadata | undefined;
  readonly spec?: { readonly ports?: readonly ServicePortObject[] | undefined } | undefined;
}

export interface EndpointSliceObject {
  readonly metadata?: ObjectMetadata | undefined;
  readonly addressType?: string | undefined;
  readonly endpoints?: ReadonlyArray<{ readonly addresses?: readonly string[] | undefined; readonly conditions?: { readonly ready?: boolean | undefined } | undefined }> | undefined;
  readonly ports?: ReadonlyArray<{ readonly name?: string | undefined; readonly port?: number | undefined }> | undefined;
}

export interface ClusterObjects {
  readonly routes: readonly RouteObject[];
  readonly tenants: readonly TenantObject[];
  readonly namespaces: readonly NamespaceObject[];
  readonly services: readonly ServiceObject[];
  readonly endpointSlices: readonly EndpointSliceObject[];
}

/** Why a Route is (not) accepted: whether it may claim its hostname at all. */
export type AcceptedReason = 'Accepted' | 'InvalidSpec' | 'NamespaceHasNoTenant' | 'TenantNotFound' | 'TenantDomainsConflict' | 'HostnameNotInTenantDomains' | 'HostnameConflict';
/** Why a Route is (not) ready: whether the router forwards its hostname to endpoints now. */
export type ReadyReason = 'Routed' | 'NotAccepted' | 'ServiceNotFound' | 'ServicePortNotFound' | 'NoReadyEndpoints' | 'SidecarServiceNotFound' | 'NoSidecarEndpoints' | 'TenantIngressNotReady';

export interface ConditionVerdict<Reason extends string> {
  readonly status: boolean;
  readonly reason: Reason;
  /** For people: what is wrong and how to fix it. */
  readonly message: string;
}

export interface RouteVerdict {
  readonly accepted: ConditionVerdict<AcceptedReason>;
  readonly ready: ConditionVerdict<ReadyReason>;
  /** Where clients connect (`hostname:port`), present once the Route is accepted. */
  readonly address: string | undefined;
}

export interface ClusterSnapshot {
  readonly snapshot: RoutingSnapshot;
  /** By `namespace/name`, for every Route given. */
  readonly verdicts: ReadonlyMap<string, RouteVerdict>;
}

/** The public port of each listener, for `status.address`. */
export interface AdvertisedPorts {
  readonly tls: number;
  readonly postgres: number;
}

export const defaultAdvertisedPorts: AdvertisedPorts = { tls: 443, postgres: 5432 };

/** The label the EndpointSlice controller (and anyone writing slices for a Service) sets. */
const serviceNameLabel = 'kubernetes.io/service-name';

interface ValidRouteSpec {
  readonly hostname: string;
  readonly protocol: 'tls' | 'http' | 'postgres';
  readonly service: string;
  readonly port: number;
  readonly proxyProtocol: boolean;
  readonly tlsMode: TlsMode;
}

interface ServedTenant {
  readonly spec: TenantSpec;
  readonly zones: readonly string[];
  /** Where the tenant's ingress runs: `spec.namespaces[0]`, default the tenant's name. */
  readonly ingressNamespace: string;
}

type TenantResolution = { readonly kind: 'served'; readonly tenant: ServedTenant } | { readonly kind: 'conflict'; readonly message: string };

const keyOf = (metadata: ObjectMetadata | undefined): string => `${metadata?.namespace ?? ''}/${metadata?.name ?? ''}`;

const createdAt = (metadata: ObjectMetadata | undefined): string => {
  const value = metadata?.creationTimestamp;
  return value instanceof Date ? value.toISOString() : (value ?? '');
};

/** Oldest first, then by name: the order in which claims (zones, hostnames) are granted. */
function byAge<T extends { readonly metadata?: ObjectMetadata | undefined }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => createdAt(a.metadata).localeCompare(createdAt(b.metadata)) || keyOf(a.metadata).localeCompare(keyOf(b.metadata)));
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const isPortNumber = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;

/** The Route spec if it is usable, else a message naming the bad field. */
function validRouteSpec(spec: unknown): ValidRouteSpec | string {
  if (!isRecord(spec)) return 'spec is missing';
  const { hostname, protocol, backend, proxyProtocol, tls } = spec;
  if (typeof hostname !== 'string') return 'spec.hostname must be a string';
  const pattern = parseHostnamePattern(hostname);
  if (typeof pattern === 'string') return `spec.hostname: ${pattern}`;
  if (protocol !== 'tls' && protocol !== 'http' && protocol !== 'postgres') return `spec.protocol must be tls, http or postgres, got ${JSON.stringify(protocol)}`;
  if (!isRecord(backend) || typeof backend.service !== 'string' || backend.service === '') return 'spec.backend.service must name a Service';
  const port = backend.port;
  if (!isPortNumber(port)) return 'spec.backend.port must be a port number of the Service';
  if (proxyProtocol !== undefined && typeof proxyProtocol !== 'boolean') return 'spec.proxyProtocol must be true or false';
  const tlsMode = validTlsMode(protocol, tls);
  if (typeof tlsMode === 'string') return tlsMode;
  return { hostname: pattern.text, protocol, service: backend.service, port, proxyProtocol: proxyProtocol === true, tlsMode: tlsMode.mode };
}

const tlsModes: readonly TlsMode[] = ['sidecar', 'ingress', 'passthrough'];
const isTlsMode = (value: unknown): value is TlsMode => tlsModes.some((mode) => mode === value);

/** `spec.tls.mode`, else the protocol's default (ADR 0004), or a message naming the bad field. */
function validTlsMode(protocol: ValidRouteSpec['protocol'], tls: unknown): { readonly mode: TlsMode } | string {
  if (tls !== undefined && !isRecord(tls)) return 'spec.tls must be an object';
  const mode = tls?.mode;
  if (mode === undefined) return { mode: effectiveTlsMode({ protocol }) };
  return isTlsMode(mode) ? { mode } : `spec.tls.mode must be sidecar, ingress or passthrough, got ${JSON.stringify(mode)}`;
}

/** A Tenant's zones (`*.acme.example` and `acme.example` both mean acme.example), or a message. */
function tenantZones(spec: unknown): string[] | string {
  const domains = isRecord(spec) ? spec.domains : undefined;
  if (!Array.isArray(domains)) return 'spec.domains is missing';
  const zones: string[] = [];
  for (const domain of domains) {
    const pattern = typeof domain === 'string' ? parseHostnamePattern(domain.startsWith('*.') ? domain.slice(2) : domain) : 'not a string';
    if (typeof pattern === 'string') return `spec.domains: ${JSON.stringify(domain)} is not a DNS zone`;
    if (!zones.includes(pattern.name)) zones.push(pattern.name);
  }
  return zones;
}

const inZone = (name: string, zone: string): boolean => name === zone || name.endsWith(`.${zone}`);
const zonesOverlap = (a: string, b: string): boolean => inZone(a, b) || inZone(b, a);

/** Grants zones oldest Tenant first; a Tenant overlapping an already granted zone is not served. */
function resolveTenants(tenants: readonly TenantObject[]): Map<string, TenantResolution> {
  const resolved = new Map<string, TenantResolution>();
  const granted: { zone: string; tenant: string }[] = [];
  for (const object of byAge(tenants)) {
    const name = object.metadata?.name ?? '';
    const zones = tenantZones(object.spec);
    if (typeof zones === 'string') {
      resolved.set(name, { kind: 'conflict', message: `Tenant ${name} is not served: ${zones}` });
      continue;
    }
    const clash = granted.find((g) => zones.some((zone) => zonesOverlap(zone, g.zone)));
    if (clash) {
      resolved.set(name, { kind: 'conflict', message: `Tenant ${name} is not served: its domains overlap ${clash.zone} of tenant ${clash.tenant}; a platform administrator must fix the Tenants` });
      continue;
    }
    for (const zone of zones) granted.push({ zone, tenant: name });
    const domains = zones.flatMap((zone) => [zone, `*.${zone}`]);
    const namespaces = isRecord(object.spec) && Array.isArray(object.spec.namespaces) ? (object.spec.namespaces as unknown[]) : [];
    const ingressNamespace = typeof namespaces[0] === 'string' ? namespaces[0] : name;
    resolved.set(name, { kind: 'served', tenant: { zones, ingressNamespace, spec: { source: `Tenant ${name}`, name, domains, maxConnections: undefined, newConnectionsPerSecond: undefined } } });
  }
  return resolved;
}

/**
 * The endpoints behind a Service port: slices labelled with the Service's name, the slice port
 * whose name equals the Service port's name (how kube-proxy maps port → targetPort). `ready`:
 * every address of an endpoint not marked unready, deduplicated and sorted; `unready`: how many
 * addresses are marked unready.
 */
function endpointsOf(slices: readonly EndpointSliceObject[], servicePortName: string): { ready: Endpoint[]; unready: number } {
  const seen = new Map<string, Endpoint>();
  let unready = 0;
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = slice.ports?.find((p) => (p.name ?? '') === servicePortName)?.port;
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) unready += endpoint.addresses?.length ?? 0;
      else for (const host of endpoint.addresses ?? []) seen.set(`${host} ${port}`, { host, port });
    }
  }
  return { ready: [...seen.values()].sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port), unready };
}

interface Indexes {
  readonly namespaceTenant: ReadonlyMap<string, string | undefined>;
  readonly tenants: ReadonlyMap<string, TenantResolution>;
  readonly services: ReadonlyMap<string, ServiceObject>;
  readonly slicesByService: ReadonlyMap<string, EndpointSliceObject[]>;
}

function indexCluster(objects: ClusterObjects): Indexes {
  const slicesByService = new Map<string, EndpointSliceObject[]>();
  for (const slice of objects.endpointSlices) {
    const service = slice.metadata?.labels?.[serviceNameLabel];
    if (service === undefined) continue;
    const key = `${slice.metadata?.namespace ?? ''}/${service}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
  }
  return {
    namespaceTenant: new Map(objects.namespaces.map((ns) => [ns.metadata?.name ?? '', ns.metadata?.labels?.[labels.tenant]])),
    tenants: resolveTenants(objects.tenants),
    services: new Map(objects.services.map((service) => [keyOf(service.metadata), service])),
    slicesByService,
  };
}

const notAccepted = (reason: AcceptedReason, message: string): RouteVerdict => ({
  accepted: { status: false, reason, message },
  ready: { status: false, reason: 'NotAccepted', message: 'the Route is not accepted; see the Accepted condition' },
  address: undefined,
});

/** Acceptance: the namespace's tenant exists, is served, and owns the hostname. */
function acceptance(route: RouteObject, spec: ValidRouteSpec | string, indexes: Indexes): { tenant: ServedTenant; spec: ValidRouteSpec } | RouteVerdict {
  if (typeof spec === 'string') return notAccepted('InvalidSpec', `${spec}; fix the Route`);
  const namespace = route.metadata?.namespace ?? '';
  const tenantName = indexes.namespaceTenant.get(namespace);
  if (tenantName === undefined) return notAccepted('NamespaceHasNoTenant', `namespace ${namespace} has no ${labels.tenant} label; create Routes in a tenant namespace`);
  const tenant = indexes.tenants.get(tenantName);
  if (tenant === undefined) return notAccepted('TenantNotFound', `Tenant ${tenantName} (the ${labels.tenant} label of namespace ${namespace}) does not exist`);
  if (tenant.kind === 'conflict') return notAccepted('TenantDomainsConflict', tenant.message);
  const name = spec.hostname.startsWith('*.') ? spec.hostname.slice(2) : spec.hostname;
  if (!tenant.tenant.zones.some((zone) => inZone(name, zone))) {
    return notAccepted('HostnameNotInTenantDomains', `${spec.hostname} is outside the domains of tenant ${tenantName} (${tenant.tenant.zones.join(', ')}); use a name inside them or ask an administrator to add the domain`);
  }
  return { tenant: tenant.tenant, spec };
}

const notReady = (reason: ReadyReason, message: string): ConditionVerdict<ReadyReason> => ({ status: false, reason, message });

/** Where an accepted Route's TLS goes, by its TLS mode: ready endpoints, or why there are none and what to do. */
function resolveBackends(route: RouteObject, spec: ValidRouteSpec, tenant: ServedTenant, indexes: Indexes): Endpoint[] | ConditionVerdict<ReadyReason> {
  const namespace = route.metadata?.namespace ?? '';
  if (spec.tlsMode === 'sidecar') return sidecarBackends(namespace, route.metadata?.name ?? '', indexes);
  if (spec.tlsMode === 'ingress') return ingressBackends(tenant, indexes);
  return passthroughBackends(namespace, spec, indexes);
}

/** `passthrough`: the backend Service's own port, numbered `spec.backend.port`. */
function passthroughBackends(namespace: string, spec: ValidRouteSpec, indexes: Indexes): Endpoint[] | ConditionVerdict<ReadyReason> {
  const service = indexes.services.get(`${namespace}/${spec.service}`);
  if (!service) return notReady('ServiceNotFound', `Service ${namespace}/${spec.service} does not exist; create it or fix spec.backend.service`);
  const servicePort = service.spec?.ports?.find((p) => p.port === spec.port);
  if (!servicePort) {
    const ports = (service.spec?.ports ?? []).map((p) => p.port).join(', ');
    return notReady('ServicePortNotFound', `Service ${namespace}/${spec.service} has no port ${spec.port} (it has: ${ports || 'none'}); fix spec.backend.port`);
  }
  const { ready } = endpointsOf(indexes.slicesByService.get(`${namespace}/${spec.service}`) ?? [], servicePort.name ?? '');
  if (ready.length === 0) return notReady('NoReadyEndpoints', `Service ${namespace}/${spec.service} port ${spec.port} has no ready endpoints; check that its pods are running and ready`);
  return ready;
}

/** `sidecar`: the operator's Service for the Route, whose `tls` port only pods with the injected sidecar resolve. */
function sidecarBackends(namespace: string, routeName: string, indexes: Indexes): Endpoint[] | ConditionVerdict<ReadyReason> {
  const name = routeSidecarServiceName(routeName);
  const service = indexes.services.get(`${namespace}/${name}`);
  if (!service?.spec?.ports?.some((p) => p.name === routeServicePortName)) {
    return notReady('SidecarServiceNotFound', `the operator has not created Service ${namespace}/${name} (port ${routeServicePortName}) for this sidecar Route yet; if this persists, check the operator and the Route's other conditions`);
  }
  const { ready, unready } = endpointsOf(indexes.slicesByService.get(`${namespace}/${name}`) ?? [], routeServicePortName);
  if (ready.length > 0) return ready;
  if (unready > 0) {
    return notReady('NoSidecarEndpoints', `the landlord sidecars behind Service ${namespace}/${name} are not ready; check their pods (kubectl -n ${namespace} describe pod): the certificate Secret must exist and the app must accept connections on its port`);
  }
  return notReady('NoSidecarEndpoints', `no pod behind Service ${namespace}/${name} carries the landlord sidecar: pods started before the Route need a restart (kubectl -n ${namespace} rollout restart deployment/<name>); new pods get it`);
}

/** `ingress`: the tenant's ingress Service in its first namespace, which must belong to the tenant. */
function ingressBackends(tenant: ServedTenant, indexes: Indexes): Endpoint[] | ConditionVerdict<ReadyReason> {
  const namespace = tenant.ingressNamespace;
  const where = `Service ${namespace}/${tenantIngressName}`;
  const service = indexes.namespaceTenant.get(namespace) === tenant.spec.name ? indexes.services.get(`${namespace}/${tenantIngressName}`) : undefined;
  if (!service?.spec?.ports?.some((p) => p.name === routeServicePortName)) {
    return notReady('TenantIngressNotReady', `tenant ingress not ready: ${where} (port ${routeServicePortName}) does not exist yet; the operator creates it for tenant ${tenant.spec.name}`);
  }
  const { ready } = endpointsOf(indexes.slicesByService.get(`${namespace}/${tenantIngressName}`) ?? [], routeServicePortName);
  if (ready.length === 0) {
    return notReady('TenantIngressNotReady', `tenant ingress not ready: ${where} has no ready endpoints; check Deployment ${tenantIngressName} in namespace ${namespace}`);
  }
  return ready;
}

function routeSpecFor(source: string, tenant: string, spec: ValidRouteSpec, backends: Endpoint[]): RouteSpec {
  return {
    source,
    hostname: spec.hostname,
    tenant,
    protocol: spec.protocol === 'postgres' ? 'postgres' : 'tls',
    alpn: undefined,
    backends,
    // Sidecars and ingresses read the client's address from PROXY v2; a passthrough app only when it asks.
    proxyProtocol: spec.tlsMode !== 'passthrough' || spec.proxyProtocol ? 'v2' : 'none',
    // The tenant's ingress terminates TLS; port 80 only redirects to HTTPS (the Route names no plain-HTTP port).
    http: spec.protocol === 'http' ? { backends: [], redirectToHttps: true } : undefined,
  };
}

export function snapshotFromCluster(objects: ClusterObjects, ports: AdvertisedPorts = defaultAdvertisedPorts): ClusterSnapshot {
  const indexes = indexCluster(objects);
  const verdicts = new Map<string, RouteVerdict>();
  const claimed = new Map<string, string>();
  const routes: RouteSpec[] = [];
  for (const route of byAge(objects.routes)) {
    const source = keyOf(route.metadata);
    const accepted = acceptance(route, validRouteSpec(route.spec), indexes);
    if ('accepted' in accepted) {
      verdicts.set(source, accepted);
      continue;
    }
    const { spec, tenant } = accepted;
    const listener = spec.protocol === 'postgres' ? 'postgres' : 'tls';
    const claim = `${listener} ${spec.hostname}`;
    const holder = claimed.get(claim);
    if (holder !== undefined) {
      verdicts.set(source, notAccepted('HostnameConflict', `${spec.hostname} is already routed by the older Route ${holder}; choose another hostname`));
      continue;
    }
    claimed.set(claim, source);
    const address = `${spec.hostname}:${ports[listener]}`;
    const acceptedVerdict: ConditionVerdict<AcceptedReason> = { status: true, reason: 'Accepted', message: `${spec.hostname} belongs to tenant ${tenant.spec.name}` };
    const backends = resolveBackends(route, spec, tenant, indexes);
    if (!Array.isArray(backends)) {
      verdicts.set(source, { accepted: acceptedVerdict, ready: backends, address });
      continue;
    }
    routes.push(routeSpecFor(source, tenant.spec.name, spec, backends));
    verdicts.set(source, { accepted: acceptedVerdict, ready: { status: true, reason: 'Routed', message: `routing to ${backends.length} ready endpoint${backends.length === 1 ? '' : 's'}` }, address });
  }
  const tenants = [...indexes.tenants.values()].flatMap((t) => (t.kind === 'served' ? [t.tenant.spec] : []));
  return { snapshot: { routes, tenants, defaults: { tls: { kind: 'reject' }, postgres: { kind: 'reject' } } }, verdicts };
}
