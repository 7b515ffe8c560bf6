/**
 * The demo tenant `landlord up --demo` creates: tenant `demo` owning `*.demo.localhost`, an HTTP
 * app behind an `http` Route (TLS ends at the tenant's ingress) and a PostgreSQL database behind a
 * `postgres` Route (TLS ends in the injected sidecar). `.localhost` names are loopback to clients
 * that know the convention (curl), and the others are told the address (`hostaddr=127.0.0.1`).
 *
 * Routes come before the Deployments: the webhook injects a Route's sidecar when a pod is created,
 * so pods created before their Route would never be reached (ADR 0004).
 */
import { apiVersion, platformNamespace } from '../api/meta.ts';
import type { KubeObject } from '../operator/index.ts';

export const demoTenant = 'demo';
export const demoDomain = 'demo.localhost';
export const demoHosts = { web: `web.${demoDomain}`, db: `db.${demoDomain}` } as const;
/** The database user (trust authentication; the demo's clients authenticate the server, not themselves). */
export const demoDatabaseUser = 'demo';

export interface DemoImages {
  /** An HTTP server on :8080 (landlord's test-app image). */
  readonly app: string;
  /** PostgreSQL on 127.0.0.1:5432 (the image built from the host's Debian packages). */
  readonly database: string;
}

export interface DemoObjects {
  readonly tenant: KubeObject;
  /** In the tenant's namespace, in apply order. */
  readonly workloads: KubeObject[];
}

export function demoObjects(images: DemoImages): DemoObjects {
  const namespace = demoTenant;
  return {
    tenant: {
      apiVersion, kind: 'Tenant',
      metadata: { name: demoTenant },
      spec: { owners: { users: [demoTenant] }, domains: [`*.${demoDomain}`] },
    },
    workloads: [
      route(namespace, 'web', { hostname: demoHosts.web, protocol: 'http', backend: { service: 'web', port: 80 } }),
      route(namespace, 'db', { hostname: demoHosts.db, protocol: 'postgres', backend: { service: 'db', port: 5432 } }),
      service(namespace, 'web', { port: 80, targetPort: 8080 }),
      service(namespace, 'db', { port: 5432, targetPort: 5432 }),
      workload(namespace, 'web', {
        image: images.app,
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 2 },
      }),
      workload(namespace, 'db', {
        image: images.database,
        env: [{ name: 'POSTGRES_USER', value: demoDatabaseUser }],
        ports: [{ name: 'postgres', containerPort: 5432, protocol: 'TCP' }],
        // PostgreSQL listens on loopback only, where the sidecar dials it.
        readinessProbe: { exec: { command: ['pg_isready', '--host', '127.0.0.1', '--port', '5432', '--timeout', '1'] }, periodSeconds: 2 },
        volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql' }],
      }, [{ name: 'data', emptyDir: {} }]),
    ],
  };
}

/** Where `up` writes the platform root CA certificate clients verify the demo's servers with. */
export const rootCaFileName = 'root-ca.crt';

/** The platform root CA Secret the operator creates (its `tls.crt` is the root certificate). */
export const rootCaSecret = { namespace: platformNamespace, name: 'landlord-root-ca' } as const;

function route(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion, kind: 'Route', metadata: { name, namespace }, spec };
}

function service(namespace: string, name: string, port: { port: number; targetPort: number }): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ name: name === 'db' ? 'postgres' : 'http', protocol: 'TCP', ...port }] },
  };
}

function workload(namespace: string, name: string, container: Record<string, unknown>, volumes: object[] = []): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name,
            // The images are imported into the local node, not pulled: `Never`, because the
            // webhook rewrites `IfNotPresent` to `Always` in tenant namespaces (a tenant must not
            // use another tenant's pulled image without credentials), and no registry has them.
            imagePullPolicy: 'Never',
            ...container,
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            resources: { requests: { cpu: '20m', memory: '64Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '1Gi' } },
          }],
          volumes,
        },
      },
    },
  };
}
