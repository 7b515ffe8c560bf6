/**
 * The tenant operator: Tenant → namespaces, owner RBAC, quotas, limits, network policies and a
 * tenant CA; Route → certificate Secret and sidecar Service; the admission webhook's serving
 * certificate. Converged with server-side apply. See docs/operator.md.
 */
export { buildOperator, type LeaderElectionConfig, type Operator, type OperatorDeps, type OperatorExit } from './operator.ts';
export { rootCaSecretName } from './platform.ts';
export { routeVerdict, type RouteVerdict, type RouteView } from './route/checks.ts';
export { certificateIssued, sidecarServiceCreated } from './route/status.ts';
export { routeFieldManager } from './route/reconciler.ts';
export { webhookConfigurationName, webhookDnsNames, webhookServiceName, webhookServingSecretName } from './webhook-tls.ts';
export { KubeApiError, KubeClient, isApiStatus, type KubeObject, type ResourceType } from './runtime/kube.ts';
export { resources } from './runtime/resources.ts';
export { firstSpecProblem, tenantChecks, tenantNamespaces, tenantZones, type ClusterView, type SpecProblem } from './tenant/checks.ts';
export { readApiServerEndpoints } from './tenant/api-server.ts';
export { caAnnotations, desiredTenantObjects, objectNames, tenantIngressPorts, type ApiServerEndpoint, type TenantCa, type TenantIngressConfig, type TenantInput } from './tenant/desired.ts';
export { operatorRbacObjects, tenantAdminClusterRole, tenantAdminRoleName } from './tenant/rbac.ts';
export { cleanupFinalizer, fieldManager } from './tenant/reconciler.ts';
export { tenantStatus, type Outcome } from './tenant/status.ts';
