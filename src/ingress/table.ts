/**
 * The ingress routing table (the IR between route sources and the proxy): immutable, pure, built
 * aside and swapped whole. `IngressTable.match(host, path)` picks the backend for one request.
 *
 * Hosts: exact names, or `*.zone` matching exactly one extra label (as the edge router and the
 * Route API do); an exact host beats a wildcard. Paths: `Exact` matches the path only; `Prefix`
 * matches whole path elements (Kubernetes Ingress semantics: `/foo` matches `/foo` and `/foo/bar`,
 * never `/foobar`). The longest matching path wins; at equal length `Exact` beats `Prefix`.
 *
 * Isolation stance: the table holds one tenant's routes only; a host that is not in it is not
 * this ingress's to serve (the proxy answers 421).
 */

import { isIP } from 'node:net';

export type PathType = 'Exact' | 'Prefix';

export interface Backend {
  readonly host: string;
  readonly port: number;
}

export interface IngressRoute {
  /** Lowercase host without port or trailing dot; `*.` prefix for a one-label wildcard. */
  readonly host: string;
  readonly path: string;
  readonly pathType: PathType;
  readonly backend: Backend;
  /** Where the route came from, for logs and metrics (`Route acme/web`, `routes[0]`). */
  readonly source: string;
}

export interface RouteMatch {
  readonly route: IngressRoute;
  /** The table's host key that matched (`app.acme.example` or `*.acme.example`). */
  readonly host: string;
}

/** Lowercases, drops a `:port` suffix and one trailing dot; `undefined` for an unusable value. */
export function normalizeHost(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) return undefined; // IP literals are never a routed name
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (isIP(host) !== 0) return undefined;
  return /^[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host) ? host : undefined;
}

/** Whether `host` (a concrete name) is covered by `pattern` (exact, or `*.zone` for one label). */
export function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === pattern.slice(2);
}

function pathMatches(route: IngressRoute, path: string): boolean {
  if (route.pathType === 'Exact') return path === route.path;
  if (route.path === '/') return true;
  const prefix = route.path.endsWith('/') ? route.path.slice(0, -1) : route.path;
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Ordered so the first matching route is the winner: longest path first, Exact before Prefix. */
function byPrecedence(a: IngressRoute, b: IngressRoute): number {
  const length = (r: IngressRoute): number => (r.pathType === 'Prefix' && r.path.endsWith('/') && r.path !== '/' ? r.path.length - 1 : r.path.length);
  return length(b) - length(a) || (a.pathType === b.pathType ? 0 : a.pathType === 'Exact' ? -1 : 1);
}

export class IngressTable {
  readonly routes: readonly IngressRoute[];
  readonly #byHost: ReadonlyMap<string, readonly IngressRoute[]>;

  constructor(routes: readonly IngressRoute[]) {
    this.routes = routes;
    const byHost = new Map<string, IngressRoute[]>();
    for (const route of routes) byHost.set(route.host, [...(byHost.get(route.host) ?? []), route]);
    for (const list of byHost.values()) list.sort(byPrecedence);
    this.#byHost = byHost;
  }

  /** Every host key (exact and wildcard). */
  get hosts(): readonly string[] {
    return [...this.#byHost.keys()];
  }

  /** The table's host key serving `host` (already normalized), exact before wildcard. */
  hostKey(host: string): string | undefined {
    if (this.#byHost.has(host)) return host;
    const dot = host.indexOf('.');
    const wildcard = dot > 0 ? `*${host.slice(dot)}` : undefined;
    return wildcard !== undefined && this.#byHost.has(wildcard) ? wildcard : undefined;
  }

  /**
   * The route for a request: `host` normalized, `path` without query string. A wildcard host
   * is consulted only when the exact host has no routes at all (a host's routes are one unit).
   */
  match(host: string, path: string): RouteMatch | undefined {
    const key = this.hostKey(host);
    if (key === undefined) return undefined;
    const route = this.#byHost.get(key)?.find((r) => pathMatches(r, path));
    return route ? { route, host: key } : undefined;
  }
}
