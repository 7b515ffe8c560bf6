import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restrictedViolations } from './pod-security.ts';
import { compliantContainer, compliantPodSpec, pod, workload } from './testing.ts';
import { podSpecSiteOf, type Container, type PodSpec } from './workloads.ts';

function specWith(change: (spec: PodSpec, container: Container) => void): PodSpec {
  const spec = compliantPodSpec();
  change(spec, spec.containers![0]!);
  return spec;
}

function violationsOf(spec: PodSpec, annotations: Record<string, string> = {}): string[] {
  const site = podSpecSiteOf(pod(spec, annotations));
  assert.ok(site);
  return restrictedViolations(site).map((v) => `${v.rule}: ${v.message}`);
}

const cases: Array<{ name: string; spec: PodSpec; annotations?: Record<string, string>; expect: string | undefined }> = [
  { name: 'admits a compliant pod', spec: compliantPodSpec(), expect: undefined },
  { name: 'admits a pod adding only NET_BIND_SERVICE', spec: specWith((_, c) => { c.securityContext!.capabilities!.add = ['NET_BIND_SERVICE']; }), expect: undefined },
  { name: 'admits seccomp and runAsNonRoot set on every container instead of the pod', spec: specWith((s, c) => { s.securityContext = {}; c.securityContext = { ...c.securityContext, runAsNonRoot: true, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } }; }), expect: undefined },
  { name: 'admits the safe sysctls', spec: specWith((s) => { s.securityContext!.sysctls = [{ name: 'net.ipv4.tcp_syncookies', value: '1' }]; }), expect: undefined },
  { name: 'admits the allowed volume types', spec: specWith((s) => { s.volumes = [{ name: 'a', emptyDir: {} }, { name: 'b', secret: { secretName: 's' } }, { name: 'c', persistentVolumeClaim: { claimName: 'c' } }, { name: 'd', projected: { sources: [] } }]; }), expect: undefined },
  { name: 'denies hostNetwork', spec: specWith((s) => { s.hostNetwork = true; }), expect: 'baseline/hostNamespaces: spec.hostNetwork must be false or unset: tenant pods never share the node\'s namespaces' },
  { name: 'denies hostPID', spec: specWith((s) => { s.hostPID = true; }), expect: 'baseline/hostNamespaces: spec.hostPID must be false or unset: tenant pods never share the node\'s namespaces' },
  { name: 'denies hostIPC', spec: specWith((s) => { s.hostIPC = true; }), expect: 'baseline/hostNamespaces: spec.hostIPC must be false or unset: tenant pods never share the node\'s namespaces' },
  { name: 'denies a privileged container', spec: specWith((_, c) => { c.securityContext!.privileged = true; }), expect: 'baseline/privileged: spec.containers[0].securityContext.privileged must be false or unset' },
  { name: 'denies a hostPath volume', spec: specWith((s) => { s.volumes = [{ name: 'root', hostPath: { path: '/' } }]; }), expect: 'baseline/hostPathVolumes: spec.volumes[0].hostPath is forbidden: use a persistentVolumeClaim, emptyDir, configMap or secret volume' },
  { name: 'denies a hostPort', spec: specWith((_, c) => { c.ports = [{ containerPort: 80, hostPort: 80 }]; }), expect: 'baseline/hostPorts: spec.containers[0].ports[0].hostPort must be 0 or unset: expose the pod through a Service and a Route' },
  { name: 'denies a Windows host process', spec: specWith((s) => { s.securityContext!.windowsOptions = { hostProcess: true }; }), expect: 'baseline/hostProcess: spec.securityContext.windowsOptions.hostProcess must be false or unset' },
  { name: 'denies an unconfined AppArmor annotation', spec: compliantPodSpec(), annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }, expect: 'baseline/appArmor: metadata.annotations[container.apparmor.security.beta.kubernetes.io/app] must be runtime/default or localhost/<profile>' },
  { name: 'denies an unconfined AppArmor profile field', spec: specWith((_, c) => { c.securityContext!.appArmorProfile = { type: 'Unconfined' }; }), expect: 'baseline/appArmor: spec.containers[0].securityContext.appArmorProfile.type must be RuntimeDefault or Localhost, not Unconfined' },
  { name: 'denies a custom SELinux type', spec: specWith((s) => { s.securityContext!.seLinuxOptions = { type: 'spc_t' }; }), expect: 'baseline/seLinuxOptions: spec.securityContext.seLinuxOptions.type must be unset or one of container_t, container_init_t, container_kvm_t, container_engine_t' },
  { name: 'denies an SELinux user', spec: specWith((_, c) => { c.securityContext!.seLinuxOptions = { user: 'system_u' }; }), expect: 'baseline/seLinuxOptions: spec.containers[0].securityContext.seLinuxOptions.user must be unset' },
  { name: 'denies an unmasked procMount', spec: specWith((_, c) => { c.securityContext!.procMount = 'Unmasked'; }), expect: 'baseline/procMount: spec.containers[0].securityContext.procMount must be Default or unset' },
  { name: 'denies an unsafe sysctl', spec: specWith((s) => { s.securityContext!.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; }), expect: 'baseline/sysctls: spec.securityContext.sysctls[0].name (kernel.msgmax) is not a safe sysctl; allowed: kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes' },
  { name: 'denies an nfs volume', spec: specWith((s) => { s.volumes = [{ name: 'n', nfs: { server: 'x', path: '/' } }]; }), expect: 'restricted/volumeTypes: spec.volumes[0].nfs is not an allowed volume type; use one of configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret' },
  { name: 'denies allowPrivilegeEscalation left unset', spec: specWith((_, c) => { delete c.securityContext!.allowPrivilegeEscalation; }), expect: 'restricted/allowPrivilegeEscalation: spec.containers[0].securityContext.allowPrivilegeEscalation must be false' },
  { name: 'denies allowPrivilegeEscalation true in an init container', spec: specWith((s) => { s.initContainers = [{ ...compliantContainer('init'), securityContext: { allowPrivilegeEscalation: true, capabilities: { drop: ['ALL'] } } }]; }), expect: 'restricted/allowPrivilegeEscalation: spec.initContainers[0].securityContext.allowPrivilegeEscalation must be false' },
  { name: 'denies an ephemeral container that leaves allowPrivilegeEscalation unset', spec: specWith((s) => { s.ephemeralContainers = [{ name: 'debug', image: 'busybox', securityContext: { capabilities: { drop: ['ALL'] } } }]; }), expect: 'restricted/allowPrivilegeEscalation: spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation must be false' },
  { name: 'denies runAsNonRoot unset everywhere', spec: specWith((s) => { delete s.securityContext!.runAsNonRoot; }), expect: 'restricted/runAsNonRoot: spec.containers[0].securityContext.runAsNonRoot must be true (or set spec.securityContext.runAsNonRoot: true)' },
  { name: 'denies a container overriding runAsNonRoot to false', spec: specWith((_, c) => { c.securityContext!.runAsNonRoot = false; }), expect: 'restricted/runAsNonRoot: spec.containers[0].securityContext.runAsNonRoot must be true (or set spec.securityContext.runAsNonRoot: true)' },
  { name: 'denies runAsUser 0', spec: specWith((_, c) => { c.securityContext!.runAsUser = 0; }), expect: 'restricted/runAsUser: spec.containers[0].securityContext.runAsUser must not be 0 (root)' },
  { name: 'denies seccomp left unset', spec: specWith((s) => { delete s.securityContext!.seccompProfile; }), expect: 'restricted/seccompProfile: spec.containers[0].securityContext.seccompProfile.type must be RuntimeDefault or Localhost (or set spec.securityContext.seccompProfile.type: RuntimeDefault)' },
  { name: 'denies a container with an Unconfined seccomp profile', spec: specWith((_, c) => { c.securityContext!.seccompProfile = { type: 'Unconfined' }; }), expect: 'restricted/seccompProfile: spec.containers[0].securityContext.seccompProfile.type must be RuntimeDefault or Localhost (or set spec.securityContext.seccompProfile.type: RuntimeDefault)' },
  { name: 'denies the legacy unconfined seccomp annotation', spec: compliantPodSpec(), annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' }, expect: 'restricted/seccompProfile: metadata.annotations[seccomp.security.alpha.kubernetes.io/pod] must not be unconfined' },
  { name: 'denies capabilities that do not drop ALL', spec: specWith((_, c) => { c.securityContext!.capabilities = { drop: ['NET_RAW'] }; }), expect: 'restricted/capabilities: spec.containers[0].securityContext.capabilities.drop must include ALL' },
  { name: 'denies a pod that adds NET_RAW', spec: specWith((_, c) => { c.securityContext!.capabilities!.add = ['NET_RAW']; }), expect: 'restricted/capabilities: spec.containers[0].securityContext.capabilities.add[0] (NET_RAW) must be removed: only NET_BIND_SERVICE may be added' },
  { name: 'denies a pod that adds SYS_ADMIN', spec: specWith((_, c) => { c.securityContext!.capabilities!.add = ['SYS_ADMIN']; }), expect: 'restricted/capabilities: spec.containers[0].securityContext.capabilities.add[0] (SYS_ADMIN) must be removed: only NET_BIND_SERVICE may be added' },
];

