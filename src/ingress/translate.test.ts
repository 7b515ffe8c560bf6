import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route, RouteSpec } from '../api/route.ts';
import { translateTenantRoutes, type KubeIngress, type KubeService, type TenantRouteSources } from './translate.ts';

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

function service(namespace: string, name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string }[] = [{ name: 'http', port: 80 }, { name: 'alt', port: 8080 }], type?: string): KubeService {
  return { metadata: { name, namespace }, spec: { clusterIP, ports, ...(type ? { type } : {}) } };
}

/** A ClusterIP Service (ports 80 "http" and 8080 "alt") for every backend name the cases use. */
const serviceNames = ['c', 'web', 'front', 'api', 'img', 'a', 'b', 'x', 'evil', 'extra', 'zz', 'aa', 'apex', 'wild'];
const defaultServices = ['acme', 'acme-prod'].flatMap((namespace, n) => serviceNames.map((name, i) => service(namespace, name, `10.96.${n}.${i + 1}`)));

function sources(partial: Partial<TenantRouteSources>): TenantRouteSources {
  return { tenant: 'acme', domains: ['*.acme.example'], ingressClassName: 'landlord-acme', routes: [], ingresses: [], services: defaultServices, ...partial };
}

/** Backends read as `<namespace>/<service>:<port>` when the address is a fixture Service's ClusterIP. */
function summary(input: TenantRouteSources): { routes: string[]; issues: string[]; secrets: string[] } {
  const result = translateTenantRoutes(input);
  const byIp = new Map(input.services.map((s) => [s.spec?.clusterIP, `${s.metadata.namespace}/${s.metadata.name}`]));
  return {
    routes: result.table.routes.map((r) => `${r.host} ${r.pathType} ${r.path} -> ${byIp.get(r.backend.host) ?? r.backend.host}:${r.backend.port}`),
    issues: result.issues.map((i) => `${i.source}: ${i.message}`),
    secrets: result.certificateSecrets.map((s) => `${s.namespace}/${s.name} (${s.source})`),
  };
}

