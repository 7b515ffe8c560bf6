/**
 * Fixture builders for admission tests (imported by tests only): a compliant pod, workloads
 * wrapping a pod spec, and admission requests from a tenant user.
 */
import type { AdmissionRequest, KubeObject } from './review-types.ts';
import type { Container, PodSpec } from './workloads.ts';

/** A container that satisfies the restricted profile. */
export function compliantContainer(name = 'app'): Container {
  return {
    name,
    image: 'registry.example/app:1.0',
    imagePullPolicy: 'Always',
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  };
}

/** A pod spec that satisfies the restricted profile: non-root, RuntimeDefault seccomp, no escalation. */
export function compliantPodSpec(): PodSpec {
  return {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [compliantContainer()],
  };
}

export function pod(spec: PodSpec = compliantPodSpec(), annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace: 'acme', annotations }, spec };
}

export function workload(kind: string, spec: PodSpec = compliantPodSpec()): KubeObject {
  const template = { metadata: { labels: { app: 'probe' } }, spec };
  const body = kind === 'CronJob' ? { schedule: '* * * * *', jobTemplate: { spec: { template } } } : { selector: { matchLabels: { app: 'probe' } }, template };
  return { apiVersion: kind === 'CronJob' || kind === 'Job' ? 'batch/v1' : 'apps/v1', kind, metadata: { name: 'probe', namespace: 'acme' }, spec: body };
}

const resources: Record<string, { group: string; resource: string }> = {
  Pod: { group: '', resource: 'pods' },
  Service: { group: '', resource: 'services' },
  Namespace: { group: '', resource: 'namespaces' },
  ConfigMap: { group: '', resource: 'configmaps' },
  ResourceQuota: { group: '', resource: 'resourcequotas' },
  Deployment: { group: 'apps', resource: 'deployments' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  Job: { group: 'batch', resource: 'jobs' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
  NetworkPolicy: { group: 'networking.k8s.io', resource: 'networkpolicies' },
  Route: { group: 'landlord.dev', resource: 'routes' },
  Endpoints: { group: '', resource: 'endpoints' },
  ServiceAccount: { group: '', resource: 'serviceaccounts' },
  EndpointSlice: { group: 'discovery.k8s.io', resource: 'endpointslices' },
};

export const tenantUser = { username: 'alice', groups: ['tenant:acme', 'system:authenticated'] };

/** An admission request for `object` (or `oldObject` for DELETE) made by `user`. */
export function request(
  operation: AdmissionRequest['operation'],
  object: KubeObject | null,
  options: { oldObject?: KubeObject; user?: AdmissionRequest['userInfo']; subResource?: string } = {},
): AdmissionRequest {
  const kind = (object ?? options.oldObject)?.kind ?? 'Pod';
  const known = resources[kind] ?? { group: '', resource: `${kind.toLowerCase()}s` };
  return {
    uid: '00000000-0000-0000-0000-000000000001',
    kind: { group: known.group, version: 'v1', kind },
    resource: { group: known.group, version: 'v1', resource: known.resource },
    ...(options.subResource === undefined ? {} : { subResource: options.subResource }),
    name: (object ?? options.oldObject)?.metadata?.name ?? 'probe',
    namespace: kind === 'Namespace' ? '' : 'acme',
    operation,
    userInfo: options.user ?? tenantUser,
    object,
    oldObject: options.oldObject ?? null,
  };
}

/** Applies add/replace operations of a JSON patch to a copy of `object`, as the API server would. */
export function applyPatch(object: KubeObject, patch: ReadonlyArray<{ op: string; path: string; value?: unknown }>): KubeObject {
  const copy = structuredClone(object);
  for (const { op, path, value } of patch) {
    const keys = path.slice(1).split('/').map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop() ?? '';
    let parent = copy as Record<string, unknown>;
    for (const key of keys) parent = parent[key] as Record<string, unknown>;
    if (op !== 'add' && op !== 'replace') throw new Error(`unexpected patch operation ${op}`);
    parent[last] = value;
  }
  return copy;
}
