import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIngressConfig } from './config-file.ts';

describe('parseIngressConfig', () => {
  it('reads a complete file, resolving certificate directories against the file', () => {
    const result = parseIngressConfig(
      `tenant: acme
domains: ["*.acme.example"]
certificates: [certs, /abs/more]
trustedProxies: ["10.0.0.0/8", "::1"]
limits: { maxBodyBytes: 2048 }
timeouts: { upstreamMs: 500 }
routes:
  - host: App.acme.example
    backend: 127.0.0.1:8080
  - host: app.acme.example
    path: /api
    pathType: Exact
    backend: "[::1]:9090"
`,
      '/etc/ingress',
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
    assert.deepEqual(result.config.certificateDirectories, ['/etc/ingress/certs', '/abs/more']);
    assert.deepEqual(result.config.limits, { maxBodyBytes: 2048 });
    assert.deepEqual(result.config.timeouts, { upstreamMs: 500 });
    assert.deepEqual(result.config.routes, [
      { host: 'app.acme.example', path: '/', pathType: 'Prefix', backend: { host: '127.0.0.1', port: 8080 }, source: 'routes[0]' },
      { host: 'app.acme.example', path: '/api', pathType: 'Exact', backend: { host: '::1', port: 9090 }, source: 'routes[1]' },
    ]);
  });

  const invalid: [string, string, RegExp][] = [
    ['names an unknown field', 'certificates: [c]\nroutes: []\nlisten: 1', /^listen: unknown field/],
    ['names an unknown route field', 'certificates: [c]\nroutes: [{ host: a.example, backend: "h:1", weight: 2 }]', /^routes\[0\].weight: unknown field/],
    ['requires a certificate directory', 'routes: []', /^certificates: at least one/],
    ['refuses a backend that is not host:port', 'certificates: [c]\nroutes: [{ host: a.example, backend: nope }]', /^routes\[0\].backend: "nope" is not host:port/],
    ['refuses a relative path', 'certificates: [c]\nroutes: [{ host: a.example, path: api, backend: "h:1" }]', /^routes\[0\].path: "api" must start with/],
    ['refuses an unknown path type', 'certificates: [c]\nroutes: [{ host: a.example, pathType: Regex, backend: "h:1" }]', /^routes\[0\].pathType/],
    ['refuses a host that is not a DNS name', 'certificates: [c]\nroutes: [{ host: "a b", backend: "h:1" }]', /^routes\[0\].host/],
    ['refuses a bad CIDR', 'certificates: [c]\ntrustedProxies: ["10.0.0.0/33"]', /^trustedProxies\[0\]: "10.0.0.0\/33" is not an address or CIDR/],
    ['refuses a non-positive limit', 'certificates: [c]\nlimits: { maxBodyBytes: 0 }', /^limits.maxBodyBytes: must be a positive integer/],
    ['refuses text that is not YAML', 'certificates: [c\n', /^file: not YAML/],
  ];
  for (const [name, text, pattern] of invalid) {
    it(name, () => {
      const result = parseIngressConfig(text, '/etc/ingress');
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(`${result.issues[0]?.source}: ${result.issues[0]?.message}`, pattern);
    });
  }
});
