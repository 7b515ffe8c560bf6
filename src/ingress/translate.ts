/**
 * Pure translation from a tenant's Kubernetes objects to the ingress table: landlord `Route`s whose
 * TLS ends in the tenant ingress (`effectiveTlsMode` = `ingress`) and `networking.k8s.io/v1`
 * Ingresses of the tenant's ingress class. Backends are resolved to their Service's ClusterIP and
 * port, so the ingress needs no cluster DNS. The Kubernetes source (kubernetes-source.ts) gathers
 * the objects; this module only decides. A bad object is skipped with an issue; the others still
 * route.
 *
 * Isolation stance (fails closed): a host outside the tenant's domains, an Ingress rule without a
 * host (it would match every name) and a default backend are refused, so nothing a tenant writes
 * can make its ingress answer for a name it does not own. A backend is only ever a Service in the
 * same namespace as the object that names it.
 */
import { effectiveTlsMode, routeCertificateSecretName, type Route } from '../api/route.ts';
import { IngressTable, normalizeHost, type Backend, type IngressRoute, type PathType } from './table.ts';

/** The subset of `networking.k8s.io/v1` Ingress that the ingress reads. */
export interface KubeIngress {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly ingressClassName?: string;
    readonly defaultBackend?: unknown;
    readonly rules?: readonly {
      readonly host?: string;
      readonly http?: {
        readonly paths?: readonly {
          readonly path?: string;
          readonly pathType?: string;
          readonly backend?: { readonly service?: { readonly name?: string; readonly port?: { readonly number?: number; readonly name?: string } }; readonly resource?: unknown };
        }[];
      };
    }[];
    readonly tls?: readonly { readonly hosts?: readonly string[]; readonly secretName?: string }[];
  };
}

/** The subset of a core/v1 Service that backend resolution reads. */
export interface KubeService {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: {
    readonly type?: string;
    /** `None` for a headless Service. */
    readonly clusterIP?: string;
    readonly ports?: readonly { readonly name?: string; readonly port: number; readonly protocol?: string }[];
  };
}

/** A TLS Secret the ingress serves, in the namespace of the object that names it. */
export interface CertificateSecretRef {
  readonly namespace: string;
  readonly name: string;
  /** The object that names it (`Route acme/web`, `Ingress acme/shop spec.tls[0]`). */
  readonly source: string;
}

export interface TenantRouteSources {
  readonly tenant: string;
  /** The tenant's domains as in its spec (`*.acme.example` or `acme.example`: the zone and below). */
  readonly domains: readonly string[];
  /** Only Ingresses of this class (spec.ingressClassName or the legacy annotation) are read. */
  readonly ingressClassName: string;
  readonly routes: readonly Route[];
  readonly ingresses: readonly KubeIngress[];
  /** Backends resolve to these Services' ClusterIPs (same namespace as the Route or Ingress). */
  readonly services: readonly KubeService[];
}

export interface TranslateIssue {
  /** `Route acme/web`, `Ingress acme/shop rules[0].http.paths[1]`, `routes[2]` (file). */
  readonly source: string;
  readonly message: string;
}

export interface TableResult {
  readonly table: IngressTable;
  readonly issues: readonly TranslateIssue[];
}

export interface TenantTranslation extends TableResult {
  /**
   * The TLS Secrets to serve, deduplicated: each translated Route's `spec.tls.secretName` or else
   * its operator-issued `landlord-tls-<route>`, and the `spec.tls[].secretName`s of the Ingresses read.
   */
  readonly certificateSecrets: readonly CertificateSecretRef[];
}

const legacyClassAnnotation = 'kubernetes.io/ingress.class';

/** Whether `host` (exact or `*.` wildcard) lies inside one of the tenant's domain specs. */
export function insideDomains(host: string, domains: readonly string[]): boolean {
  const name = host.startsWith('*.') ? host.slice(2) : host;
  return domains.some((spec) => {
    const zone = spec.toLowerCase().replace(/^\*\./, '');
    return name === zone || name.endsWith(`.${zone}`);
  });
}

