/**
 * Tenant guards: what a tenant may not do to the objects isolation rests on, whatever RBAC grants.
 * - the platform labels (`landlord.dev/tenant`, `landlord.dev/tier`, `app.kubernetes.io/managed-by:
 *   landlord`) are never added, changed or removed by a tenant;
 * - platform-managed objects (labelled managed-by=landlord: quotas, limit ranges, network
 *   policies, the tenant CA bundle) are never created, modified or deleted by a tenant;
 * - namespaces are never created or deleted by a tenant;
 * - Services never open node ports, cloud load balancers or external IPs.
 * Fails closed: an object whose labels cannot be read counts as unlabelled on the new side, so a
 * request that drops `metadata.labels` is seen as removing them.
 */
import { labels, managedByValue } from '../api/meta.ts';
import type { AdmissionRequest, KubeObject, Violation } from './review-types.ts';

export interface TenantGuard {
  readonly rule: string;
  readonly check: (request: AdmissionRequest) => Violation[];
}

const platformLabels = [labels.tenant, labels.tier, labels.managedBy] as const;

export const tenantGuards: readonly TenantGuard[] = [
  { rule: 'tenant/namespaceLifecycle', check: namespaceLifecycleIsPlatformOnly },
  { rule: 'tenant/platformLabels', check: platformLabelsUnchanged },
  { rule: 'tenant/platformManagedObjects', check: platformManagedObjectsUntouched },
  { rule: 'tenant/serviceExposure', check: servicesStayInsideTheCluster },
];

export function tenantGuardViolations(request: AdmissionRequest): Violation[] {
  return tenantGuards.flatMap((guard) => guard.check(request).map((v) => ({ ...v, rule: guard.rule })));
}

const violation = (path: string, message: string): Violation => ({ rule: '', path, message });

function namespaceLifecycleIsPlatformOnly(request: AdmissionRequest): Violation[] {
  if (request.resource.resource !== 'namespaces' || request.subResource) return [];
  if (request.operation === 'CREATE') {
    return [violation('metadata.name', `namespace ${request.name ?? ''} must be created by the platform: add it to the Tenant's spec.namespaces`)];
  }
  if (request.operation === 'DELETE') {
    return [violation('metadata.name', `namespace ${request.name ?? ''} must be deleted by the platform: remove it from the Tenant's spec.namespaces`)];
  }
  return [];
}

function platformLabelsUnchanged(request: AdmissionRequest): Violation[] {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return [];
  const before = labelsOf(request.oldObject);
  const after = labelsOf(request.object);
  return platformLabels
    .filter((key) => before[key] !== after[key] && !(key === labels.managedBy && before[key] !== managedByValue && after[key] !== managedByValue))
    .map((key) => {
      const path = `metadata.labels[${key}]`;
      const change = before[key] === undefined ? 'added' : after[key] === undefined ? 'removed' : 'changed';
      return violation(path, `${path} must not be ${change} (${show(before[key])} → ${show(after[key])}): only the platform writes it`);
    });
}

function platformManagedObjectsUntouched(request: AdmissionRequest): Violation[] {
  const managed = (object: KubeObject | null | undefined): boolean => labelsOf(object)[labels.managedBy] === managedByValue;
  // A deletecollection review carries no request name; the object it deletes does.
  const name = request.name || request.oldObject?.metadata?.name || request.object?.metadata?.name || '';
  const target = `${request.kind.kind} ${request.namespace ? `${request.namespace}/` : ''}${name}`;
  if (request.resource.resource === 'namespaces') return [];
  if ((request.operation === 'UPDATE' || request.operation === 'DELETE') && managed(request.oldObject)) {
    const verb = request.operation === 'DELETE' ? 'deleted' : 'modified';
    return [violation('metadata', `${target} is managed by landlord and must not be ${verb} by a tenant: change the Tenant instead`)];
  }
  return [];
}

function servicesStayInsideTheCluster(request: AdmissionRequest): Violation[] {
  if (request.resource.resource !== 'services' || request.subResource || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) return [];
  const spec = (request.object?.spec ?? {}) as { type?: string; externalIPs?: unknown };
  const found: Violation[] = [];
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    found.push(violation('spec.type', `spec.type must be ClusterIP, not ${spec.type}: publish the service with a Route`));
  }
  if (Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0) {
    found.push(violation('spec.externalIPs', 'spec.externalIPs must be empty: publish the service with a Route'));
  }
  return found;
}

function labelsOf(object: KubeObject | null | undefined): Record<string, string | undefined> {
  const found = object?.metadata?.labels;
  return found !== null && typeof found === 'object' ? found : {};
}

function show(value: string | undefined): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}
