/**
 * The routes file (`--routes FILE`): YAML in, `RoutingSnapshot` out. Pure; the watcher that reads
 * the file lives in file-provider.ts. Unknown fields are errors (a typo must not silently drop a
 * limit), and every message names the field, e.g. `routes[1].backends[0]: "x" is not host:port`.
 * The format is documented in docs/router.md.
 */
import { isIP } from 'node:net';
import { LineCounter, parseDocument } from 'yaml';
import type { ConfigIssue, DefaultAction, Endpoint, HttpRouteSpec, ProxyProtocolMode, RouteProtocol, RouteSpec, RoutingSnapshot, TenantSpec } from './ir.ts';

export type RoutesFileResult = { readonly ok: true; readonly snapshot: RoutingSnapshot } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

type Fields = Record<string, unknown>;

/** Collects issues while reading untyped YAML; each reader returns undefined after recording one. */
class FieldReader {
  readonly issues: ConfigIssue[] = [];

  fail(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  object(value: unknown, path: string, allowed: readonly string[]): Fields | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.fail(path, 'must be a mapping');
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(`${path === '' ? '' : `${path}.`}${key}`, `unknown field (allowed: ${allowed.join(', ')})`);
    }
    return value as Fields;
  }

  list(value: unknown, path: string): unknown[] | undefined {
    return Array.isArray(value) ? value : this.fail(path, 'must be a list');
  }

  string(value: unknown, path: string): string | undefined {
    return typeof value === 'string' && value.length > 0 ? value : this.fail(path, 'must be a non-empty string');
  }

  positiveInteger(value: unknown, path: string): number | undefined {
    return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : this.fail(path, `${JSON.stringify(value)} is not a positive integer`);
  }

  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T | undefined {
    return choices.includes(value as T) ? (value as T) : this.fail(path, `${JSON.stringify(value)} is not one of ${choices.join(', ')}`);
  }

  endpoints(value: unknown, path: string): Endpoint[] {
    const items = this.list(value, path) ?? [];
    const endpoints: Endpoint[] = [];
    items.forEach((item, index) => {
      const endpoint = parseEndpoint(item);
      if (endpoint) endpoints.push(endpoint);
      else this.fail(`${path}[${index}]`, `${JSON.stringify(item)} is not host:port`);
    });
    return endpoints;
  }
}

const hostname = /^(?=.{1,253}$)[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*$/;

/** `host:port` or `[ipv6]:port`; the host is an IP literal or a DNS name. */
export function parseEndpoint(value: unknown): Endpoint | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  if (match[1] !== undefined ? isIP(host) !== 6 : isIP(host) === 0 && !hostname.test(host)) return undefined;
  return { host, port };
}

function readDefault(reader: FieldReader, value: unknown, path: string): DefaultAction | undefined {
  if (value === undefined || value === 'reject') return { kind: 'reject' };
  const fields = reader.object(value, path, ['backends', 'proxyProtocol']);
  if (!fields) return undefined;
  const backends = reader.endpoints(fields.backends, `${path}.backends`);
  if (backends.length === 0) return reader.fail(`${path}.backends`, 'at least one backend is required (or write `reject`)');
  const proxyProtocol = reader.oneOf<ProxyProtocolMode>(fields.proxyProtocol ?? 'none', `${path}.proxyProtocol`, ['none', 'v2']);
  return proxyProtocol && { kind: 'backend', backends, proxyProtocol };
}

function readHttp(reader: FieldReader, value: unknown, path: string): HttpRouteSpec | undefined {
  if (value === undefined) return undefined;
  const fields = reader.object(value, path, ['backends', 'redirectToHttps']);
  if (!fields) return undefined;
  const redirect = fields.redirectToHttps ?? true;
  if (typeof redirect !== 'boolean') return reader.fail(`${path}.redirectToHttps`, 'must be true or false');
  return { backends: fields.backends === undefined ? [] : reader.endpoints(fields.backends, `${path}.backends`), redirectToHttps: redirect };
}

