/**
 * Who the tenant guards do not apply to. Fails closed: every identity not listed here is treated
 * as a tenant. Pod security has no exemptions at all: a pod in a tenant namespace is checked
 * whoever creates it (a tenant, a controller expanding a template, or a cluster admin).
 */
import { platformNamespace } from '../api/meta.ts';
import type { AdmissionRequest } from './review-types.ts';

/** Cluster administrators (they bypass RBAC too) and every service account of the platform namespace. */
export const platformGroups: readonly string[] = ['system:masters', `system:serviceaccounts:${platformNamespace}`];

/**
 * Controllers that delete whatever is left in a namespace being deleted, or whose owner is gone.
 * Exempt for DELETE only: without them, deleting a tenant would hang on its platform-managed objects.
 */
export const cleanupControllers: readonly string[] = [
  'system:serviceaccount:kube-system:namespace-controller',
  'system:serviceaccount:kube-system:generic-garbage-collector',
];

/**
 * Controllers that copy a Service's labels onto the Endpoints and EndpointSlices they write for it.
 * A landlord-managed Service (a tenant's ingress, a Route's sidecar Service) therefore gets
 * landlord-labelled endpoints; refusing them would leave the Service without backends. Exempt
 * only for those two resources.
 */
export const endpointControllers: readonly string[] = [
  'system:serviceaccount:kube-system:endpoint-controller',
  'system:serviceaccount:kube-system:endpointslice-controller',
  'system:serviceaccount:kube-system:endpointslicemirroring-controller',
];
const endpointResources: readonly string[] = ['endpoints', 'endpointslices'];

/**
 * The token controller runs with kube-controller-manager's own credentials and adds each
 * ServiceAccount's token Secret to it, landlord's ServiceAccounts (a tenant's ingress) included;
 * refused, the ingress pods could never be created. Exempt for ServiceAccounts only.
 */
export const tokenController = 'system:kube-controller-manager';

export function isExemptFromTenantGuards(request: AdmissionRequest): boolean {
  const groups = request.userInfo.groups ?? [];
  if (groups.some((group) => platformGroups.includes(group))) return true;
  if (endpointResources.includes(request.resource.resource) && endpointControllers.includes(request.userInfo.username ?? '')) return true;
  if (request.resource.resource === 'serviceaccounts' && request.userInfo.username === tokenController) return true;
  return request.operation === 'DELETE' && cleanupControllers.includes(request.userInfo.username ?? '');
}
