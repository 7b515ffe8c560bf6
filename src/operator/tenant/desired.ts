/**
 * `desiredTenantObjects(input)`: every object landlord keeps for one tenant, as plain objects.
 * Pure and deterministic: the same input gives the same objects in the same order, so applying
 * them twice changes nothing. Each object is complete (every field landlord owns is set, defaults
 * included), because server-side apply removes what an applied intent no longer contains.
 *
 * Per tenant namespace: the Namespace (tenant, tier and pod-security labels), the owners'
 * RoleBinding, a ResourceQuota, a LimitRange, NetworkPolicies (docs/reference.md §3) and the trust
 * bundle ConfigMap. In the platform namespace: the tenant CA Secret, the only place its key lives.
 * When the operator is configured for it, the tenant's ingress (ADR 0004, `ingress` mode): in the
 * first tenant namespace its ServiceAccount, Deployment and Service, and in every tenant namespace
 * a Role and RoleBinding that let it read Routes, Ingresses, Services and Secrets there; with it,
 * NetworkPolicies that admit the edge router to the tenant's pods and let the ingress reach the
 * API server.
 */
import { isIPv6 } from 'node:net';
import { apiGroup, labels, managedByValue, platformNamespace, podSecurityLabels } from '../../api/meta.ts';
import { routePlural, routeServicePortName, tenantIngressName } from '../../api/route.ts';
import type { Tenant, TenantQuota } from '../../api/tenant.ts';
import { tenantCaSecret, tenantTrustBundle, type PemBundle } from '../../pki/index.ts';
import type { KubeObject } from '../runtime/kube.ts';
import { tenantNamespaces } from './checks.ts';
import { tenantAdminRoleName } from './rbac.ts';

/** A tenant CA as the operator keeps it: the bundle plus what it was issued for. */
export interface TenantCa {
  readonly bundle: PemBundle;
  /** The zones in its name constraints, sorted. */
  readonly zones: readonly string[];
  /** SHA-256 of the certificate, colon-separated hex. */
  readonly fingerprint: string;
  /** RFC 3339. */
  readonly notBefore: string;
  /** RFC 3339. */
  readonly notAfter: string;
}

export interface TenantInput {
  readonly tenant: Tenant;
  readonly ca: TenantCa;
  /** The platform root CA (certificate and CRL; its key is never needed here). */
  readonly root: PemBundle;
  /** Tenants whose `network.allowFrom` names this tenant: this tenant's pods may connect to theirs. */
  readonly reachableTenants: readonly string[];
  /** How to run the tenant's ingress; without it no ingress is deployed. */
  readonly ingress?: TenantIngressConfig;
}

export interface TenantIngressConfig {
  /** The landlord image (its entrypoint is `landlord`). */
  readonly image: string;
  /**
   * Default `IfNotPresent`. A locally imported image needs `Never`: the webhook turns
   * `IfNotPresent` into `Always` in tenant namespaces, and no registry has that image.
   */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The edge router's source CIDR: the ingress requires PROXY v2 from it and believes it. */
  readonly routerSourceCidr: string;
  /**
   * Where the API server listens (the endpoints of `default/kubernetes`), which the ingress
   * watches: its NetworkPolicy allows egress there. Empty: no such policy, and on a cluster that
   * enforces NetworkPolicy the ingress cannot read its Routes.
   */
  readonly apiServer: readonly ApiServerEndpoint[];
}

/** One address the API server listens on, as `default/kubernetes` Endpoints list it. */
export interface ApiServerEndpoint {
  readonly ip: string;
  readonly port: number;
}

/** The ingress's ports: TLS from the edge router, and `/healthz` + `/metrics`. */
export const tenantIngressPorts = { tls: 8443, status: 9901 } as const;

/** Annotations on a tenant CA Secret saying what it was issued for (read back by the gatherer). */
export const caAnnotations = {
  zones: 'landlord.dev/ca-zones',
  fingerprint: 'landlord.dev/ca-fingerprint',
  notBefore: 'landlord.dev/ca-not-before',
  notAfter: 'landlord.dev/ca-not-after',
} as const;

