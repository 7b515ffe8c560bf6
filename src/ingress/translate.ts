/**
 * Pure translation from a tenant's Kubernetes objects to the ingress table: landlord `Route`s with
 * `protocol: http` (TLS ending in the tenant ingress) and `networking.k8s.io/v1` Ingresses of the
 * tenant's ingress class. The Kubernetes provider (the operator's, later) gathers the objects;
 * this module only decides. A bad object is skipped with an issue; the others still route.
 *
 * Isolation stance (fails closed): a host outside the tenant's domains, an Ingress rule without a
 * host (it would match every name) and a default backend are refused, so nothing a tenant writes
 * can make its ingress answer for a name it does not own.
 */
import type { Route } from '../api/route.ts';
import { IngressTable, normalizeHost, type IngressRoute, type PathType } from './table.ts';

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
  };
}

export interface TenantRouteSources {
  readonly tenant: string;
  /** The tenant's domains as in its spec (`*.acme.example` or `acme.example`: the zone and below). */
  readonly domains: readonly string[];
  /** Only Ingresses of this class (spec.ingressClassName or the legacy annotation) are read. */
  readonly ingressClassName: string;
  /** Default `cluster.local`. */
  readonly clusterDomain?: string;
  readonly routes: readonly Route[];
  readonly ingresses: readonly KubeIngress[];
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

function routeCandidates(sources: TenantRouteSources, clusterDomain: string, issues: TranslateIssue[]): IngressRoute[] {
  const out: IngressRoute[] = [];
  for (const route of sources.routes) {
    const { spec, metadata } = route;
    if (spec.protocol !== 'http' || (spec.tls?.mode ?? 'ingress') !== 'ingress') continue;
    const source = `Route ${metadata.namespace ?? ''}/${metadata.name}`;
    const host = normalizeHost(spec.hostname);
    if (!host) {
      issues.push({ source, message: `hostname ${JSON.stringify(spec.hostname)} is not a DNS name` });
      continue;
    }
    const backendHost = `${spec.backend.service}.${metadata.namespace ?? 'default'}.svc.${clusterDomain}`;
    out.push({ host, path: '/', pathType: 'Prefix', backend: { host: backendHost, port: spec.backend.port }, source });
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

function ingressCandidates(ingress: KubeIngress, clusterDomain: string, issues: TranslateIssue[]): IngressRoute[] {
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
      const pathType = pathTypeOf(entry.pathType);
      const service = entry.backend?.service;
      const port = service?.port?.number;
      if (!pathType) issues.push({ source, message: `pathType ${JSON.stringify(entry.pathType)} is not Exact, Prefix or ImplementationSpecific` });
      else if (!service?.name) issues.push({ source, message: 'backend.service.name is required (resource backends are not supported)' });
      else if (port === undefined) issues.push({ source, message: 'backend.service.port.number is required (named ports are not supported)' });
      else out.push({ host, path: entry.path ?? '/', pathType, backend: { host: `${service.name}.${namespace}.svc.${clusterDomain}`, port }, source });
    });
  });
  return out;
}

const byNamespacedName = <T extends { metadata: { name: string; namespace?: string } }>(a: T, b: T): number =>
  `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`);

/**
 * The tenant's table: Routes first, then Ingresses of the tenant's class, each in
 * namespace/name order (so the outcome does not depend on the order objects were listed).
 */
export function translateTenantRoutes(sources: TenantRouteSources): TableResult {
  const clusterDomain = sources.clusterDomain ?? 'cluster.local';
  const issues: TranslateIssue[] = [];
  const candidates = [
    ...routeCandidates({ ...sources, routes: [...sources.routes].sort(byNamespacedName) }, clusterDomain, issues),
    ...[...sources.ingresses]
      .filter((ingress) => ingressClassOf(ingress) === sources.ingressClassName)
      .sort(byNamespacedName)
      .flatMap((ingress) => ingressCandidates(ingress, clusterDomain, issues)),
  ];
  const built = buildIngressTable(candidates, sources.domains);
  return { table: built.table, issues: [...issues, ...built.issues] };
}
