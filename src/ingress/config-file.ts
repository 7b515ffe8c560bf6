/**
 * The standalone config file (`landlord ingress --config FILE`): YAML in, `IngressFileConfig`
 * out. Pure (the reader and watcher live in serve.ts). Unknown fields are errors, and every issue
 * names its field (`routes[2].backend: "x" is not host:port`), so a typo never silently drops a
 * route. The Kubernetes source (Routes and Ingresses, translate.ts) replaces `routes` later.
 *
 *   tenant: acme                         # optional; must equal --tenant
 *   domains: ["*.acme.example"]          # optional; certificates and routes must lie inside
 *   certificates: [certs/]               # directories (relative to this file), cert-manager layout
 *   trustedProxies: ["10.0.0.0/8"]       # edge routers: PROXY v2 required and believed
 *   trustedForwarders: []                # L7 proxies whose X-Forwarded-* are kept
 *   limits: { maxBodyBytes: 10485760, maxUpstreamSockets: 256 }
 *   timeouts: { handshakeMs: 10000, headersMs: 30000, idleMs: 300000, upstreamMs: 60000 }
 *   routes:
 *     - host: app.acme.example
 *       path: /api                       # default "/"
 *       pathType: Prefix                 # Prefix (default) | Exact
 *       backend: 127.0.0.1:8080          # host:port or [ipv6]:port
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';
import { parseEndpoint } from '../router/index.ts';
import type { IngressLimits, IngressTimeouts } from './ingress.ts';
import { normalizeHost, type IngressRoute } from './table.ts';
import type { TranslateIssue } from './translate.ts';

export interface IngressFileConfig {
  readonly tenant: string | undefined;
  readonly domains: readonly string[] | undefined;
  readonly certificateDirectories: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly trustedForwarders: readonly string[];
  readonly limits: Partial<IngressLimits>;
  readonly timeouts: Partial<IngressTimeouts>;
  /** Candidates in file order; `buildIngressTable` validates and de-duplicates them. */
  readonly routes: readonly IngressRoute[];
}

export type ConfigParseResult = { readonly ok: true; readonly config: IngressFileConfig } | { readonly ok: false; readonly issues: readonly TranslateIssue[] };

type Fields = Record<string, unknown>;

const topLevel = new Set(['tenant', 'domains', 'certificates', 'trustedProxies', 'trustedForwarders', 'limits', 'timeouts', 'routes']);
const routeFields = new Set(['host', 'path', 'pathType', 'backend']);
const limitFields = ['maxBodyBytes', 'maxUpstreamSockets'] as const;
const timeoutFields = ['handshakeMs', 'headersMs', 'idleMs', 'upstreamMs'] as const;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Reader {
  readonly issues: TranslateIssue[] = [];

  issue(source: string, message: string): undefined {
    this.issues.push({ source, message });
    return undefined;
  }

  unknownFields(value: Fields, allowed: ReadonlySet<string>, at: string): void {
    for (const key of Object.keys(value)) if (!allowed.has(key)) this.issue(at ? `${at}.${key}` : key, 'unknown field');
  }

  strings(value: unknown, at: string): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) return this.issue(at, 'must be a list of non-empty strings') ?? [];
    return value as string[];
  }

  cidrs(value: unknown, at: string): string[] {
    const list = this.strings(value, at);
    list.forEach((cidr, i) => {
      const [address = '', prefix] = cidr.split('/');
      const family = isIP(address);
      const bits = prefix === undefined ? 0 : Number(prefix);
      if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128) || prefix === '') this.issue(`${at}[${i}]`, `${JSON.stringify(cidr)} is not an address or CIDR`);
    });
    return list;
  }

  numbers<K extends string>(value: unknown, names: readonly K[], at: string): Partial<Record<K, number>> {
    if (value === undefined) return {};
    if (!isObject(value)) return this.issue(at, 'must be a mapping') ?? {};
    this.unknownFields(value, new Set(names), at);
    const out: Partial<Record<K, number>> = {};
    for (const name of names) {
      const field = value[name];
      if (field === undefined) continue;
      if (typeof field !== 'number' || !Number.isSafeInteger(field) || field <= 0) this.issue(`${at}.${name}`, 'must be a positive integer');
      else out[name] = field;
    }
    return out;
  }

  route(value: unknown, at: string): IngressRoute | undefined {
    if (!isObject(value)) return this.issue(at, 'must be a mapping with host and backend');
    this.unknownFields(value, routeFields, at);
    const host = typeof value.host === 'string' ? normalizeHost(value.host) : undefined;
    if (!host) return this.issue(`${at}.host`, `${JSON.stringify(value.host)} is not a DNS name`);
    const pathValue = value.path ?? '/';
    if (typeof pathValue !== 'string' || !pathValue.startsWith('/')) return this.issue(`${at}.path`, `${JSON.stringify(pathValue)} must start with "/"`);
    const pathType = value.pathType ?? 'Prefix';
    if (pathType !== 'Prefix' && pathType !== 'Exact') return this.issue(`${at}.pathType`, `${JSON.stringify(pathType)} is not Prefix or Exact`);
    const backend = parseEndpoint(value.backend);
    if (!backend) return this.issue(`${at}.backend`, `${JSON.stringify(value.backend)} is not host:port`);
    return { host, path: pathValue, pathType, backend, source: at };
  }
}

/** Parses the file's text; relative certificate directories are resolved against `baseDir`. */
export function parseIngressConfig(text: string, baseDir: string): ConfigParseResult {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    return { ok: false, issues: [{ source: 'file', message: `not YAML: ${error instanceof Error ? error.message : String(error)}` }] };
  }
  const reader = new Reader();
  if (!isObject(document)) return { ok: false, issues: [{ source: 'file', message: 'must be a mapping with certificates and routes' }] };
  reader.unknownFields(document, topLevel, '');
  if (document.tenant !== undefined && typeof document.tenant !== 'string') reader.issue('tenant', 'must be a string');
  const certificates = reader.strings(document.certificates, 'certificates');
  if (certificates.length === 0) reader.issue('certificates', 'at least one certificate directory is required');
  const routesValue = document.routes ?? [];
  if (!Array.isArray(routesValue)) reader.issue('routes', 'must be a list');
  const routes = (Array.isArray(routesValue) ? routesValue : []).map((r, i) => reader.route(r, `routes[${i}]`)).filter((r): r is IngressRoute => r !== undefined);
  const config: IngressFileConfig = {
    tenant: typeof document.tenant === 'string' ? document.tenant : undefined,
    domains: document.domains === undefined ? undefined : reader.strings(document.domains, 'domains'),
    certificateDirectories: certificates.map((dir) => path.resolve(baseDir, dir)),
    trustedProxies: reader.cidrs(document.trustedProxies, 'trustedProxies'),
    trustedForwarders: reader.cidrs(document.trustedForwarders, 'trustedForwarders'),
    limits: reader.numbers(document.limits, limitFields, 'limits'),
    timeouts: reader.numbers(document.timeouts, timeoutFields, 'timeouts'),
    routes,
  };
  return reader.issues.length > 0 ? { ok: false, issues: reader.issues } : { ok: true, config };
}
