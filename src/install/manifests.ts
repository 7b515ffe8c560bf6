/**
 * landlord's installation as plain Kubernetes objects: the CRDs, RBAC, webhook configurations and
 * the platform components (controller, webhook, edge router) in `landlord-system`.
 *
 * Pure: the same options always give the same objects. `deploy/` is the `service` rendering
 * (scripts/generate.ts); `landlord up` applies the `host-loopback` rendering to the local cluster.
 *
 * Stance: every component runs as uid 65532 with a read-only root filesystem, no privilege
 * escalation, every capability dropped and the runtime's seccomp profile, so the platform's own
 * pods meet the restricted profile it enforces on tenants. The one exception is the router on the
 * local cluster, which shares the host's network namespace to listen on loopback ports (ADR 0004).
 */
import { labels, managedByValue, platformNamespace } from '../api/meta.ts';
import { customResourceDefinitions } from '../api/schema.ts';
import { webhookConfigurations, webhookService } from '../admission/index.ts';
import { operatorRbacObjects, tenantAdminClusterRole, webhookServingSecretName, type KubeObject } from '../operator/index.ts';
import { LandlordError } from '../shared/errors.ts';
import { landlordEntrypoint } from '../shared/image.ts';

/** The edge router's listening ports on the host, for the local cluster. */
export interface RouterHostPorts {
  readonly tls: number;
  readonly http: number;
  readonly postgres: number;
  /** `/metrics` and `/healthz`. */
  readonly metrics: number;
}

/**
 * How clients reach the edge router.
 * - `service`: any cluster. The router pods listen on unprivileged ports behind the LoadBalancer
 *   Service `landlord-router` (443, 80, 5432), with `externalTrafficPolicy: Local` so the router
 *   sees clients' own addresses. Where no load balancer exists it still works as a NodePort.
 * - `host-loopback`: the local cluster. The router shares the host's network namespace and
 *   listens on `127.0.0.1` ports only, so nothing outside the machine can reach it.
 */
export type RouterExposure = { readonly kind: 'service' } | { readonly kind: 'host-loopback'; readonly ports: RouterHostPorts };

export interface PlatformOptions {
  /** landlord's image, e.g. `landlord.dev/landlord:dev`. */
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  readonly router: RouterExposure;
  /** Replicas of each component (the controller elects a leader; webhook and router share load). */
  readonly replicas: number;
  /**
   * Where the router's connections to sidecars and tenant ingresses come from: the only peers
   * whose PROXY v2 headers they believe (ADR 0004). The local cluster: the node IP, `10.244.0.1/32`.
   */
  readonly routerSourceCidr: string;
  /**
   * The image's ID, written as a pod template annotation: a rebuilt image under the same tag then
   * changes the template, so re-applying rolls the components onto it.
   */
  readonly imageId?: string;
}

/** The local cluster's defaults: loopback ports at or above 1024 that common local services do not use. */
export const defaultHostPorts: RouterHostPorts = { tls: 10443, http: 10080, postgres: 15432, metrics: 10090 };

/** What `deploy/` holds: any cluster that can pull the image. */
export const genericPlatformOptions: PlatformOptions = {
  image: 'landlord.dev/landlord:dev',
  imagePullPolicy: 'IfNotPresent',
  router: { kind: 'service' },
  replicas: 2,
  // The router pods' addresses: the pod network of the cluster (10.244.0.0/16 is the common
  // default); set yours in a kustomization patch.
  routerSourceCidr: '10.244.0.0/16',
};

export const componentNames = {
  controller: 'landlord-controller',
  webhook: 'landlord-webhook',
  router: 'landlord-router',
} as const;

export type Component = keyof typeof componentNames;

/**
 * The node flags the operator's container runs with, and bench/tenants runs the operator with, so
 * the bench measures the process as deployed. Measured in docs/operator.md, "Memory and scale": a
 * 16 MiB young generation instead of V8's 64 MiB, and an old generation that grows by at most 30%
 * of what the last major GC left alive instead of by a factor V8 derives from its measured speeds
 * (with which the heap reserve reached 179–190 MiB with 63–69 MiB in use at 1000 tenants). On the
 * command line, not in NODE_OPTIONS: Node refuses `--heap-growing-percent` there.
 */
export const controllerNodeFlags: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=30'];


const controllerHealthPort = 8081;
const webhookPort = 8443;
const routerPodPorts = { tls: 8443, http: 8080, postgres: 5432, metrics: 9100 } as const;
const webhookCertDir = '/var/run/landlord/webhook-tls';

const platformLabels = { [labels.managedBy]: managedByValue, 'app.kubernetes.io/part-of': 'landlord' };

export interface PlatformManifests {
  readonly customResourceDefinitions: KubeObject[];
  /** `landlord-system`. */
  readonly namespace: KubeObject;
  /** The operator's and tenant-admin RBAC (generated from src/operator). */
  readonly rbac: KubeObject[];
  /** Both admission webhook configurations, `caBundle` empty: the operator sets it. */
  readonly webhooks: KubeObject[];
  /** The webhook's and router's RBAC, the Deployments and Services. */
  readonly components: KubeObject[];
}

