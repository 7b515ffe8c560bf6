import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteSpec } from '../api/route.ts';
import { validate } from './review.ts';
import { denialMessage, type KubeObject } from './review-types.ts';
import { request } from './testing.ts';

const route = (spec: Partial<RouteSpec>): KubeObject => ({
  apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name: 'api', namespace: 'acme' },
  spec: { hostname: 'api.acme.example', protocol: 'tls', backend: { service: 'api', port: 443 }, ...spec },
});
const hostnames = { tenant: { name: 'acme', zones: ['acme.example'] }, routes: [] };
const outcome = (spec: Partial<RouteSpec>, operation: 'CREATE' | 'UPDATE' = 'CREATE'): string => {
  const decision = validate(request(operation, route(spec), operation === 'UPDATE' ? { oldObject: route({}) } : {}), { hostnames });
  return decision.allowed ? 'allowed' : denialMessage(decision.violations);
};

describe('a Route\'s TLS settings that depend on each other', () => {
  const cases: Array<[string, Partial<RouteSpec>, string]> = [
    ['admits client certificates required by the sidecar, with allowed clients', { tls: { clientAuthentication: 'required', allowedClients: ['spiffe://acme.landlord.local/ns/acme/sa/web'] } }, 'allowed'],
    ['admits client certificates required by the sidecar a tls Route uses by default', { tls: { clientAuthentication: 'required' } }, 'allowed'],
    ['admits an ingress Route that asks for no client certificate', { protocol: 'http', tls: { clientAuthentication: 'none' } }, 'allowed'],
    ['denies client authentication on an http Route, which ends TLS in the tenant ingress', { protocol: 'http', tls: { clientAuthentication: 'required' } },
      'routes/clientAuthentication: spec.tls.clientAuthentication required is enforced only by the TLS sidecar, and this Route ends TLS in the tenant ingress: set spec.tls.mode sidecar, or remove clientAuthentication'],
    ['denies client authentication on a passthrough Route', { tls: { mode: 'passthrough', clientAuthentication: 'optional' } },
      'routes/clientAuthentication: spec.tls.clientAuthentication optional is enforced only by the TLS sidecar, and this Route ends TLS in the app itself (passthrough): set spec.tls.mode sidecar, or remove clientAuthentication'],
    ['denies allowed clients without required client certificates', { tls: { allowedClients: ['spiffe://acme.landlord.local/ns/acme/sa/web'] } },
      'routes/allowedClients: spec.tls.allowedClients must go with spec.tls.clientAuthentication required (it is none): without it no client presents a certificate to compare'],
  ];
  for (const [name, spec, expected] of cases) it(name, () => assert.equal(outcome(spec), expected));

  it('judges an UPDATE as a CREATE: turning on client authentication for an ingress Route is denied too', () => {
    assert.match(outcome({ protocol: 'http', tls: { clientAuthentication: 'required' } }, 'UPDATE'), /^routes\/clientAuthentication: /);
  });

  it('warns about allowed clients no certificate of the tenant\'s CA can carry, and admits the Route', () => {
    const decision = validate(request('CREATE', route({ tls: { clientAuthentication: 'required', allowedClients: [
      'spiffe://acme.landlord.local/ns/acme/sa/web', 'spiffe://globex.landlord.local/ns/globex/sa/web', 'batch.acme.example', 'batch.globex.example',
    ] } })), { hostnames });
    assert.deepEqual(decision, { allowed: true, warnings: [
      'spec.tls.allowedClients[1] spiffe://globex.landlord.local/ns/globex/sa/web is outside tenant acme\'s trust domain (acme.<platform trust domain>): its sidecars trust only acme\'s CA, so no client will match it',
      'spec.tls.allowedClients[3] batch.globex.example is outside tenant acme\'s zones (acme.example): acme\'s CA cannot issue a certificate for it, so no client will match it',
    ] });
  });

  it('does not guess without the tenant, and warns only on admitted Routes', () => {
    const foreign = route({ tls: { clientAuthentication: 'required', allowedClients: ['spiffe://globex.landlord.local/ns/globex/sa/web'] } });
    assert.deepEqual(validate(request('CREATE', foreign), { hostnames: { routes: [] } }).allowed, false, 'no tenant: the hostname check refuses, with no warning to add');
    const refused = validate(request('CREATE', route({ protocol: 'http', tls: { clientAuthentication: 'required', allowedClients: ['spiffe://globex.landlord.local/ns/g/sa/w'] } })), { hostnames });
    assert.equal(refused.allowed, false);
  });

  it('leaves a Route stored before these rules alone while its TLS settings stay as they were', () => {
    const legacy = route({ protocol: 'http', tls: { clientAuthentication: 'required' } });
    const relabelled = { ...legacy, metadata: { ...legacy.metadata, labels: { team: 'shop' } } };
    assert.equal(validate(request('UPDATE', relabelled, { oldObject: legacy }), { hostnames }).allowed, true);
  });

  it('reads hostile specs without throwing', () => {
    for (const tls of [null, 'required', 7, { clientAuthentication: 9 }, { allowedClients: 'x' }, { mode: {} }]) {
      assert.doesNotThrow(() => outcome({ tls } as unknown as Partial<RouteSpec>));
    }
  });
});