describe('translateTenantRoutes', () => {
  const cases: { name: string; input: TenantRouteSources; routes: string[]; issues?: RegExp[]; secrets?: string[] }[] = [
    {
      name: 'routes an http Route to its service in its namespace',
      input: sources({ routes: [route('acme', 'web', {})] }),
      routes: ['web.acme.example Prefix / -> acme/web:8080'],
    },
    {
      name: 'ignores Routes that are not http or whose TLS ends elsewhere',
      input: sources({ routes: [route('acme', 'db', { protocol: 'postgres' }), route('acme', 'raw', { protocol: 'tls' }), route('acme', 'side', { tls: { mode: 'sidecar' } })] }),
      routes: [],
    },
    {
      name: 'resolves a backend to the ClusterIP of the Service in the Route namespace',
      input: sources({ services: [service('acme', 'web', '10.96.0.1'), service('acme-prod', 'web', '10.96.7.7')], routes: [route('acme-prod', 'web', {})] }),
      routes: ['web.acme.example Prefix / -> acme-prod/web:8080'],
    },
    {
      name: 'refuses a Route whose Service is missing, headless, ExternalName or lacks the port',
      input: sources({
        services: [service('acme', 'headless', 'None'), service('acme', 'external', '', [], 'ExternalName'), service('acme', 'udp', '10.96.0.9', [{ port: 8080, protocol: 'UDP' }]), service('acme', 'web', '10.96.0.1', [{ port: 80 }])],
        routes: [route('acme', 'external', {}), route('acme', 'headless', {}), route('acme', 'missing', {}), route('acme', 'udp', {}), route('acme', 'web', {})],
      }),
      routes: [],
      issues: [
        /Route acme\/external: spec.backend: Service acme\/external is of type ExternalName/,
        /Route acme\/headless: spec.backend: Service acme\/headless is headless/,
        /Route acme\/missing: spec.backend: Service acme\/missing does not exist/,
        /Route acme\/udp: spec.backend: Service acme\/udp has no TCP port 8080 \(ports: none\)/,
        /Route acme\/web: spec.backend: Service acme\/web has no TCP port 8080 \(ports: 80\)/,
      ],
    },
    {
      name: 'never resolves a backend to a Service of another namespace',
      input: sources({ services: [service('globex', 'web', '10.96.9.9')], routes: [route('acme', 'web', {})] }),
      routes: [],
      issues: [/Service acme\/web does not exist/],
    },
    {
      name: 'serves the operator-issued certificate of a Route, or the Secret it names',
      input: sources({ routes: [route('acme', 'web', {}), route('acme', 'api', { tls: { secretName: 'own-cert' } })] }),
      routes: ['api.acme.example Prefix / -> acme/api:8080', 'web.acme.example Prefix / -> acme/web:8080'],
      secrets: ['acme/own-cert (Route acme/api)', 'acme/landlord-tls-web (Route acme/web)'],
    },
    {
      name: 'refuses a Route of another protocol that asks for TLS to end in the ingress',
      input: sources({ routes: [route('acme', 'db', { protocol: 'postgres', tls: { mode: 'ingress' } })] }),
      routes: [],
      issues: [/Route acme\/db: protocol postgres cannot end TLS in the ingress/],
    },
    {
      name: 'reads named Service ports and the TLS Secrets of Ingresses',
      input: sources({
        ingresses: [ingress('acme', 'shop', [{ host: 'shop.acme.example', http: { paths: [path('/', 'front', 'Prefix', { name: 'alt' }), path('/x', 'front', 'Prefix', { name: 'nope' })] } }], { tls: [{ hosts: ['shop.acme.example'], secretName: 'shop-tls' }, {}] })],
      }),
      routes: ['shop.acme.example Prefix / -> acme/front:8080'],
      issues: [/paths\[1\]: backend: Service acme\/front has no TCP port "nope" \(ports: http=80, alt=8080\)/],
      secrets: ['acme/shop-tls (Ingress acme/shop spec.tls[0])'],
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
      routes: ['shop.acme.example Prefix / -> acme/front:80', 'shop.acme.example Exact /api -> acme/api:80', 'shop.acme.example Prefix /img -> acme/img:80'],
    },
    {
      name: 'reads only Ingresses of the tenant class (field or legacy annotation)',
      input: sources({
        ingresses: [
          ingress('acme', 'other', [{ host: 'a.acme.example', http: { paths: [path('/', 'a')] } }], { ingressClassName: 'nginx' }),
          { metadata: { name: 'legacy', namespace: 'acme', annotations: { 'kubernetes.io/ingress.class': 'landlord-acme' } }, spec: { rules: [{ host: 'b.acme.example', http: { paths: [path('/', 'b')] } }] } },
        ],
      }),
      routes: ['b.acme.example Prefix / -> acme/b:80'],
    },
    {
      name: 'refuses a rule without host and a default backend',
      input: sources({ ingresses: [ingress('acme', 'catchall', [{ http: { paths: [path('/', 'x')] } }], { defaultBackend: { service: { name: 'x', port: { number: 80 } } } })] }),
      routes: [],
      issues: [/spec.defaultBackend: default backends are not supported/, /rules\[0\]: a rule without host would match every name/],
    },
    {
      name: 'refuses ports given neither by number nor name, unknown path types and relative paths',
      input: sources({
        ingresses: [ingress('acme', 'bad', [{ host: 'x.acme.example', http: { paths: [path('/a', 'a', 'Prefix', {}), path('/b', 'b', 'Regex'), path('c', 'c')] } }])],
      }),
      routes: [],
      issues: [/paths\[0\]: backend.service.port needs a number or a name/, /paths\[1\]: pathType "Regex"/, /paths\[2\]: path "c" must start with "\/"/],
    },
    {
      name: 'keeps the first claim of a host and path; Routes come before Ingresses',
      input: sources({
        routes: [route('acme', 'web', {})],
        ingresses: [ingress('acme', 'takeover', [{ host: 'web.acme.example', http: { paths: [path('/', 'evil'), path('/extra', 'extra')] } }])],
      }),
      routes: ['web.acme.example Prefix / -> acme/web:8080', 'web.acme.example Prefix /extra -> acme/extra:80'],
      issues: [/takeover rules\[0\].http.paths\[0\]: web.acme.example Prefix \/ is already routed by Route acme\/web/],
    },
    {
      name: 'does not depend on the order objects were listed',
      input: sources({ ingresses: [ingress('acme', 'zz', [{ host: 'x.acme.example', http: { paths: [path('/', 'zz')] } }]), ingress('acme', 'aa', [{ host: 'x.acme.example', http: { paths: [path('/', 'aa')] } }])] }),
      routes: ['x.acme.example Prefix / -> acme/aa:80'],
      issues: [/Ingress acme\/zz .* already routed by Ingress acme\/aa/],
    },
    {
      name: 'accepts the zone apex and wildcard hosts inside the domain',
      input: sources({ domains: ['acme.example'], routes: [route('acme', 'apex', { hostname: 'acme.example' }), route('acme', 'wild', { hostname: '*.api.acme.example' })] }),
      routes: ['acme.example Prefix / -> acme/apex:8080', '*.api.acme.example Prefix / -> acme/wild:8080'],
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
      if (c.secrets) assert.deepEqual(result.secrets, c.secrets);
    });
  }
});