export function platformManifests(options: PlatformOptions): PlatformManifests {
  if (options.router.kind === 'host-loopback') checkHostPorts(options.router.ports);
  if (!Number.isInteger(options.replicas) || options.replicas < 1) {
    throw new LandlordError('LL_INSTALL_OPTION_INVALID', `replicas must be a positive integer, got ${options.replicas}`);
  }
  const { mutating, validating } = webhookConfigurations({ client: { service: webhookService, caPem: '' } });
  return {
    customResourceDefinitions: customResourceDefinitions.map((crd) => crd as unknown as KubeObject),
    namespace: platformNamespaceObject(),
    rbac: [tenantAdminClusterRole(), ...operatorRbacObjects()],
    webhooks: [mutating as KubeObject, validating as KubeObject],
    components: [
      ...serviceAccountAndRole(componentNames.webhook, webhookRules),
      ...serviceAccountAndRole(componentNames.router, routerRules),
      controllerDeployment(options),
      webhookDeployment(options),
      {
        apiVersion: 'v1', kind: 'Service',
        metadata: { name: webhookService.name, namespace: platformNamespace, labels: componentLabels(componentNames.webhook) },
        spec: { selector: selectorOf(componentNames.webhook), ports: [{ name: 'https', port: webhookService.port, targetPort: 'https', protocol: 'TCP' }] },
      },
      routerDeployment(options),
      ...(options.router.kind === 'service' ? [routerService()] : []),
    ],
  };
}

/** Every object in the order they can be applied: CRDs, the namespace, RBAC, components, then webhooks. */
export function allObjects(manifests: PlatformManifests): KubeObject[] {
  return [...manifests.customResourceDefinitions, manifests.namespace, ...manifests.rbac, ...manifests.components, ...manifests.webhooks];
}

/** Ports below 1024 need a capability that a non-root process cannot use without file capabilities. */
function checkHostPorts(ports: RouterHostPorts): void {
  const all: Array<[string, number]> = [['tls', ports.tls], ['http', ports.http], ['postgres', ports.postgres], ['metrics', ports.metrics]];
  for (const [name, port] of all) {
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
      throw new LandlordError('LL_INSTALL_PORT_INVALID', `the router's ${name} port ${port} must be an integer from 1024 to 65535`, {
        hint: 'the router runs as a non-root user and cannot bind ports below 1024; pick another port (defaults: tls 10443, http 10080, postgres 15432)',
      });
    }
  }
  const used = new Map<number, string>();
  for (const [name, port] of all) {
    const other = used.get(port);
    if (other) throw new LandlordError('LL_INSTALL_PORT_INVALID', `the router's ${other} and ${name} ports are both ${port}`, { hint: 'give each listener its own port' });
    used.set(port, name);
  }
}

function platformNamespaceObject(): KubeObject {
  // The name label lets tenant NetworkPolicies admit the platform (the operator sets it too:
  // Kubernetes before 1.21 does not).
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: platformNamespace, labels: { ...platformLabels, 'kubernetes.io/metadata.name': platformNamespace } } };
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const read = ['get', 'list', 'watch'];

/** What the webhook reads to judge hostnames and place hard-tier pods (src/admission/gather.ts). */
const webhookRules: Rule[] = [
  { apiGroups: ['landlord.dev'], resources: ['tenants', 'routes'], verbs: read },
  { apiGroups: [''], resources: ['namespaces', 'services'], verbs: read },
];

/** What the router's Kubernetes provider watches and writes (docs/router.md). */
const routerRules: Rule[] = [
  { apiGroups: ['landlord.dev'], resources: ['routes', 'tenants'], verbs: read },
  { apiGroups: ['landlord.dev'], resources: ['routes/status'], verbs: ['get', 'patch'] },
  { apiGroups: [''], resources: ['namespaces', 'services'], verbs: read },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
];

function serviceAccountAndRole(name: string, rules: Rule[]): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: platformNamespace, labels: platformLabels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels: platformLabels }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
      metadata: { name, labels: platformLabels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: platformNamespace }],
    },
  ];
}

function componentLabels(name: string): Record<string, string> {
  return { ...platformLabels, 'app.kubernetes.io/name': name };
}

function selectorOf(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name };
}

interface ContainerParts {
  /** Only to pass node flags: the image's entrypoint, with them between node and the CLI. */
  command?: string[];
  args: string[];
  /** `protocol` is explicit: Kubernetes 1.20's server-side apply refuses list entries without their key fields. */
  ports: Array<{ name: string; containerPort: number; protocol: 'TCP' }>;
  readinessProbe: object;
  livenessProbe: object;
  resources: { requests: { cpu: string; memory: string }; limits: { memory: string } };
  volumeMounts?: object[];
}

interface DeploymentParts {
  name: string;
  serviceAccountName: string;
  container: ContainerParts;
  volumes?: object[];
  podSpec?: Record<string, unknown>;
  strategy?: object;
}

