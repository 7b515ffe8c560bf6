import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteSpec, RoutingSnapshot, TenantSpec } from './ir.ts';
import { parseRoutesFile } from './routes-file.ts';
import { translate } from './translate.ts';

/** Fixture builders: a route or tenant with sensible defaults and the fields a case cares about. */
function route(hostname: string, extra: Partial<RouteSpec> = {}): RouteSpec {
  return { source: `route ${hostname}`, hostname, tenant: undefined, protocol: 'tls', alpn: undefined, backends: [{ host: '127.0.0.1', port: 1 }], proxyProtocol: 'none', http: undefined, ...extra };
}
function tenant(name: string, domains: string[], extra: Partial<TenantSpec> = {}): TenantSpec {
  return { source: `tenant ${name}`, name, domains, maxConnections: undefined, newConnectionsPerSecond: undefined, ...extra };
}
function snapshot(routes: RouteSpec[], tenants: TenantSpec[] = [], fallback: RoutingSnapshot['defaults']['tls'] = { kind: 'reject' }): RoutingSnapshot {
  return { routes, tenants, defaults: { tls: fallback, postgres: { kind: 'reject' } } };
}
function table(s: RoutingSnapshot) {
  const result = translate(s, 1);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues));
  return result.table;
}
function issues(s: RoutingSnapshot): string[] {
  const result = translate(s, 1);
  assert.equal(result.ok, false);
  return result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('RouteTable.lookup', () => {
  const t = table(
    snapshot([
      route('app.test'),
      route('*.acme.test', { tenant: 'acme' }),
      route('www.acme.test', { tenant: 'acme' }),
      route('h2.test', { alpn: ['h2'] }),
      route('h2.test'),
      route('pg.test', { protocol: 'postgres' }),
    ]),
  );
  const name = (sni: string | undefined, alpn: string[] = [], protocol: 'tls' | 'postgres' = 'tls') => {
    const decision = t.lookup(protocol, sni, alpn);
    return decision.kind === 'route' ? `${decision.route.name}${decision.route.alpn ? ' [alpn]' : ''}` : decision.reason;
  };
  const cases: [string, string | undefined, string[], 'tls' | 'postgres', string][] = [
    ['matches an exact hostname', 'app.test', [], 'tls', 'app.test'],
    ['matches a wildcard for one extra label', 'db.acme.test', [], 'tls', '*.acme.test'],
    ['does not match a wildcard for two extra labels', 'a.b.acme.test', [], 'tls', 'no_route'],
    ['does not match a wildcard for its bare suffix', 'acme.test', [], 'tls', 'no_route'],
    ['prefers an exact name over a wildcard', 'www.acme.test', [], 'tls', 'www.acme.test'],
    ['prefers the ALPN-conditioned route when the client offers its protocol', 'h2.test', ['http/1.1', 'h2'], 'tls', 'h2.test [alpn]'],
    ['falls back to the unconditioned route without the protocol', 'h2.test', ['http/1.1'], 'tls', 'h2.test'],
    ['rejects a client without SNI when the default is reject', undefined, [], 'tls', 'no_sni'],
    ['keeps postgres routes off the TLS listener', 'pg.test', [], 'tls', 'no_route'],
    ['finds postgres routes on the postgres listener', 'pg.test', [], 'postgres', 'pg.test'],
  ];
  for (const [title, sni, alpn, protocol, expected] of cases) it(title, () => assert.equal(name(sni, alpn, protocol), expected));

  it('sends unmatched clients to a default backend when one is configured', () => {
    const withDefault = table(snapshot([route('app.test')], [], { kind: 'backend', backends: [{ host: '127.0.0.1', port: 2 }], proxyProtocol: 'none' }));
    const decision = withDefault.lookup('tls', undefined, []);
    assert.equal(decision.kind === 'route' && decision.route.name, 'default');
  });
});

describe('translate validation', () => {
  const cases: [string, RoutingSnapshot, string][] = [
    ['rejects a route inside another tenant\'s domains', snapshot([route('db.acme.test', { tenant: 'globex' })], [tenant('acme', ['*.acme.test'])]), 'route db.acme.test.hostname: db.acme.test belongs to tenant acme'],
    ['rejects an unowned route claiming a tenant\'s name', snapshot([route('acme.test')], [tenant('acme', ['acme.test'])]), 'route acme.test.hostname: acme.test belongs to tenant acme'],
    ['rejects a tenant route outside its own domains', snapshot([route('x.other.test', { tenant: 'acme' })], [tenant('acme', ['*.acme.test'])]), 'route x.other.test.hostname: x.other.test is outside the domains of tenant acme'],
    ['rejects overlapping tenant domains', snapshot([], [tenant('acme', ['*.acme.test']), tenant('globex', ['db.acme.test'])]), 'tenant globex.domains[0]: db.acme.test overlaps *.acme.test of tenant acme'],
    ['rejects two routes for the same name and protocol', snapshot([route('a.test'), route('A.test.')]), 'route A.test..hostname: a.test (tls) is already routed by route a.test'],
    ['rejects an IP address as hostname', snapshot([route('10.0.0.1')]), 'route 10.0.0.1.hostname: "10.0.0.1" is an IP address; routes match server names only'],
    ['rejects a wildcard in the middle', snapshot([route('a.*.test')]), 'route a.*.test.hostname: "a.*.test" is not a hostname or *.suffix pattern'],
    ['rejects a route without backends', snapshot([route('a.test', { backends: [] })]), 'route a.test.backends: at least one backend is required'],
  ];
  for (const [title, s, expected] of cases) it(title, () => assert.deepEqual(issues(s), [expected]));

  it('admits a tenant route inside its domains and exposes its limits', () => {
    const t = table(snapshot([route('*.acme.test', { tenant: 'acme' })], [tenant('acme', ['*.acme.test'], { maxConnections: 5 })]));
    assert.equal(t.tenantLimits('acme')?.maxConnections, 5);
  });
});

describe('parseRoutesFile', () => {
  it('reads the minimal documented file', () => {
    const result = parseRoutesFile(`
routes:
  - hostname: app.test
    backends: ["127.0.0.1:9443"]
  - hostname: "*.acme.test"
    tenant: acme
    backends: ["127.0.0.1:9444"]
    proxyProtocol: v2
default: reject
`);
    assert.ok(result.ok);
    assert.deepEqual(result.snapshot.routes[1], {
      source: 'routes[1]', hostname: '*.acme.test', tenant: 'acme', protocol: 'tls', alpn: undefined,
      backends: [{ host: '127.0.0.1', port: 9444 }], proxyProtocol: 'v2', http: undefined,
    });
    assert.deepEqual(result.snapshot.defaults, { tls: { kind: 'reject' }, postgres: { kind: 'reject' } });
  });

  it('reads tenants, per-listener defaults, IPv6 and DNS backends', () => {
    const result = parseRoutesFile(`
routes:
  - hostname: db.acme.test
    tenant: acme
    protocol: postgres
    backends: ["[::1]:5432", "pg.internal:5432"]
    http: { backends: ["127.0.0.1:8080"], redirectToHttps: false }
tenants:
  - { name: acme, domains: ["*.acme.test"], maxConnections: 10, newConnectionsPerSecond: 5 }
default: { backends: ["127.0.0.1:1"] }
listeners: { postgres: { default: reject } }
`);
    assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues));
    assert.deepEqual(result.snapshot.routes[0]?.backends, [{ host: '::1', port: 5432 }, { host: 'pg.internal', port: 5432 }]);
    assert.deepEqual(result.snapshot.defaults.postgres, { kind: 'reject' });
    assert.equal(result.snapshot.defaults.tls.kind, 'backend');
    assert.equal(result.snapshot.tenants[0]?.newConnectionsPerSecond, 5);
  });

  const bad: [string, string, string][] = [
    ['names a backend that is not host:port', 'routes:\n  - hostname: a.test\n    backends: ["127.0.0.1:1"]\n  - hostname: b.test\n    backends: ["x"]\n', 'routes[1].backends[0]: "x" is not host:port'],
    ['names an out-of-range port', 'routes:\n  - hostname: a.test\n    backends: ["h:70000"]\n', 'routes[0].backends[0]: "h:70000" is not host:port'],
    ['names an unknown field', 'routes:\n  - hostname: a.test\n    backend: ["h:1"]\n', 'routes[0].backend: unknown field (allowed: hostname, tenant, protocol, alpn, backends, proxyProtocol, http)'],
    ['names a bad proxyProtocol', 'routes:\n  - hostname: a.test\n    backends: ["h:1"]\n    proxyProtocol: v1\n', 'routes[0].proxyProtocol: "v1" is not one of none, v2'],
    ['names a non-positive limit', 'tenants:\n  - name: a\n    maxConnections: 0\n', 'tenants[0].maxConnections: 0 is not a positive integer'],
    ['names an unknown top-level field', 'route: []\n', 'route: unknown field (allowed: routes, tenants, default, listeners)'],
    ['names a bad default', 'default: allow\n', 'default: must be a mapping'],
    ['reports malformed YAML with its line', 'routes:\n  - hostname: [a\n', 'line 3: '],
    ['reports duplicate keys', 'routes: []\nroutes: []\n', 'line 2: '],
  ];
  for (const [title, text, expected] of bad) {
    it(title, () => {
      const result = parseRoutesFile(text);
      assert.equal(result.ok, false);
      const messages = result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
      assert.ok(messages.some((m) => m.startsWith(expected)), JSON.stringify(messages));
    });
  }
});