export const objectNames = {
  roleBinding: 'landlord-tenant-admin',
  quota: 'landlord-quota',
  limits: 'landlord-limits',
  denyAll: 'landlord-default-deny',
  allowDns: 'landlord-allow-dns',
  allowSameTenant: 'landlord-allow-same-tenant',
  allowPlatform: 'landlord-allow-platform',
  allowInternet: 'landlord-allow-internet',
  allowFromTenants: 'landlord-allow-from-tenants',
  allowToTenants: 'landlord-allow-to-tenants',
  allowEdgeRouter: 'landlord-allow-edge-router',
  allowIngressToApiServer: 'landlord-allow-ingress-to-apiserver',
} as const;

/** The label every namespace carries with its own name (automatic from Kubernetes 1.21; written by landlord for 1.20). */
export const namespaceNameLabel = 'kubernetes.io/metadata.name';

export const defaultQuota: Required<TenantQuota> = {
  cpu: '4', memory: '8Gi', ephemeralStorage: '20Gi', pods: 50, services: 20, secrets: 100, configMaps: 100, persistentVolumeClaims: 10,
};

/**
 * Container defaults and bounds. Ephemeral storage is defaulted too: the quota tracks it, and
 * Kubernetes refuses a pod that leaves a quota-tracked resource unset unless a LimitRange fills it.
 */
export const defaultLimits = {
  defaultRequest: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
  default: { cpu: '500m', memory: '512Mi', 'ephemeral-storage': '1Gi' },
  max: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi' },
} as const;

/** Private, shared and link-local ranges (including cloud metadata, 169.254.169.254) internet egress never reaches. */
export const nonInternetRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.169.254/32'];

export function desiredTenantObjects(input: TenantInput): KubeObject[] {
  const namespaces = tenantNamespaces(input.tenant);
  const perNamespace = namespaces.flatMap((namespace) => [
    roleBinding(input.tenant, namespace),
    resourceQuota(input.tenant, namespace),
    limitRange(input.tenant, namespace),
    ...networkPolicies(input, namespace),
    tenantTrustBundle(input.tenant.metadata.name, input.ca.bundle, input.root, namespace) as unknown as KubeObject,
  ]);
  const ingress = input.ingress ? tenantIngressObjects(input.tenant, namespaces, input.ingress) : [];
  return [...namespaces.map((namespace) => namespaceObject(input.tenant, namespace)), ...perNamespace, ...ingress, caSecret(input)];
}

function tenantLabels(tenant: Tenant): Record<string, string> {
  return { [labels.managedBy]: managedByValue, [labels.tenant]: tenant.metadata.name };
}

function meta(tenant: Tenant, name: string, namespace: string): KubeObject['metadata'] {
  return { name, namespace, labels: tenantLabels(tenant) };
}

function namespaceObject(tenant: Tenant, name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: {
        ...tenantLabels(tenant),
        [labels.tier]: tenant.spec.tier ?? 'soft',
        [namespaceNameLabel]: name,
        [podSecurityLabels.enforce]: 'restricted',
        [podSecurityLabels.enforceVersion]: 'latest',
        [podSecurityLabels.audit]: 'restricted',
        [podSecurityLabels.warn]: 'restricted',
      },
    },
  };
}

function roleBinding(tenant: Tenant, namespace: string): KubeObject {
  const owners = tenant.spec.owners;
  const rbacGroup = 'rbac.authorization.k8s.io';
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(tenant, objectNames.roleBinding, namespace),
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: tenantAdminRoleName },
    subjects: [
      ...(owners.users ?? []).map((name) => ({ apiGroup: rbacGroup, kind: 'User', name })),
      ...(owners.groups ?? []).map((name) => ({ apiGroup: rbacGroup, kind: 'Group', name })),
      ...(owners.serviceAccounts ?? []).map((ref) => {
        const [saNamespace = '', name = ''] = ref.split('/');
        return { kind: 'ServiceAccount', name, namespace: saNamespace };
      }),
    ],
  };
}

