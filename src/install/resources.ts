/** Where the kinds landlord installs live in the API. */
import { apiGroup, apiVersionName } from '../api/meta.ts';
import type { KubeObject, ResourceType } from '../operator/index.ts';
import { LandlordError } from '../shared/errors.ts';

const types: ResourceType[] = [
  { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false },
  { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false },
  { group: apiGroup, version: apiVersionName, plural: 'tenants', kind: 'Tenant', namespaced: false },
  { group: apiGroup, version: apiVersionName, plural: 'routes', kind: 'Route', namespaced: true },
];

export function resourceType(kind: string): ResourceType {
  const found = types.find((type) => type.kind === kind);
  if (!found) throw new LandlordError('LL_INSTALL_KIND_UNKNOWN', `the installer does not know where ${kind} objects live`);
  return found;
}

export function resourceOf(object: KubeObject): ResourceType {
  return resourceType(object.kind);
}
