/**
 * Hostname ownership: a Route's `spec.hostname` and an Ingress's hosts must lie inside the
 * tenant's domains, and a Route's hostname must not be claimed by any other Route.
 *
 * Wildcards: a tenant domain `*.acme.example` or `acme.example` grants the zone `acme.example` and
 * every name under it (as the PKI's name constraints do). A hostname may be a wildcard only as a
 * whole first label (`*.shop.acme.example`, one label deep, as TLS matches it); its parent must be
 * inside a zone, so `*.acme.example` is allowed and `*.example` never is. Two routes collide when
 * their hostnames are equal, or one is a wildcard covering the other.
 *
 * Fails closed: a namespace whose tenant cannot be found, a tenant without domains, or a hostname
 * that is not a lowercase DNS name is refused.
 */
import type { AdmissionRequest, Violation } from './review-types.ts';

/** What the check needs to know beyond the request, gathered by the shell. */
export interface HostnameFacts {
  /** The tenant owning the request's namespace, with its zones (`acme.example`); undefined if unknown. */
  readonly tenant?: { readonly name: string; readonly zones: readonly string[] };
  /** Every Route in the cluster. */
  readonly routes: ReadonlyArray<{ readonly namespace: string; readonly name: string; readonly hostname: string }>;
}

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether the request carries hostnames this module judges (Routes and Ingresses, create and update). */
export function carriesHostnames(request: AdmissionRequest): boolean {
  if (request.subResource || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) return false;
  return (request.resource.group === 'landlord.dev' && request.resource.resource === 'routes') ||
    (request.resource.group === 'networking.k8s.io' && request.resource.resource === 'ingresses');
}

export function hostnameViolations(request: AdmissionRequest, facts: HostnameFacts): Violation[] {
  if (!carriesHostnames(request)) return [];
  const claimed = claimedHostnames(request);
  if (facts.tenant === undefined || facts.tenant.zones.length === 0) {
    return [{ rule: 'hostnames/tenantDomains', path: 'metadata.namespace', message: `namespace ${request.namespace ?? ''} belongs to no tenant with domains, so it may claim no hostname` }];
  }
  const zones = facts.tenant.zones;
  const found: Violation[] = [];
  for (const { path, hostname } of claimed) {
    const problem = malformed(hostname);
    if (problem) found.push({ rule: 'hostnames/syntax', path, message: `${path} ${JSON.stringify(hostname)} ${problem}` });
    else if (!zones.some((zone) => inside(hostname, zone))) {
      found.push({ rule: 'hostnames/tenantDomains', path, message: `${path} ${hostname} must be inside the tenant's domains (${zones.join(', ')})` });
    }
  }
  if (request.resource.resource === 'routes') {
    for (const { path, hostname } of claimed) {
      const other = facts.routes.find((route) => !(route.namespace === request.namespace && route.name === request.name) && collide(route.hostname, hostname));
      if (other) found.push({ rule: 'hostnames/unique', path, message: `${path} ${hostname} is already routed by another Route: choose another hostname` });
    }
  }
  return found;
}

function claimedHostnames(request: AdmissionRequest): Array<{ path: string; hostname: string }> {
  const spec = (request.object?.spec ?? {}) as { hostname?: unknown; rules?: unknown; tls?: unknown };
  if (request.resource.resource === 'routes') return [{ path: 'spec.hostname', hostname: text(spec.hostname) }];
  const rules = Array.isArray(spec.rules) ? (spec.rules as Array<{ host?: unknown }>) : [];
  const tls = Array.isArray(spec.tls) ? (spec.tls as Array<{ hosts?: unknown }>) : [];
  return [
    ...rules.flatMap((rule, index) => (rule?.host === undefined ? [] : [{ path: `spec.rules[${index}].host`, hostname: text(rule.host) }])),
    ...tls.flatMap((entry, index) => (Array.isArray(entry?.hosts) ? entry.hosts : []).map((host: unknown, hostIndex: number) => ({ path: `spec.tls[${index}].hosts[${hostIndex}]`, hostname: text(host) }))),
  ];
}

/** A hostname field as text; anything but a string becomes empty and is refused as malformed. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function malformed(hostname: string): string | undefined {
  const labels = hostname.split('.');
  const plain = labels[0] === '*' ? labels.slice(1) : labels;
  if (hostname.length === 0 || hostname.length > 253) return 'must be a DNS name of 1 to 253 characters';
  if (!plain.every((label) => dnsLabel.test(label))) return 'must be a lowercase DNS name; a wildcard is allowed only as the whole first label ("*.")';
  if (plain.length < 2) return 'must have at least two labels below a wildcard';
  return undefined;
}

/** `name` (a host or a wildcard) lies in `zone` when it, or its wildcard's parent, is the zone or below it. */
/** Whether `name` (or the parent of a wildcard) is the zone or a name under it. */
export function inside(name: string, zone: string): boolean {
  const base = name.startsWith('*.') ? name.slice(2) : name;
  return base === zone || base.endsWith(`.${zone}`);
}

function collide(a: string, b: string): boolean {
  return a === b || covers(a, b) || covers(b, a);
}

/** A wildcard covers the names exactly one label below its parent. */
function covers(wildcard: string, name: string): boolean {
  if (!wildcard.startsWith('*.') || name.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1) === wildcard.slice(2);
}