/** MTB FNS-1 (cpu, memory, ephemeral-storage) and FNS-2 (object counts; no NodePorts, no LoadBalancers). */
function resourceQuota(tenant: Tenant, namespace: string): KubeObject {
  const quota = { ...defaultQuota, ...tenant.spec.quota };
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta(tenant, objectNames.quota, namespace),
    spec: {
      hard: {
        'requests.cpu': quota.cpu,
        'limits.cpu': quota.cpu,
        'requests.memory': quota.memory,
        'limits.memory': quota.memory,
        'requests.ephemeral-storage': quota.ephemeralStorage,
        'limits.ephemeral-storage': quota.ephemeralStorage,
        pods: String(quota.pods),
        services: String(quota.services),
        replicationcontrollers: '0',
        resourcequotas: '1',
        secrets: String(quota.secrets),
        configmaps: String(quota.configMaps),
        persistentvolumeclaims: String(quota.persistentVolumeClaims),
        'services.nodeports': '0',
        'services.loadbalancers': '0',
      },
    },
  };
}

function limitRange(tenant: Tenant, namespace: string): KubeObject {
  const limits = tenant.spec.limits ?? {};
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta(tenant, objectNames.limits, namespace),
    spec: {
      limits: [{
        type: 'Container',
        defaultRequest: { ...defaultLimits.defaultRequest, ...limits.defaultRequest },
        default: { ...defaultLimits.default, ...limits.default },
        max: { ...defaultLimits.max, ...limits.max },
      }],
    },
  };
}

function networkPolicies(input: TenantInput, namespace: string): KubeObject[] {
  const { tenant } = input;
  const name = tenant.metadata.name;
  const policy = (policyName: string, spec: object): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(tenant, policyName, namespace), spec,
  });
  const tenantSelector = (tenants: readonly string[]): object => ({
    namespaceSelector: { matchExpressions: [{ key: labels.tenant, operator: 'In', values: [...tenants].sort() }] },
  });
  const policies = [
    policy(objectNames.denyAll, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    policy(objectNames.allowDns, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{
        to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      }],
    }),
    policy(objectNames.allowSameTenant, {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [tenantSelector([name])] }],
      egress: [{ to: [tenantSelector([name])] }],
    }),
    policy(objectNames.allowPlatform, {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { [namespaceNameLabel]: platformNamespace } } }] }],
    }),
  ];
  if (tenant.spec.network?.internetEgress) {
    policies.push(policy(objectNames.allowInternet, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: nonInternetRanges } }] }],
    }));
  }
  const allowFrom = (tenant.spec.network?.allowFrom ?? []).filter((peer) => peer !== name);
  if (allowFrom.length > 0) {
    policies.push(policy(objectNames.allowFromTenants, { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [tenantSelector(allowFrom)] }] }));
  }
  const reachable = input.reachableTenants.filter((peer) => peer !== name);
  if (reachable.length > 0) {
    policies.push(policy(objectNames.allowToTenants, { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [tenantSelector(reachable)] }] }));
  }
  if (input.ingress) policies.push(...edgePolicies(input.ingress, namespace === tenantNamespaces(tenant)[0], policy));
  return policies;
}

/**
 * With an edge router (and the tenant ingress it feeds): its connections reach every pod of the
 * tenant (the ingress, sidecars, passthrough backends) from its source CIDR; tenants cannot send
 * from there, since they run no host-network pods. In the ingress's namespace the ingress may
 * reach the API server, whose endpoints are not pods any selector could name.
 */
function edgePolicies(config: TenantIngressConfig, ingressHome: boolean, policy: (name: string, spec: object) => KubeObject): KubeObject[] {
  const policies = [policy(objectNames.allowEdgeRouter, { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: config.routerSourceCidr } }] }] })];
  if (ingressHome && config.apiServer.length > 0) {
    policies.push(policy(objectNames.allowIngressToApiServer, {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': tenantIngressName } },
      policyTypes: ['Egress'],
      egress: config.apiServer.map(({ ip, port }) => ({ to: [{ ipBlock: { cidr: `${ip}/${isIPv6(ip) ? 128 : 32}` } }], ports: [{ protocol: 'TCP', port }] })),
    }));
  }
  return policies;
}

