import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngressTable, normalizeHost, type IngressRoute, type PathType } from './table.ts';

const route = (host: string, path: string, pathType: PathType, name: string): IngressRoute => ({ host, path, pathType, backend: { host: name, port: 80 }, source: name });

const table = new IngressTable([
  route('app.acme.example', '/', 'Prefix', 'root'),
  route('app.acme.example', '/api', 'Prefix', 'api'),
  route('app.acme.example', '/api/v2/', 'Prefix', 'api-v2'),
  route('app.acme.example', '/api/status', 'Exact', 'status-exact'),
  route('app.acme.example', '/login', 'Exact', 'login'),
  route('*.acme.example', '/', 'Prefix', 'wildcard'),
  route('only.acme.example', '/shop', 'Prefix', 'shop'),
]);

describe('IngressTable.match', () => {
  const cases: [string, string, string, string | undefined][] = [
    ['routes / to the root prefix', 'app.acme.example', '/', 'root'],
    ['routes an unmatched path to the root prefix', 'app.acme.example', '/other', 'root'],
    ['prefers the longest prefix', 'app.acme.example', '/api/users', 'api'],
    ['matches a prefix exactly', 'app.acme.example', '/api', 'api'],
    ['matches whole path elements only', 'app.acme.example', '/apis', 'root'],
    ['treats a trailing slash in a prefix as the same element', 'app.acme.example', '/api/v2', 'api-v2'],
    ['routes below a trailing-slash prefix', 'app.acme.example', '/api/v2/x', 'api-v2'],
    ['prefers an exact path over a prefix of the same length', 'app.acme.example', '/api/status', 'status-exact'],
    ['does not match an exact path with a suffix', 'app.acme.example', '/login/x', 'root'],
    ['matches a wildcard host for one extra label', 'x.acme.example', '/anything', 'wildcard'],
    ['does not match a wildcard host for two extra labels', 'a.b.acme.example', '/', undefined],
    ['does not match the wildcard zone apex', 'acme.example', '/', undefined],
    ['does not fall back to the wildcard for an exact host without a matching path', 'only.acme.example', '/', undefined],
    ['matches a path of an exact host', 'only.acme.example', '/shop/cart', 'shop'],
    ['knows no other tenant host', 'app.globex.example', '/', undefined],
  ];
  for (const [name, host, path, expected] of cases) {
    it(name, () => assert.equal(table.match(host, path)?.route.source, expected));
  }
});

describe('normalizeHost', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['lowercases', 'App.ACME.example', 'app.acme.example'],
    ['drops the port', 'app.acme.example:8443', 'app.acme.example'],
    ['drops one trailing dot', 'app.acme.example.', 'app.acme.example'],
    ['refuses an IPv6 literal', '[::1]:443', undefined],
    ['refuses an IPv4 literal', '127.0.0.1:443', undefined],
    ['refuses a name with a slash', 'a/b', undefined],
    ['refuses empty', '', undefined],
    ['refuses undefined', undefined, undefined],
  ];
  for (const [name, input, expected] of cases) it(`${name}: ${String(input)}`, () => assert.equal(normalizeHost(input), expected));
});
