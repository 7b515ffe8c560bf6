/**
 * The immutable table the data plane consults. Built only by `translate`, swapped as a whole;
 * a connection keeps the `Route` it was given for its whole life, so a reload never touches it.
 */
import type { DefaultAction, Endpoint, HttpRouteSpec, ProxyProtocolMode, RouteProtocol, TenantSpec } from './ir.ts';

/** A resolved route, shared by every connection it admitted. */
export interface Route {
  /** Stable label for metrics and logs: the hostname pattern, or `default`. */
  readonly name: string;
  readonly tenant: string | undefined;
  readonly alpn: readonly string[] | undefined;
  readonly backends: readonly Endpoint[];
  readonly proxyProtocol: ProxyProtocolMode;
  readonly http: HttpRouteSpec | undefined;
}

export type RouteDecision =
  | { readonly kind: 'route'; readonly route: Route }
  | { readonly kind: 'reject'; readonly reason: 'no_route' | 'no_sni' };

export interface TenantLimits {
  readonly maxConnections: number | undefined;
  readonly newConnectionsPerSecond: number | undefined;
}

export interface RouteTableParts {
  readonly generation: number;
  /** Per protocol: exact hostname → candidates, ALPN-conditioned routes first. */
  readonly exact: Readonly<Record<RouteProtocol, ReadonlyMap<string, readonly Route[]>>>;
  /** Per protocol: suffix after `*.` → candidates. */
  readonly wildcard: Readonly<Record<RouteProtocol, ReadonlyMap<string, readonly Route[]>>>;
  readonly defaults: Readonly<Record<RouteProtocol, DefaultAction>>;
  readonly tenants: ReadonlyMap<string, TenantSpec>;
}

export class RouteTable {
  readonly generation: number;
  readonly #parts: RouteTableParts;
  readonly #defaultRoutes: Readonly<Record<RouteProtocol, Route | undefined>>;

  constructor(parts: RouteTableParts) {
    this.generation = parts.generation;
    this.#parts = parts;
    const defaultRoute = (action: DefaultAction): Route | undefined =>
      action.kind === 'reject' ? undefined : { name: 'default', tenant: undefined, alpn: undefined, backends: action.backends, proxyProtocol: action.proxyProtocol, http: undefined };
    this.#defaultRoutes = { tls: defaultRoute(parts.defaults.tls), postgres: defaultRoute(parts.defaults.postgres) };
  }

  /**
   * Chooses the route for a normalized server name and the client's ALPN offer: an exact name
   * beats a wildcard; within a name, a route whose ALPN condition the client meets beats an
   * unconditioned one; otherwise the listener's default (backend or reject).
   */
  lookup(protocol: RouteProtocol, serverName: string | undefined, alpn: readonly string[]): RouteDecision {
    const found = serverName === undefined ? undefined : this.#match(protocol, serverName, alpn);
    if (found) return { kind: 'route', route: found };
    const fallback = this.#defaultRoutes[protocol];
    if (fallback) return { kind: 'route', route: fallback };
    return { kind: 'reject', reason: serverName === undefined ? 'no_sni' : 'no_route' };
  }

  /** The route for an HTTP Host (any protocol's route carries the `http` block; TLS first). */
  lookupHost(host: string): Route | undefined {
    return this.#match('tls', host, []) ?? this.#match('postgres', host, []);
  }

  tenantLimits(tenant: string): TenantLimits | undefined {
    return this.#parts.tenants.get(tenant);
  }

  #match(protocol: RouteProtocol, name: string, alpn: readonly string[]): Route | undefined {
    const exact = pick(this.#parts.exact[protocol].get(name), alpn);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot < 0 ? undefined : pick(this.#parts.wildcard[protocol].get(name.slice(dot + 1)), alpn);
  }
}

function pick(candidates: readonly Route[] | undefined, alpn: readonly string[]): Route | undefined {
  return candidates?.find((route) => route.alpn === undefined || route.alpn.some((protocol) => alpn.includes(protocol)));
}