/** Validates one candidate; returns the issue text or undefined. */
function refusal(route: IngressRoute, domains: readonly string[] | undefined): string | undefined {
  if (!route.path.startsWith('/')) return `path ${JSON.stringify(route.path)} must start with "/"`;
  if (/[?#\s]/.test(route.path)) return `path ${JSON.stringify(route.path)} may not contain "?", "#" or spaces`;
  if (!Number.isInteger(route.backend.port) || route.backend.port < 1 || route.backend.port > 65535) return `backend port ${route.backend.port} is not 1-65535`;
  if (!route.backend.host) return 'backend host is empty';
  if (domains && !insideDomains(route.host, domains)) return `host ${route.host} is outside the tenant's domains (${domains.join(', ')})`;
  return undefined;
}

/**
 * Builds the table from candidates in priority order. Invalid candidates and later duplicates
 * of the same host, path and path type are dropped with an issue (the first one keeps serving,
 * so a newly created object can never take over an existing route).
 */
export function buildIngressTable(candidates: readonly IngressRoute[], domains?: readonly string[]): TableResult {
  const issues: TranslateIssue[] = [];
  const seen = new Map<string, string>();
  const accepted: IngressRoute[] = [];
  for (const route of candidates) {
    const problem = refusal(route, domains);
    if (problem) {
      issues.push({ source: route.source, message: problem });
      continue;
    }
    const key = `${route.host} ${route.pathType} ${route.path}`;
    const owner = seen.get(key);
    if (owner !== undefined) {
      issues.push({ source: route.source, message: `${route.host} ${route.pathType} ${route.path} is already routed by ${owner}` });
      continue;
    }
    seen.set(key, route.source);
    accepted.push(route);
  }
  return { table: new IngressTable(accepted), issues };
}

/** Service lookup by namespace and name. */
type ServiceIndex = ReadonlyMap<string, KubeService>;

function indexServices(services: readonly KubeService[]): ServiceIndex {
  return new Map(services.map((service) => [`${service.metadata.namespace ?? 'default'}/${service.metadata.name}`, service]));
}

/**
 * The ClusterIP and Service port of `namespace/name` port `port` (a number or a port name), or
 * why there is none. The ingress dials the ClusterIP: kube-proxy forwards to a ready endpoint.
 */
export function resolveServiceBackend(services: ServiceIndex, namespace: string, name: string, port: number | string): Backend | string {
  const service = services.get(`${namespace}/${name}`);
  if (!service) return `Service ${namespace}/${name} does not exist`;
  const spec = service.spec ?? {};
  if (spec.type === 'ExternalName') return `Service ${namespace}/${name} is of type ExternalName; the ingress routes only to ClusterIP Services`;
  if (!spec.clusterIP || spec.clusterIP === 'None') return `Service ${namespace}/${name} is headless (no clusterIP); the ingress routes only to ClusterIP Services`;
  const ports = (spec.ports ?? []).filter((entry) => (entry.protocol ?? 'TCP') === 'TCP');
  const found = ports.find((entry) => (typeof port === 'number' ? entry.port === port : entry.name === port));
  if (!found) {
    const known = ports.map((entry) => (entry.name ? `${entry.name}=${entry.port}` : String(entry.port))).join(', ') || 'none';
    return `Service ${namespace}/${name} has no TCP port ${typeof port === 'number' ? port : JSON.stringify(port)} (ports: ${known})`;
  }
  return { host: spec.clusterIP, port: found.port };
}

function routeCandidates(routes: readonly Route[], services: ServiceIndex, issues: TranslateIssue[], secrets: CertificateSecretRef[]): IngressRoute[] {
  const out: IngressRoute[] = [];
  for (const route of routes) {
    const { spec, metadata } = route;
    if (effectiveTlsMode(spec) !== 'ingress') continue;
    const namespace = metadata.namespace ?? 'default';
    const source = `Route ${namespace}/${metadata.name}`;
    const host = normalizeHost(spec.hostname);
    const backend = resolveServiceBackend(services, namespace, spec.backend.service, spec.backend.port);
    if (spec.protocol !== 'http') issues.push({ source, message: `protocol ${spec.protocol} cannot end TLS in the ingress, which speaks HTTP only; use tls.mode sidecar or passthrough` });
    else if (!host) issues.push({ source, message: `hostname ${JSON.stringify(spec.hostname)} is not a DNS name` });
    else if (typeof backend === 'string') issues.push({ source, message: `spec.backend: ${backend}` });
    else {
      out.push({ host, path: '/', pathType: 'Prefix', backend, source });
      secrets.push({ namespace, name: spec.tls?.secretName ?? routeCertificateSecretName(metadata.name), source });
    }
  }
  return out;
}

function ingressClassOf(ingress: KubeIngress): string | undefined {
  return ingress.spec?.ingressClassName ?? ingress.metadata.annotations?.[legacyClassAnnotation];
}

function pathTypeOf(value: string | undefined): PathType | undefined {
  if (value === 'Exact') return 'Exact';
  // ImplementationSpecific: ours is element-wise prefix matching.
  if (value === 'Prefix' || value === 'ImplementationSpecific') return 'Prefix';
  return undefined;
}

function ingressPathCandidate(entry: IngressPath, host: string, namespace: string, services: ServiceIndex, source: string): IngressRoute | string {
  const pathType = pathTypeOf(entry.pathType);
  const service = entry.backend?.service;
  const port = service?.port?.number ?? service?.port?.name;
  if (!pathType) return `pathType ${JSON.stringify(entry.pathType)} is not Exact, Prefix or ImplementationSpecific`;
  if (!service?.name) return 'backend.service.name is required (resource backends are not supported)';
  if (port === undefined) return 'backend.service.port needs a number or a name';
  const backend = resolveServiceBackend(services, namespace, service.name, port);
  if (typeof backend === 'string') return `backend: ${backend}`;
  return { host, path: entry.path ?? '/', pathType, backend, source };
}

type IngressPath = NonNullable<NonNullable<NonNullable<NonNullable<KubeIngress['spec']>['rules']>[number]['http']>['paths']>[number];

function ingressCandidates(ingress: KubeIngress, services: ServiceIndex, issues: TranslateIssue[], secrets: CertificateSecretRef[]): IngressRoute[] {
  const namespace = ingress.metadata.namespace ?? 'default';
  const name = `Ingress ${namespace}/${ingress.metadata.name}`;
  const out: IngressRoute[] = [];
  if (ingress.spec?.defaultBackend !== undefined) issues.push({ source: `${name} spec.defaultBackend`, message: 'default backends are not supported: every route needs a host of the tenant' });
  (ingress.spec?.rules ?? []).forEach((rule, r) => {
    const host = normalizeHost(rule.host);
    if (!host) {
      issues.push({ source: `${name} rules[${r}]`, message: rule.host ? `host ${JSON.stringify(rule.host)} is not a DNS name` : 'a rule without host would match every name; set rules[].host' });
      return;
    }
    (rule.http?.paths ?? []).forEach((entry, p) => {
      const source = `${name} rules[${r}].http.paths[${p}]`;
      const candidate = ingressPathCandidate(entry, host, namespace, services, source);
      if (typeof candidate === 'string') issues.push({ source, message: candidate });
      else out.push(candidate);
    });
  });
  (ingress.spec?.tls ?? []).forEach((entry, t) => {
    if (entry.secretName) secrets.push({ namespace, name: entry.secretName, source: `${name} spec.tls[${t}]` });
  });
  return out;
}

const byNamespacedName = <T extends { metadata: { name: string; namespace?: string } }>(a: T, b: T): number =>
  `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`);

function uniqueSecrets(refs: readonly CertificateSecretRef[]): CertificateSecretRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => {
    const key = `${ref.namespace}/${ref.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The tenant's table: Routes first, then Ingresses of the tenant's class, each in
 * namespace/name order (so the outcome does not depend on the order objects were listed), and
 * the certificate Secrets those objects name.
 */
export function translateTenantRoutes(sources: TenantRouteSources): TenantTranslation {
  const services = indexServices(sources.services);
  const issues: TranslateIssue[] = [];
  const secrets: CertificateSecretRef[] = [];
  const candidates = [
    ...routeCandidates([...sources.routes].sort(byNamespacedName), services, issues, secrets),
    ...[...sources.ingresses]
      .filter((ingress) => ingressClassOf(ingress) === sources.ingressClassName)
      .sort(byNamespacedName)
      .flatMap((ingress) => ingressCandidates(ingress, services, issues, secrets)),
  ];
  const built = buildIngressTable(candidates, sources.domains);
  return { table: built.table, issues: [...issues, ...built.issues], certificateSecrets: uniqueSecrets(secrets) };
}
