import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildCertificateSet, type CertificateSet } from './certificates.ts';
import { decideRequest, type RequestFacts } from './decision.ts';
import { IngressTable } from './table.ts';
import { route, tenantPki } from './testing.ts';

const table = new IngressTable([route('app.acme.example', '/', 1), route('app.acme.example', '/api', 2), route('*.shop.acme.example', '/', 3), route('www.acme.example', '/site', 4)]);

describe('decideRequest', () => {
  let certificates: CertificateSet;
  before(async () => {
    const pki = await tenantPki('acme', ['*.acme.example']);
    certificates = buildCertificateSet([await pki.leaf('app.acme.example'), await pki.leaf('*.shop.acme.example'), await pki.leaf('www.acme.example', 'unrouted.acme.example')]);
  });

  const cases: { name: string; facts: Partial<RequestFacts>; outcome: string }[] = [
    { name: 'routes a host its SNI certificate covers', facts: {}, outcome: 'route 127.0.0.1:1' },
    { name: 'routes by the longest path', facts: { target: '/api/x?y=/z' }, outcome: 'route 127.0.0.1:2' },
    { name: 'accepts a Host with port and different case', facts: { authority: 'APP.acme.example:443' }, outcome: 'route 127.0.0.1:1' },
    { name: 'routes a wildcard host under a wildcard certificate', facts: { serverName: 'a.shop.acme.example', authority: 'b.shop.acme.example' }, outcome: 'route 127.0.0.1:3' },
    { name: 'refuses a missing Host', facts: { authority: undefined }, outcome: 'refuse 400 bad_host' },
    { name: 'refuses an IP literal Host', facts: { authority: '127.0.0.1' }, outcome: 'refuse 400 bad_host' },
    { name: "refuses another tenant's Host", facts: { authority: 'app.globex.example' }, outcome: 'refuse 421 misdirected' },
    { name: 'refuses a Host of this tenant that the SNI certificate does not cover', facts: { authority: 'www.acme.example' }, outcome: 'refuse 421 misdirected' },
    { name: 'refuses a connection without SNI', facts: { serverName: undefined }, outcome: 'refuse 421 misdirected' },
    { name: 'refuses a covered host without routes', facts: { serverName: 'www.acme.example', authority: 'unrouted.acme.example' }, outcome: 'refuse 421 misdirected' },
    { name: 'answers 404 for a routed host without a matching path', facts: { serverName: 'www.acme.example', authority: 'www.acme.example', target: '/elsewhere' }, outcome: 'refuse 404 no_route' },
    { name: 'refuses a declared body over the limit', facts: { contentLength: 101 }, outcome: 'refuse 413 too_large' },
    { name: 'accepts a declared body at the limit', facts: { contentLength: 100 }, outcome: 'route 127.0.0.1:1' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const facts: RequestFacts = { authority: 'app.acme.example', serverName: 'app.acme.example', target: '/', contentLength: undefined, ...c.facts };
      const decision = decideRequest(facts, table, certificates, { maxBodyBytes: 100 });
      const outcome = decision.kind === 'route' ? `route ${decision.match.route.backend.host}:${decision.match.route.backend.port}` : `refuse ${decision.status} ${decision.reason}`;
      assert.equal(outcome, c.outcome);
    });
  }
});
