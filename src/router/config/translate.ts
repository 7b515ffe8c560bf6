/**
 * translate(snapshot): the pure step between providers and the data plane. It validates the whole
 * snapshot and either returns a complete `RouteTable` or every issue found; it never returns a
 * partial table, so a bad edit cannot take down the routes that were fine ("build fully, then swap").
 *
 * Ownership fails closed: when a tenant is declared, its routes must lie inside its domains and
 * no other route may claim a name inside them.
 */
import { normalizeServerName } from '../clienthello/names.ts';
import type { ConfigIssue, RouteProtocol, RouteSpec, RoutingSnapshot, TenantSpec } from './ir.ts';
import { RouteTable, type Route } from './route-table.ts';

export type TranslateResult = { readonly ok: true; readonly table: RouteTable } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** A hostname pattern in canonical form: an exact name, or `*.` + suffix. */
interface Pattern {
  readonly wildcard: boolean;
  readonly name: string; // the exact name, or the suffix after `*.`
  readonly text: string;
}

export function parseHostnamePattern(raw: string): Pattern | string {
  const wildcard = raw.startsWith('*.');
  const normalized = normalizeServerName(wildcard ? raw.slice(2) : raw);
  if (normalized.kind === 'ip_literal') return `${JSON.stringify(raw)} is an IP address; routes match server names only`;
  if (normalized.kind === 'invalid') return `${JSON.stringify(raw)} is not a hostname or *.suffix pattern`;
  return { wildcard, name: normalized.name, text: wildcard ? `*.${normalized.name}` : normalized.name };
}

/** True when a tenant domain (`acme.test` or `*.acme.test`) covers a route's hostname pattern. */
function owns(domain: Pattern, hostname: Pattern): boolean {
  return domain.wildcard ? hostname.text.endsWith(`.${domain.name}`) : !hostname.wildcard && hostname.name === domain.name;
}

interface Owner {
  readonly tenant: string;
  readonly domain: Pattern;
}

function tenantsByName(tenants: readonly TenantSpec[], issues: ConfigIssue[]): Map<string, TenantSpec> {
  const byName = new Map<string, TenantSpec>();
  for (const tenant of tenants) {
    if (byName.has(tenant.name)) issues.push({ path: `${tenant.source}.name`, message: `tenant ${JSON.stringify(tenant.name)} is declared twice` });
    byName.set(tenant.name, tenant);
  }
  return byName;
}

function tenantOwners(tenants: readonly TenantSpec[], issues: ConfigIssue[]): Owner[] {
  const owners: Owner[] = [];
  for (const tenant of tenants) {
    tenant.domains.forEach((raw, index) => {
      const domain = parseHostnamePattern(raw);
      if (typeof domain === 'string') {
        issues.push({ path: `${tenant.source}.domains[${index}]`, message: domain });
        return;
      }
      const clash = owners.find((o) => o.tenant !== tenant.name && (owns(o.domain, domain) || owns(domain, o.domain)));
      if (clash) issues.push({ path: `${tenant.source}.domains[${index}]`, message: `${domain.text} overlaps ${clash.domain.text} of tenant ${clash.tenant}` });
      owners.push({ tenant: tenant.name, domain });
    });
  }
  return owners;
}

/** The ownership predicate for one route; returns the issue message, or undefined when allowed. */
function ownershipProblem(route: RouteSpec, hostname: Pattern, owners: readonly Owner[], tenants: ReadonlyMap<string, TenantSpec>): string | undefined {
  const owner = owners.find((o) => owns(o.domain, hostname));
  if (owner && owner.tenant !== route.tenant) return `${hostname.text} belongs to tenant ${owner.tenant}`;
  if (route.tenant !== undefined && tenants.has(route.tenant) && !owner) return `${hostname.text} is outside the domains of tenant ${route.tenant}`;
  return undefined;
}

function emptyIndex(): Record<RouteProtocol, Map<string, Route[]>> {
  return { tls: new Map(), postgres: new Map() };
}

export function translate(snapshot: RoutingSnapshot, generation: number): TranslateResult {
  const issues: ConfigIssue[] = [];
  const tenants = tenantsByName(snapshot.tenants, issues);
  const owners = tenantOwners(snapshot.tenants, issues);
  const exact = emptyIndex();
  const wildcard = emptyIndex();
  const seen = new Map<string, string>();
  for (const spec of snapshot.routes) {
    const hostname = parseHostnamePattern(spec.hostname);
    if (typeof hostname === 'string') {
      issues.push({ path: `${spec.source}.hostname`, message: hostname });
      continue;
    }
    const problem = ownershipProblem(spec, hostname, owners, tenants);
    if (problem) issues.push({ path: `${spec.source}.hostname`, message: problem });
    if (spec.backends.length === 0) issues.push({ path: `${spec.source}.backends`, message: 'at least one backend is required' });
    const key = `${spec.protocol} ${hostname.text} ${spec.alpn ? [...spec.alpn].sort().join(',') : '*'}`;
    const earlier = seen.get(key);
    if (earlier) issues.push({ path: `${spec.source}.hostname`, message: `${hostname.text} (${spec.protocol}) is already routed by ${earlier}` });
    seen.set(key, spec.source);
    const route: Route = { name: hostname.text, tenant: spec.tenant, alpn: spec.alpn, backends: spec.backends, proxyProtocol: spec.proxyProtocol, http: spec.http };
    const index = (hostname.wildcard ? wildcard : exact)[spec.protocol];
    const candidates = index.get(hostname.name) ?? [];
    candidates.push(route);
    candidates.sort((a, b) => Number(a.alpn === undefined) - Number(b.alpn === undefined));
    index.set(hostname.name, candidates);
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, table: new RouteTable({ generation, exact, wildcard, defaults: snapshot.defaults, tenants }) };
}