function readRoute(reader: FieldReader, value: unknown, path: string): RouteSpec | undefined {
  const fields = reader.object(value, path, ['hostname', 'tenant', 'protocol', 'alpn', 'backends', 'proxyProtocol', 'http']);
  if (!fields) return undefined;
  const hostnameText = reader.string(fields.hostname, `${path}.hostname`);
  const tenant = fields.tenant === undefined ? undefined : reader.string(fields.tenant, `${path}.tenant`);
  const protocol = reader.oneOf<RouteProtocol>(fields.protocol ?? 'tls', `${path}.protocol`, ['tls', 'postgres']);
  const alpn = fields.alpn === undefined ? undefined : (reader.list(fields.alpn, `${path}.alpn`) ?? []).map((p, i) => reader.string(p, `${path}.alpn[${i}]`) ?? '');
  const backends = reader.endpoints(fields.backends, `${path}.backends`);
  const proxyProtocol = reader.oneOf<ProxyProtocolMode>(fields.proxyProtocol ?? 'none', `${path}.proxyProtocol`, ['none', 'v2']);
  const http = readHttp(reader, fields.http, `${path}.http`);
  if (hostnameText === undefined || protocol === undefined || proxyProtocol === undefined) return undefined;
  return { source: path, hostname: hostnameText, tenant, protocol, alpn, backends, proxyProtocol, http };
}

function readTenant(reader: FieldReader, value: unknown, path: string): TenantSpec | undefined {
  const fields = reader.object(value, path, ['name', 'domains', 'maxConnections', 'newConnectionsPerSecond']);
  if (!fields) return undefined;
  const name = reader.string(fields.name, `${path}.name`);
  const domains = (reader.list(fields.domains ?? [], `${path}.domains`) ?? []).map((d, i) => reader.string(d, `${path}.domains[${i}]`) ?? '');
  const maxConnections = fields.maxConnections === undefined ? undefined : reader.positiveInteger(fields.maxConnections, `${path}.maxConnections`);
  const rate = fields.newConnectionsPerSecond === undefined ? undefined : reader.positiveInteger(fields.newConnectionsPerSecond, `${path}.newConnectionsPerSecond`);
  return name === undefined ? undefined : { source: path, name, domains, maxConnections, newConnectionsPerSecond: rate };
}

export function parseRoutesFile(text: string): RoutesFileResult {
  const lines = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (document.errors.length > 0) {
    return { ok: false, issues: document.errors.map((e) => ({ path: `line ${lines.linePos(e.pos[0]).line}`, message: e.message.split('\n')[0] ?? e.message })) };
  }
  const reader = new FieldReader();
  const root = reader.object(document.toJS() ?? {}, '', ['routes', 'tenants', 'default', 'listeners']);
  if (!root) return { ok: false, issues: reader.issues };
  const routes = (reader.list(root.routes ?? [], 'routes') ?? []).map((r, i) => readRoute(reader, r, `routes[${i}]`));
  const tenants = (reader.list(root.tenants ?? [], 'tenants') ?? []).map((t, i) => readTenant(reader, t, `tenants[${i}]`));
  const fallback = readDefault(reader, root.default, 'default');
  const listeners = root.listeners === undefined ? {} : reader.object(root.listeners, 'listeners', ['tls', 'postgres']) ?? {};
  const listenerDefault = (kind: RouteProtocol): DefaultAction | undefined => {
    const fields = listeners[kind] === undefined ? undefined : reader.object(listeners[kind], `listeners.${kind}`, ['default']);
    return fields?.default === undefined ? fallback : readDefault(reader, fields.default, `listeners.${kind}.default`);
  };
  const tls = listenerDefault('tls');
  const postgres = listenerDefault('postgres');
  if (reader.issues.length > 0 || !tls || !postgres) return { ok: false, issues: reader.issues };
  return {
    ok: true,
    snapshot: { routes: routes.filter((r) => r !== undefined), tenants: tenants.filter((t) => t !== undefined), defaults: { tls, postgres } },
  };
}
