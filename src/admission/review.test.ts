import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mutate, validate } from './review.ts';
import { denialMessage, type AdmissionRequest, type Decision, type KubeObject } from './review-types.ts';
import { applyPatch, compliantPodSpec, pod, request, workload } from './testing.ts';

const platformAdmin = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const operator = { username: 'system:serviceaccount:landlord-system:operator', groups: ['system:serviceaccounts', 'system:serviceaccounts:landlord-system'] };
const namespaceController = { username: 'system:serviceaccount:kube-system:namespace-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system'] };

const managed = (kind: string, extra: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1', kind, metadata: { name: 'tenant-quota', namespace: 'acme', labels: { 'app.kubernetes.io/managed-by': 'landlord', 'landlord.dev/tenant': 'acme', ...extra } }, spec: { hard: { pods: '10' } },
});
const endpointSliceController = { username: 'system:serviceaccount:kube-system:endpointslice-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system'] };
const controllerManager = { username: 'system:kube-controller-manager', groups: ['system:authenticated'] };
const namespace = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'acme', labels } });
const service = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'acme' }, spec: { ports: [{ port: 80 }], ...spec } });

function messageOf(decision: Decision): string | undefined {
  return decision.allowed ? undefined : denialMessage(decision.violations);
}

const validationCases: Array<{ name: string; request: AdmissionRequest; expect: string | undefined }> = [
  { name: 'admits a compliant pod from a tenant', request: request('CREATE', pod()), expect: undefined },
  { name: 'denies a tenant a privileged pod', request: request('CREATE', pod({ ...compliantPodSpec(), hostNetwork: true })), expect: 'baseline/hostNamespaces: spec.hostNetwork must be false or unset: tenant pods never share the node\'s namespaces' },
  { name: 'denies even a cluster admin a non-compliant pod in a tenant namespace', request: request('CREATE', pod({ ...compliantPodSpec(), hostPID: true }), { user: platformAdmin }), expect: 'baseline/hostNamespaces: spec.hostPID must be false or unset: tenant pods never share the node\'s namespaces' },
  { name: 'admits relabelling a non-compliant pod whose spec is unchanged', request: request('UPDATE', pod({ hostPID: true, containers: [] }), { oldObject: pod({ hostPID: true, containers: [] }) }), expect: undefined },
  { name: 'judges ephemeral containers added through the subresource', request: request('UPDATE', pod({ ...compliantPodSpec(), ephemeralContainers: [{ name: 'debug', image: 'busybox', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] } } }] }), { oldObject: pod(), subResource: 'ephemeralcontainers' }), expect: 'restricted/capabilities: spec.ephemeralContainers[0].securityContext.capabilities.add[0] (SYS_PTRACE) must be removed: only NET_BIND_SERVICE may be added' },
  { name: 'denies a tenant removing the tenant label from its namespace', request: request('UPDATE', namespace({}), { oldObject: namespace({ 'landlord.dev/tenant': 'acme' }) }), expect: 'tenant/platformLabels: metadata.labels[landlord.dev/tenant] must not be removed ("acme" → unset): only the platform writes it' },
  { name: 'denies a tenant moving its namespace to another tenant', request: request('UPDATE', namespace({ 'landlord.dev/tenant': 'globex' }), { oldObject: namespace({ 'landlord.dev/tenant': 'acme' }) }), expect: 'tenant/platformLabels: metadata.labels[landlord.dev/tenant] must not be changed ("acme" → "globex"): only the platform writes it' },
  { name: 'denies a tenant changing its namespace tier', request: request('UPDATE', namespace({ 'landlord.dev/tenant': 'acme', 'landlord.dev/tier': 'soft' }), { oldObject: namespace({ 'landlord.dev/tenant': 'acme', 'landlord.dev/tier': 'hard' }) }), expect: 'tenant/platformLabels: metadata.labels[landlord.dev/tier] must not be changed ("hard" → "soft"): only the platform writes it' },
  { name: 'admits a tenant adding its own label to its namespace', request: request('UPDATE', namespace({ 'landlord.dev/tenant': 'acme', team: 'web' }), { oldObject: namespace({ 'landlord.dev/tenant': 'acme' }) }), expect: undefined },
  { name: 'denies a tenant creating a namespace', request: request('CREATE', namespace({ 'landlord.dev/tenant': 'acme' })), expect: 'tenant/namespaceLifecycle: namespace acme must be created by the platform: add it to the Tenant\'s spec.namespaces; tenant/platformLabels: metadata.labels[landlord.dev/tenant] must not be added (unset → "acme"): only the platform writes it' },
  { name: 'denies a tenant deleting its namespace', request: request('DELETE', null, { oldObject: namespace({ 'landlord.dev/tenant': 'acme' }) }), expect: 'tenant/namespaceLifecycle: namespace acme must be deleted by the platform: remove it from the Tenant\'s spec.namespaces' },
  { name: 'admits the operator creating a tenant namespace', request: request('CREATE', namespace({ 'landlord.dev/tenant': 'acme' }), { user: operator }), expect: undefined },
  { name: 'denies a tenant modifying a platform-managed quota', request: request('UPDATE', managed('ResourceQuota'), { oldObject: managed('ResourceQuota') }), expect: 'tenant/platformManagedObjects: ResourceQuota acme/tenant-quota is managed by landlord and must not be modified by a tenant: change the Tenant instead' },
  { name: 'denies a tenant deleting a platform-managed network policy', request: request('DELETE', null, { oldObject: managed('NetworkPolicy') }), expect: 'tenant/platformManagedObjects: NetworkPolicy acme/tenant-quota is managed by landlord and must not be deleted by a tenant: change the Tenant instead' },
  { name: 'denies a tenant unlabelling a platform-managed object', request: request('UPDATE', { ...managed('ConfigMap'), metadata: { name: 'tenant-quota', namespace: 'acme' } }, { oldObject: managed('ConfigMap') }), expect: 'tenant/platformLabels: metadata.labels[landlord.dev/tenant] must not be removed ("acme" → unset): only the platform writes it; tenant/platformLabels: metadata.labels[app.kubernetes.io/managed-by] must not be removed ("landlord" → unset): only the platform writes it; tenant/platformManagedObjects: ConfigMap acme/tenant-quota is managed by landlord and must not be modified by a tenant: change the Tenant instead' },
  { name: 'denies a tenant forging a platform-managed object', request: request('CREATE', managed('ConfigMap', {})), expect: 'tenant/platformLabels: metadata.labels[landlord.dev/tenant] must not be added (unset → "acme"): only the platform writes it; tenant/platformLabels: metadata.labels[app.kubernetes.io/managed-by] must not be added (unset → "landlord"): only the platform writes it' },
  { name: 'admits a tenant object managed by Helm', request: request('CREATE', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { 'app.kubernetes.io/managed-by': 'Helm' } } }), expect: undefined },
  { name: 'names the object in a deletecollection review, which carries no request name', request: { ...request('DELETE', null, { oldObject: managed('LimitRange') }), name: '' }, expect: 'tenant/platformManagedObjects: LimitRange acme/tenant-quota is managed by landlord and must not be deleted by a tenant: change the Tenant instead' },
  { name: 'admits the namespace controller deleting a platform-managed object', request: request('DELETE', null, { oldObject: managed('ResourceQuota'), user: namespaceController }), expect: undefined },
  { name: 'denies the namespace controller modifying a platform-managed object', request: request('UPDATE', managed('ResourceQuota'), { oldObject: managed('ResourceQuota'), user: namespaceController }), expect: 'tenant/platformManagedObjects: ResourceQuota acme/tenant-quota is managed by landlord and must not be modified by a tenant: change the Tenant instead' },
  { name: 'admits the EndpointSlice controller mirroring a managed Service\'s labels onto its slice', request: request('CREATE', managed('EndpointSlice'), { user: endpointSliceController }), expect: undefined },
  { name: 'denies the EndpointSlice controller creating a ConfigMap with platform labels', request: request('CREATE', managed('ConfigMap'), { user: endpointSliceController }), expect: 'tenant/platformLabels: metadata.labels[landlord.dev/tenant] must not be added (unset → "acme"): only the platform writes it; tenant/platformLabels: metadata.labels[app.kubernetes.io/managed-by] must not be added (unset → "landlord"): only the platform writes it' },
  { name: 'denies a tenant creating an EndpointSlice with platform labels', request: request('CREATE', managed('EndpointSlice')), expect: 'tenant/platformLabels: metadata.labels[landlord.dev/tenant] must not be added (unset → "acme"): only the platform writes it; tenant/platformLabels: metadata.labels[app.kubernetes.io/managed-by] must not be added (unset → "landlord"): only the platform writes it' },
  { name: 'admits the token controller adding a token Secret to a managed ServiceAccount', request: request('UPDATE', managed('ServiceAccount'), { oldObject: managed('ServiceAccount'), user: controllerManager }), expect: undefined },
  { name: 'denies kube-controller-manager\'s own identity modifying a managed ConfigMap', request: request('UPDATE', managed('ConfigMap'), { oldObject: managed('ConfigMap'), user: controllerManager }), expect: 'tenant/platformManagedObjects: ConfigMap acme/tenant-quota is managed by landlord and must not be modified by a tenant: change the Tenant instead' },
  { name: 'admits the platform updating a managed quota', request: request('UPDATE', managed('ResourceQuota'), { oldObject: managed('ResourceQuota'), user: operator }), expect: undefined },
  { name: 'denies a NodePort service', request: request('CREATE', service({ type: 'NodePort' })), expect: 'tenant/serviceExposure: spec.type must be ClusterIP, not NodePort: publish the service with a Route' },
  { name: 'denies a LoadBalancer service', request: request('CREATE', service({ type: 'LoadBalancer' })), expect: 'tenant/serviceExposure: spec.type must be ClusterIP, not LoadBalancer: publish the service with a Route' },
  { name: 'denies a service with external IPs', request: request('UPDATE', service({ externalIPs: ['203.0.113.7'] }), { oldObject: service({}) }), expect: 'tenant/serviceExposure: spec.externalIPs must be empty: publish the service with a Route' },
  { name: 'admits a ClusterIP service', request: request('CREATE', service({ type: 'ClusterIP' })), expect: undefined },
];

