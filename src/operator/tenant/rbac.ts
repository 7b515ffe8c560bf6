/**
 * The cluster-wide RBAC landlord relies on: the role tenant owners are bound to in their
 * namespaces, and the operator's own permissions.
 *
 * landlord-tenant-admin stance: full control of workloads and their configuration inside the
 * tenant's namespaces; read-only on what the platform sets (quotas, limit ranges, network policies,
 * the namespace itself), so a tenant can neither lift its limits nor relabel its namespace. Role
 * and RoleBinding management is granted; Kubernetes' escalation checks stop a tenant from binding
 * anything it does not already hold.
 */
import { labels, managedByValue, platformNamespace } from '../../api/meta.ts';
import { routeControllerRules } from '../route/rbac.ts';
import type { KubeObject } from '../runtime/kube.ts';
import { webhookTlsRules } from '../webhook-tls.ts';

export const tenantAdminRoleName = 'landlord-tenant-admin';
export const operatorName = 'landlord-operator';

const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const read = ['get', 'list', 'watch'];
const platformLabels = { [labels.managedBy]: managedByValue, 'app.kubernetes.io/part-of': 'landlord' };

export function tenantAdminClusterRole(): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: tenantAdminRoleName, labels: platformLabels },
    rules: [
      {
        apiGroups: [''],
        resources: [
          'pods', 'pods/log', 'pods/exec', 'pods/attach', 'pods/portforward', 'services', 'endpoints', 'configmaps', 'secrets',
          'persistentvolumeclaims', 'serviceaccounts', 'replicationcontrollers', 'replicationcontrollers/scale',
        ],
        verbs: all,
      },
      { apiGroups: [''], resources: ['events', 'resourcequotas', 'limitranges', 'pods/status', 'services/status'], verbs: read },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
      {
        apiGroups: ['apps'],
        resources: ['deployments', 'deployments/scale', 'statefulsets', 'statefulsets/scale', 'daemonsets', 'replicasets', 'replicasets/scale', 'controllerrevisions'],
        verbs: all,
      },
      { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: all },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: all },
      { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: all },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: all },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: read },
      { apiGroups: ['landlord.dev'], resources: ['routes'], verbs: all },
      { apiGroups: ['landlord.dev'], resources: ['routes/status'], verbs: read },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: all },
    ],
  };
}

/** The operator's ServiceAccount, ClusterRole and binding (for deploy/rbac/operator.yaml). */
export function operatorRbacObjects(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: operatorName, namespace: platformNamespace, labels: platformLabels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: operatorName, labels: platformLabels },
      rules: [
        { apiGroups: ['landlord.dev'], resources: ['tenants', 'tenants/status', 'tenants/finalizers'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
        { apiGroups: [''], resources: ['namespaces', 'secrets', 'configmaps', 'resourcequotas', 'limitranges', 'serviceaccounts', 'services'], verbs: all },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: all },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: all },
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: all },
        // The tenant ingress's Role grants read on these. Kubernetes lets a subject grant only what it
        // holds itself; holding read is narrower than `escalate` on roles, which would let it grant anything.
        { apiGroups: ['landlord.dev'], resources: ['routes'], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: read },
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: [tenantAdminRoleName], verbs: ['bind', 'escalate'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
        // Where the API server listens, for the tenant ingress's egress policy (tenant/api-server.ts).
        { apiGroups: [''], resources: ['endpoints'], resourceNames: ['kubernetes'], verbs: ['get'] },
        ...routeControllerRules,
        ...webhookTlsRules,
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: operatorName, labels: platformLabels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: operatorName },
      subjects: [{ kind: 'ServiceAccount', name: operatorName, namespace: platformNamespace }],
    },
  ];
}