function caSecret(input: TenantInput): KubeObject {
  const secret = tenantCaSecret(input.tenant.metadata.name, input.ca.bundle, platformNamespace);
  return {
    ...secret,
    metadata: {
      ...secret.metadata,
      labels: { ...secret.metadata.labels },
      annotations: {
        [caAnnotations.zones]: input.ca.zones.join(','),
        [caAnnotations.fingerprint]: input.ca.fingerprint,
        [caAnnotations.notBefore]: input.ca.notBefore,
        [caAnnotations.notAfter]: input.ca.notAfter,
      },
    },
  };
}

/**
 * The tenant's ingress. The pod template carries only `app.kubernetes.io/name`: the ReplicaSets
 * and pods Kubernetes' controllers stamp from it are not platform writes, and the tenant guards
 * refuse platform labels written by anyone else. The ServiceAccount gets read access in the
 * tenant's namespaces only; nothing cluster-wide.
 */
function tenantIngressObjects(tenant: Tenant, namespaces: readonly string[], config: TenantIngressConfig): KubeObject[] {
  const home = namespaces[0] ?? tenant.metadata.name;
  const podLabels = { 'app.kubernetes.io/name': tenantIngressName };
  const ingressMeta = (namespace: string): KubeObject['metadata'] => ({ name: tenantIngressName, namespace, labels: { ...tenantLabels(tenant), ...podLabels } });
  const rbacGroup = 'rbac.authorization.k8s.io';
  const read = ['get', 'list', 'watch'];
  const perNamespace = namespaces.flatMap((namespace): KubeObject[] => [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: ingressMeta(namespace),
      rules: [
        { apiGroups: [apiGroup], resources: [routePlural], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: read },
        { apiGroups: [''], resources: ['services', 'secrets'], verbs: read },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: ingressMeta(namespace),
      roleRef: { apiGroup: rbacGroup, kind: 'Role', name: tenantIngressName },
      subjects: [{ kind: 'ServiceAccount', name: tenantIngressName, namespace: home }],
    },
  ]);
  const args = [
    'ingress', '--kubernetes',
    '--tenant', tenant.metadata.name,
    '--namespaces', namespaces.join(','),
    '--domains', tenant.spec.domains.join(','),
    '--listen', `0.0.0.0:${tenantIngressPorts.tls}`,
    '--status', `0.0.0.0:${tenantIngressPorts.status}`,
    '--trusted-proxy', config.routerSourceCidr,
  ];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: ingressMeta(home) },
    ...perNamespace,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: ingressMeta(home),
      spec: {
        replicas: 1,
        selector: { matchLabels: podLabels },
        template: {
          metadata: { labels: podLabels },
          spec: {
            serviceAccountName: tenantIngressName,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'ingress',
              image: config.image,
              imagePullPolicy: config.imagePullPolicy ?? 'IfNotPresent',
              args,
              ports: [
                { name: routeServicePortName, containerPort: tenantIngressPorts.tls, protocol: 'TCP' },
                { name: 'status', containerPort: tenantIngressPorts.status, protocol: 'TCP' },
              ],
              readinessProbe: { httpGet: { path: '/healthz', port: 'status' }, periodSeconds: 2, failureThreshold: 3 },
              // Within the LimitRange defaults (docs/operator.md): the ingress counts against the tenant's quota.
              resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
            }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: ingressMeta(home),
      spec: {
        type: 'ClusterIP',
        selector: podLabels,
        ports: [
          { name: routeServicePortName, port: 443, targetPort: routeServicePortName, protocol: 'TCP' },
          { name: 'status', port: tenantIngressPorts.status, targetPort: 'status', protocol: 'TCP' },
        ],
      },
    },
  ];
}
