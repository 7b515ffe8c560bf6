/**
 * The router's intermediate representation: what every provider (the routes file today, the
 * Kubernetes `Route`/EndpointSlice watcher later) produces, and the only input `translate` reads.
 * Providers never build a `RouteTable` themselves, so validation and precedence live in one place.
 */

/** A backend address; `host` is an IP literal or a DNS name resolved at dial time. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Which listener a route serves: TLS from the first byte, or PostgreSQL's SSLRequest/direct TLS. */
export type RouteProtocol = 'tls' | 'postgres';
export type ProxyProtocolMode = 'none' | 'v2';

export interface HttpRouteSpec {
  /** Plain-HTTP backends; ACME HTTP-01 challenges (and everything, without redirect) go here. */
  readonly backends: readonly Endpoint[];
  /** Answer 308 to https:// for everything except ACME challenges (default true). */
  readonly redirectToHttps: boolean;
}

export interface RouteSpec {
  /** Where the route came from, for error messages: `routes[3]` or `namespace/name`. */
  readonly source: string;
  /** Exact name or `*.` plus a suffix (matches exactly one extra label), as written by the user. */
  readonly hostname: string;
  readonly tenant: string | undefined;
  readonly protocol: RouteProtocol;
  /** Route only clients offering one of these ALPN protocols; undefined matches every client. */
  readonly alpn: readonly string[] | undefined;
  readonly backends: readonly Endpoint[];
  readonly proxyProtocol: ProxyProtocolMode;
  readonly http: HttpRouteSpec | undefined;
}

export interface TenantSpec {
  readonly source: string;
  readonly name: string;
  /** Names the tenant owns: `acme.test` owns that name, `*.acme.test` every name below acme.test. */
  readonly domains: readonly string[];
  /** Concurrent connections across all the tenant's routes; undefined means unlimited. */
  readonly maxConnections: number | undefined;
  /** Sustained new connections per second (token bucket, burst of the same size). */
  readonly newConnectionsPerSecond: number | undefined;
}

/** What a listener does with a client that matches no route (or sends no SNI). */
export type DefaultAction =
  | { readonly kind: 'reject' }
  | { readonly kind: 'backend'; readonly backends: readonly Endpoint[]; readonly proxyProtocol: ProxyProtocolMode };

export interface RoutingSnapshot {
  readonly routes: readonly RouteSpec[];
  readonly tenants: readonly TenantSpec[];
  readonly defaults: Readonly<Record<RouteProtocol, DefaultAction>>;
}

/** One validation problem, named by the field it concerns. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}
