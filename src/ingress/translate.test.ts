import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route, RouteSpec } from '../api/route.ts';
import { translateTenantRoutes, type KubeIngress, type TenantRouteSources } from './translate.ts';

function route(namespace: string, name: string, spec: Partial<RouteSpec>): Route {
  return {
    apiVersion: 'landlord.dev/v1alpha1',
    kind: 'Route',
    metadata: { name, namespace },
    spec: { hostname: `${name}.acme.example`, protocol: 'http', backend: { service: name, port: 8080 }, ...spec },
  };
}

type Rule = NonNullable<NonNullable<KubeIngress['spec']>['rules']>[number];
function ingress(namespace: string, name: string, rules: Rule[], extra: Partial<NonNullable<KubeIngress['spec']>> = {}): KubeIngress {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace }, spec: { ingressClassName: 'landlord-acme', rules, ...extra } };
}

const path = (p: string, service: string, pathType = 'Prefix', port: { number?: number; name?: string } = { number: 80 }) => ({ path: p, pathType, backend: { service: { name: service, port } } });

function sources(partial: Partial<TenantRouteSources>): TenantRouteSources {
  return { tenant: 'acme', domains: ['*.acme.example'], ingressClassName: 'landlord-acme', routes: [], ingresses: [], ...partial };
}

function summary(input: TenantRouteSources): { routes: string[]; issues: string[] } {
  const result = translateTenantRoutes(input);
  return {
    routes: result.table.routes.map((r) => `${r.host} ${r.pathType} ${r.path} -> ${r.backend.host}:${r.backend.port}`),
    issues: result.issues.map((i) => `${i.source}: ${i.message}`),
  };
}

describe('translateTenantRoutes', () => {
  const cases: { name: string; input: TenantRouteSources; routes: string[]; issues?: RegExp[] }[] = [
    {
      name: 'routes an http Route to its service in its namespace',
      input: sources({ routes: [route('acme', 'web', {})] }),
      routes: ['web.acme.example Prefix / -> web.acme.svc.cluster.local:8080'],
    },
    {
      name: 'ignores Routes that are not http or whose TLS ends elsewhere',
      input: sources({ routes: [route('acme', 'db', { protocol: 'postgres' }), route('acme', 'raw', { protocol: 'tls' }), route('acme', 'side', { tls: { mode: 'sidecar' } })] }),
      routes: [],
    },
    {
      name: 'uses the given cluster domain',
      input: sources({ clusterDomain: 'corp.internal', routes: [route('acme-prod', 'web', {})] }),
      routes: ['web.acme.example Prefix / -> web.acme-prod.svc.corp.internal:8080'],
    },
    {
      name: 'refuses a Route outside the tenant domains',
      input: sources({ routes: [route('acme', 'web', { hostname: 'web.globex.example' })] }),
      routes: [],
      issues: [/Route acme\/web: host web.globex.example is outside the tenant's domains/],
    },
    {
      name: 'translates Ingress rules with Exact, Prefix and ImplementationSpecific paths',
      input: sources({
        ingresses: [ingress('acme', 'shop', [{ host: 'Shop.acme.example', http: { paths: [path('/', 'front'), path('/api', 'api', 'Exact'), path('/img', 'img', 'ImplementationSpecific')] } }])],
      }),
      routes: ['shop.acme.example Prefix / -> front.acme.svc.cluster.local:80', 'shop.acme.example Exact /api -> api.acme.svc.cluster.local:80', 'shop.acme.example Prefix /img -> img.acme.svc.cluster.local:80'],
    },
    {
      name: 'reads only Ingresses of the tenant class (field or legacy annotation)',
      input: sources({
        ingresses: [
          ingress('acme', 'other', [{ host: 'a.acme.example', http: { paths: [path('/', 'a')] } }], { ingressClassName: 'nginx' }),
          { metadata: { name: 'legacy', namespace: 'acme', annotations: { 'kubernetes.io/ingress.class': 'landlord-acme' } }, spec: { rules: [{ host: 'b.acme.example', http: { paths: [path('/', 'b')] } }] } },
        ],
      }),
      routes: ['b.acme.example Prefix / -> b.acme.svc.cluster.local:80'],
    },
    {
      name: 'refuses a rule without host and a default backend',
      input: sources({ ingresses: [ingress('acme', 'catchall', [{ http: { paths: [path('/', 'x')] } }], { defaultBackend: { service: { name: 'x', port: { number: 80 } } } })] }),
      routes: [],
      issues: [/spec.defaultBackend: default backends are not supported/, /rules\[0\]: a rule without host would match every name/],
    },
    {
      name: 'refuses named ports, unknown path types and relative paths',
      input: sources({
        ingresses: [ingress('acme', 'bad', [{ host: 'x.acme.example', http: { paths: [path('/a', 'a', 'Prefix', { name: 'http' }), path('/b', 'b', 'Regex'), path('c', 'c')] } }])],
      }),
      routes: [],
      issues: [/paths\[0\]: backend.service.port.number is required/, /paths\[1\]: pathType "Regex"/, /paths\[2\]: path "c" must start with "\/"/],
    },
    {
      name: 'keeps the first claim of a host and path; Routes come before Ingresses',
      input: sources({
        routes: [route('acme', 'web', {})],
        ingresses: [ingress('acme', 'takeover', [{ host: 'web.acme.example', http: { paths: [path('/', 'evil'), path('/extra', 'extra')] } }])],
      }),
      routes: ['web.acme.example Prefix / -> web.acme.svc.cluster.local:8080', 'web.acme.example Prefix /extra -> extra.acme.svc.cluster.local:80'],
      issues: [/takeover rules\[0\].http.paths\[0\]: web.acme.example Prefix \/ is already routed by Route acme\/web/],
    },
    {
      name: 'does not depend on the order objects were listed',
      input: sources({ ingresses: [ingress('acme', 'zz', [{ host: 'x.acme.example', http: { paths: [path('/', 'zz')] } }]), ingress('acme', 'aa', [{ host: 'x.acme.example', http: { paths: [path('/', 'aa')] } }])] }),
      routes: ['x.acme.example Prefix / -> aa.acme.svc.cluster.local:80'],
      issues: [/Ingress acme\/zz .* already routed by Ingress acme\/aa/],
    },
    {
      name: 'accepts the zone apex and wildcard hosts inside the domain',
      input: sources({ domains: ['acme.example'], routes: [route('acme', 'apex', { hostname: 'acme.example' }), route('acme', 'wild', { hostname: '*.api.acme.example' })] }),
      routes: ['acme.example Prefix / -> apex.acme.svc.cluster.local:8080', '*.api.acme.example Prefix / -> wild.acme.svc.cluster.local:8080'],
    },
    {
      name: 'refuses a look-alike domain',
      input: sources({ routes: [route('acme', 'x', { hostname: 'evilacme.example' })] }),
      routes: [],
      issues: [/outside the tenant's domains/],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = summary(c.input);
      assert.deepEqual(result.routes, c.routes);
      const expected = c.issues ?? [];
      assert.equal(result.issues.length, expected.length, result.issues.join('\n'));
      expected.forEach((pattern, i) => assert.match(result.issues[i] ?? '', pattern));
    });
  }
});