describe('validation', () => {
  for (const { name, request: req, expect } of validationCases) {
    it(name, () => assert.equal(messageOf(validate(req)), expect));
  }
});

function patched(decision: Decision): Array<{ op: string; path: string; value?: unknown }> {
  assert.equal(decision.allowed, true);
  return decision.allowed ? (decision.patch ?? []) : [];
}

describe('mutation', () => {
  it('leaves a compliant pod unchanged', () => {
    assert.deepEqual(patched(mutate(request('CREATE', pod()))), []);
  });

  it('fills every restricted default into a bare Deployment template, which then validates', () => {
    const bare = workload('Deployment', { containers: [{ name: 'app', image: 'app:1', imagePullPolicy: 'IfNotPresent' }] });
    const decision = mutate(request('CREATE', bare));
    const patch = patched(decision);
    assert.deepEqual([...patch].sort((a, b) => a.path.localeCompare(b.path)), [
      { op: 'replace', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'Always' },
      { op: 'add', path: '/spec/template/spec/containers/0/securityContext', value: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
      { op: 'add', path: '/spec/template/spec/securityContext', value: { seccompProfile: { type: 'RuntimeDefault' }, runAsNonRoot: true } },
    ]);
    assert.deepEqual(decision.allowed && decision.warnings, ['landlord applied defaults: seccompRuntimeDefault, runAsNonRoot, noPrivilegeEscalation, dropAllCapabilities, alwaysPullImages']);
    assert.equal(messageOf(validate(request('CREATE', applyPatch(bare, patch)))), undefined);
    assert.match(messageOf(validate(request('CREATE', bare))) ?? '', /restricted\/allowPrivilegeEscalation/);
  });

  it('never overrides an explicit runAsNonRoot false or Unconfined seccomp, so validation denies them', () => {
    const spec = { securityContext: { runAsNonRoot: false, seccompProfile: { type: 'Unconfined' } }, containers: [{ name: 'a', image: 'a', imagePullPolicy: 'Always', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] };
    assert.deepEqual(patched(mutate(request('CREATE', pod(spec)))), []);
  });

  it('leaves allowPrivilegeEscalation unset on a privileged container, which validation then denies', () => {
    const spec = { ...compliantPodSpec(), containers: [{ name: 'a', image: 'a', imagePullPolicy: 'Always', securityContext: { privileged: true, capabilities: { drop: ['ALL'] } } }] };
    assert.deepEqual(patched(mutate(request('CREATE', pod(spec)))), []);
  });

  it('keeps imagePullPolicy Never for images the platform imported onto nodes', () => {
    const spec = { ...compliantPodSpec(), containers: [{ name: 'a', image: 'local/app:dev', imagePullPolicy: 'Never', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] };
    assert.deepEqual(patched(mutate(request('CREATE', pod(spec)))), []);
  });

  it('places a hard-tier pod with its tenant runtime class, node selector and tolerations', () => {
    const placement = { runtimeClassName: 'kata', nodeSelector: { 'landlord.dev/pool': 'acme' }, tolerations: [{ key: 'landlord.dev/tenant', operator: 'Equal' as const, value: 'acme', effect: 'NoSchedule' }] };
    assert.deepEqual(patched(mutate(request('CREATE', pod()), { placement })), [
      { op: 'add', path: '/spec/runtimeClassName', value: 'kata' },
      { op: 'add', path: '/spec/nodeSelector', value: { 'landlord.dev/pool': 'acme' } },
      { op: 'add', path: '/spec/tolerations', value: placement.tolerations },
    ]);
  });

  it('escapes slashes in label keys of patch paths', () => {
    const spec = { ...compliantPodSpec(), nodeSelector: { zone: 'a' } };
    assert.deepEqual(patched(mutate(request('CREATE', pod(spec)), { placement: { nodeSelector: { 'kubernetes.io/os': 'linux' } } })), [
      { op: 'add', path: '/spec/nodeSelector/kubernetes.io~1os', value: 'linux' },
    ]);
  });

  it('does not mutate deletes or subresources', () => {
    assert.deepEqual(patched(mutate(request('DELETE', null, { oldObject: pod({ containers: [] }) }))), []);
    assert.deepEqual(patched(mutate(request('UPDATE', pod({ containers: [] }), { subResource: 'status' }))), []);
  });
});
