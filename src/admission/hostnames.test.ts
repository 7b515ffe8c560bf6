import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostnameViolations, type HostnameFacts } from './hostnames.ts';
import type { AdmissionRequest, KubeObject } from './review-types.ts';
import { request } from './testing.ts';

const acme: HostnameFacts['tenant'] = { name: 'acme', zones: ['acme.example'] };
const routes: HostnameFacts['routes'] = [
  { namespace: 'globex', name: 'db', hostname: 'db.globex.example' },
  { namespace: 'globex', name: 'wild', hostname: '*.apps.globex.example' },
  { namespace: 'acme', name: 'shop', hostname: 'shop.acme.example' },
  { namespace: 'acme', name: 'tenants', hostname: '*.tenants.acme.example' },
];

const route = (hostname: string, name = 'new'): KubeObject => ({ apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name, namespace: 'acme' }, spec: { hostname, protocol: 'tls', backend: { service: 's', port: 443 } } });
const routeRequest = (hostname: string, name = 'new'): AdmissionRequest => ({
  ...request('CREATE', route(hostname, name)),
  name,
  kind: { group: 'landlord.dev', version: 'v1alpha1', kind: 'Route' },
  resource: { group: 'landlord.dev', version: 'v1alpha1', resource: 'routes' },
});
const ingressRequest = (hosts: string[]): AdmissionRequest => ({
  ...request('CREATE', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec: { rules: hosts.map((host) => ({ host })), tls: [{ hosts }] } }),
  kind: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' },
  resource: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
});

const cases: Array<{ name: string; request: AdmissionRequest; facts?: HostnameFacts; expect: string[] }> = [
  { name: 'admits a hostname inside the tenant zone', request: routeRequest('db.acme.example'), expect: [] },
  { name: 'admits the zone apex itself', request: routeRequest('acme.example'), expect: [] },
  { name: 'admits a wildcard inside the zone', request: routeRequest('*.eu.acme.example'), expect: [] },
  { name: 'admits a Route updating itself with its own hostname', request: routeRequest('shop.acme.example', 'shop'), expect: [] },
  { name: 'denies another tenant\'s hostname', request: routeRequest('db.globex.example'), expect: [
    'hostnames/tenantDomains: spec.hostname db.globex.example must be inside the tenant\'s domains (acme.example)',
    'hostnames/unique: spec.hostname db.globex.example is already routed by another Route: choose another hostname',
  ] },
  { name: 'denies a lookalike zone suffix', request: routeRequest('evilacme.example'), expect: ['hostnames/tenantDomains: spec.hostname evilacme.example must be inside the tenant\'s domains (acme.example)'] },
  { name: 'denies a wildcard above the zone', request: routeRequest('*.example'), expect: ['hostnames/syntax: spec.hostname "*.example" must have at least two labels below a wildcard'] },
  { name: 'denies a wildcard inside a label', request: routeRequest('db*.acme.example'), expect: ['hostnames/syntax: spec.hostname "db*.acme.example" must be a lowercase DNS name; a wildcard is allowed only as the whole first label ("*.")'] },
  { name: 'denies upper case', request: routeRequest('DB.acme.example'), expect: ['hostnames/syntax: spec.hostname "DB.acme.example" must be a lowercase DNS name; a wildcard is allowed only as the whole first label ("*.")'] },
  { name: 'denies a hostname another Route already claims', request: routeRequest('shop.acme.example'), expect: ['hostnames/unique: spec.hostname shop.acme.example is already routed by another Route: choose another hostname'] },
  { name: 'denies a name covered by an existing wildcard Route', request: routeRequest('eu.tenants.acme.example'), expect: ['hostnames/unique: spec.hostname eu.tenants.acme.example is already routed by another Route: choose another hostname'] },
  { name: 'denies a wildcard covering an existing Route', request: routeRequest('*.acme.example'), facts: { tenant: acme, routes: [...routes, { namespace: 'acme-b', name: 'x', hostname: 'x.acme.example' }] }, expect: ['hostnames/unique: spec.hostname *.acme.example is already routed by another Route: choose another hostname'] },
  { name: 'fails closed for a namespace with no tenant', request: routeRequest('db.acme.example'), facts: { routes }, expect: ['hostnames/tenantDomains: namespace acme belongs to no tenant with domains, so it may claim no hostname'] },
  { name: 'admits Ingress hosts inside the zone', request: ingressRequest(['www.acme.example']), expect: [] },
  { name: 'denies Ingress rule and TLS hosts outside the zone', request: ingressRequest(['www.globex.example']), expect: [
    'hostnames/tenantDomains: spec.rules[0].host www.globex.example must be inside the tenant\'s domains (acme.example)',
    'hostnames/tenantDomains: spec.tls[0].hosts[0] www.globex.example must be inside the tenant\'s domains (acme.example)',
  ] },
];

describe('hostname ownership', () => {
  for (const { name, request: req, facts, expect } of cases) {
    it(name, () => {
      assert.deepEqual(hostnameViolations(req, facts ?? { tenant: acme, routes }).map((v) => `${v.rule}: ${v.message}`), expect);
    });
  }
});