function deployment(options: PlatformOptions, parts: DeploymentParts): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: parts.name, namespace: platformNamespace, labels: componentLabels(parts.name) },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: selectorOf(parts.name) },
      ...(parts.strategy ? { strategy: parts.strategy } : {}),
      template: {
        metadata: {
          labels: componentLabels(parts.name),
          ...(options.imageId ? { annotations: { 'landlord.dev/image-id': options.imageId } } : {}),
        },
        spec: {
          serviceAccountName: parts.serviceAccountName,
          ...parts.podSpec,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: parts.name.replace(/^landlord-/, ''),
            image: options.image,
            imagePullPolicy: options.imagePullPolicy,
            ...parts.container,
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...(parts.container.volumeMounts ?? [])],
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          }],
          volumes: [{ name: 'tmp', emptyDir: {} }, ...(parts.volumes ?? [])],
        },
      },
    },
  };
}

function httpProbe(port: number | string, path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { httpGet: { path, port, ...extra }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 };
}

function controllerDeployment(options: PlatformOptions): KubeObject {
  return deployment(options, {
    name: componentNames.controller,
    // The operator's ServiceAccount and ClusterRole are generated from src/operator.
    serviceAccountName: 'landlord-operator',
    container: {
      command: [landlordEntrypoint.node, ...controllerNodeFlags, landlordEntrypoint.cli],
      // Tenant ingresses run the platform's own image, pulled as it is; --router-source-cidr is whom they trust for PROXY v2.
      args: ['controller', '--health-host', '0.0.0.0', '--health-port', String(controllerHealthPort), '--image', options.image, '--image-pull-policy', options.imagePullPolicy, '--router-source-cidr', options.routerSourceCidr],
      ports: [{ name: 'health', containerPort: controllerHealthPort, protocol: 'TCP' }],
      readinessProbe: httpProbe('health', '/readyz'),
      livenessProbe: { ...httpProbe('health', '/healthz'), initialDelaySeconds: 10, failureThreshold: 6 },
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    },
  });
}

function webhookDeployment(options: PlatformOptions): KubeObject {
  return deployment(options, {
    name: componentNames.webhook,
    serviceAccountName: componentNames.webhook,
    container: {
      args: [
        'webhook', '--cert-dir', webhookCertDir, '--listen', `0.0.0.0:${webhookPort}`,
        '--sidecar-image', options.image, '--sidecar-image-pull-policy', options.imagePullPolicy, '--router-source-cidr', options.routerSourceCidr,
      ],
      ports: [{ name: 'https', containerPort: webhookPort, protocol: 'TCP' }],
      readinessProbe: httpProbe('https', '/healthz', { scheme: 'HTTPS' }),
      livenessProbe: { ...httpProbe('https', '/healthz', { scheme: 'HTTPS' }), initialDelaySeconds: 10, failureThreshold: 6 },
      resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '384Mi' } },
      volumeMounts: [{ name: 'tls', mountPath: webhookCertDir, readOnly: true }],
    },
    // The operator issues and rotates it (ADR 0004); the pod starts once it exists.
    volumes: [{ name: 'tls', secret: { secretName: webhookServingSecretName } }],
  });
}

function routerDeployment(options: PlatformOptions): KubeObject {
  const local = options.router.kind === 'host-loopback' ? options.router.ports : undefined;
  const host = local ? '127.0.0.1' : '0.0.0.0';
  const ports = local ?? routerPodPorts;
  // A host-network pod's probes must name loopback: the router listens nowhere else.
  const probeHost = local ? { host: '127.0.0.1' } : {};
  return deployment(options, {
    name: componentNames.router,
    serviceAccountName: componentNames.router,
    container: {
      args: [
        'router', '--in-cluster',
        '--listen-tls', `${host}:${ports.tls}`, '--listen-http', `${host}:${ports.http}`, '--listen-postgres', `${host}:${ports.postgres}`,
        '--metrics', `${host}:${ports.metrics}`,
      ],
      ports: [
        { name: 'tls', containerPort: ports.tls, protocol: 'TCP' }, { name: 'http', containerPort: ports.http, protocol: 'TCP' },
        { name: 'postgres', containerPort: ports.postgres, protocol: 'TCP' }, { name: 'metrics', containerPort: ports.metrics, protocol: 'TCP' },
      ],
      // Ready once the first route table is loaded (/healthz answers 503 before, and while draining).
      readinessProbe: httpProbe(ports.metrics, '/healthz', probeHost),
      livenessProbe: { tcpSocket: { port: ports.metrics, ...probeHost }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3, initialDelaySeconds: 10 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    },
    // Two router pods on one host would fight over the same ports: replace, never surge.
    ...(local ? { podSpec: { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, strategy: { type: 'Recreate' } } : {}),
  });
}

function routerService(): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: componentNames.router, namespace: platformNamespace, labels: componentLabels(componentNames.router) },
    spec: {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      selector: selectorOf(componentNames.router),
      ports: [
        { name: 'tls', port: 443, targetPort: 'tls', protocol: 'TCP' },
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'postgres', port: 5432, targetPort: 'postgres', protocol: 'TCP' },
      ],
    },
  };
}
