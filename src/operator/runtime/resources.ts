/** The resources landlord's controllers read and write. */
import { apiGroup, apiVersionName } from '../../api/meta.ts';
import { LandlordError } from '../../shared/errors.ts';
import type { ResourceType } from './kube.ts';

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: '', version: 'v1', plural, kind, namespaced });

export const resources = {
  tenants: { group: apiGroup, version: apiVersionName, plural: 'tenants', kind: 'Tenant', namespaced: false },
  namespaces: core('namespaces', 'Namespace', false),
  secrets: core('secrets', 'Secret'),
  configMaps: core('configmaps', 'ConfigMap'),
  serviceAccounts: core('serviceaccounts', 'ServiceAccount'),
  services: core('services', 'Service'),
  endpoints: core('endpoints', 'Endpoints'),
  routes: { group: apiGroup, version: apiVersionName, plural: 'routes', kind: 'Route', namespaced: true },
  deployments: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true },
  resourceQuotas: core('resourcequotas', 'ResourceQuota'),
  limitRanges: core('limitranges', 'LimitRange'),
  networkPolicies: { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  roleBindings: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  clusterRoles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  mutatingWebhookConfigurations: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false },
  validatingWebhookConfigurations: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false },
  customResourceDefinitions: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false },
} as const satisfies Record<string, ResourceType>;

/** The resource of an object, by its kind. */
export function resourceOfKind(kind: string): ResourceType {
  const found = Object.values(resources).find((type) => type.kind === kind);
  if (!found) throw new LandlordError('LL_OPERATOR_KIND_UNKNOWN', `landlord does not manage objects of kind ${kind}`);
  return found;
}
