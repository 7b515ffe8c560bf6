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

export function isExemptFromTenantGuards(request: AdmissionRequest): boolean {
  const groups = request.userInfo.groups ?? [];
  if (groups.some((group) => platformGroups.includes(group))) return true;
  return request.operation === 'DELETE' && cleanupControllers.includes(request.userInfo.username ?? '');
}