describe('restricted pod security', () => {
  for (const { name, spec, annotations, expect } of cases) {
    it(name, () => {
      const found = violationsOf(spec, annotations);
      if (expect === undefined) assert.deepEqual(found, []);
      else assert.deepEqual(found, [expect]);
    });
  }

  it('reports every violation of a pod that breaks many rules, in fixing order', () => {
    const found = violationsOf({ hostPID: true, containers: [{ name: 'x', image: 'x', securityContext: { privileged: true } }] });
    assert.deepEqual(found.map((f) => f.split(':')[0]), [
      'baseline/hostNamespaces', 'baseline/privileged', 'restricted/allowPrivilegeEscalation', 'restricted/runAsNonRoot',
      'restricted/seccompProfile', 'restricted/capabilities',
    ]);
  });

  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']) {
    it(`checks the pod template of a ${kind}`, () => {
      const site = podSpecSiteOf(workload(kind, specWith((s) => { s.hostNetwork = true; })));
      assert.ok(site);
      const prefix = kind === 'CronJob' ? 'spec.jobTemplate.spec.template.spec' : 'spec.template.spec';
      assert.deepEqual(restrictedViolations(site).map((v) => v.path), [`${prefix}.hostNetwork`]);
    });
  }

  it('finds no pod spec in a ConfigMap', () => {
    assert.equal(podSpecSiteOf({ kind: 'ConfigMap', metadata: { name: 'x' } }), undefined);
  });
});
