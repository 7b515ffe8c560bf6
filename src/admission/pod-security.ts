/**
 * The Pod Security Standards "restricted" profile (baseline rows included), as enforced by
 * upstream pod-security-admission (`policy/check_*.go`), for Kubernetes versions without PSA.
 *
 * Fails closed: every container of every list (containers, initContainers, ephemeralContainers)
 * is checked, and a field that must be set explicitly (allowPrivilegeEscalation, runAsNonRoot,
 * seccomp, capabilities.drop) is a violation when missing. Each control is a named predicate
 * returning violations; the order is the order a user should fix them in.
 */
import { containersOf, type ContainerSite, type PodSpecSite, type SecurityContextCommon } from './workloads.ts';
import type { Violation } from './review-types.ts';

export interface PodSecurityControl {
  /** Stable rule name, the prefix of every denial it causes. */
  readonly rule: string;
  readonly check: (site: PodSpecSite) => Violation[];
}

const allowedVolumeTypes = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const allowedSeLinuxTypes = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const safeSysctls = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const appArmorAnnotationPrefix = 'container.apparmor.security.beta.kubernetes.io/';
const seccompPodAnnotation = 'seccomp.security.alpha.kubernetes.io/pod';
const seccompContainerAnnotationPrefix = 'container.seccomp.security.alpha.kubernetes.io/';

/** The restricted profile, in fixing order. */
export const restrictedControls: readonly PodSecurityControl[] = [
  { rule: 'baseline/hostNamespaces', check: hostNamespaces },
  { rule: 'baseline/privileged', check: privilegedContainers },
  { rule: 'baseline/hostPathVolumes', check: hostPathVolumes },
  { rule: 'baseline/hostPorts', check: hostPorts },
  { rule: 'baseline/hostProcess', check: windowsHostProcess },
  { rule: 'baseline/appArmor', check: unconfinedAppArmor },
  { rule: 'baseline/seLinuxOptions', check: customSeLinuxOptions },
  { rule: 'baseline/procMount', check: unmaskedProcMount },
  { rule: 'baseline/sysctls', check: unsafeSysctls },
  { rule: 'restricted/volumeTypes', check: restrictedVolumeTypes },
  { rule: 'restricted/allowPrivilegeEscalation', check: privilegeEscalationAllowed },
  { rule: 'restricted/runAsNonRoot', check: runAsNonRootUnset },
  { rule: 'restricted/runAsUser', check: runAsRootUser },
  { rule: 'restricted/seccompProfile', check: seccompNotRestricted },
  { rule: 'restricted/capabilities', check: capabilitiesNotDropped },
];

/** Every restricted-profile violation of the pod spec at `site`; empty when it complies. */
export function restrictedViolations(site: PodSpecSite): Violation[] {
  return restrictedControls.flatMap((control) => control.check(site).map((v) => ({ ...v, rule: control.rule })));
}

const violation = (path: string, message: string): Violation => ({ rule: '', path, message });

function hostNamespaces(site: PodSpecSite): Violation[] {
  return (['hostNetwork', 'hostPID', 'hostIPC'] as const)
    .filter((field) => site.spec[field] === true)
    .map((field) => violation(`${site.path}.${field}`, `${site.path}.${field} must be false or unset: tenant pods never share the node's namespaces`));
}

function privilegedContainers(site: PodSpecSite): Violation[] {
  return containersOf(site)
    .filter(({ container }) => container.securityContext?.privileged === true)
    .map(({ path }) => violation(`${path}.securityContext.privileged`, `${path}.securityContext.privileged must be false or unset`));
}

function hostPathVolumes(site: PodSpecSite): Violation[] {
  return volumesOf(site)
    .filter(({ volume }) => volume.hostPath !== undefined)
    .map(({ path }) => violation(`${path}.hostPath`, `${path}.hostPath is forbidden: use a persistentVolumeClaim, emptyDir, configMap or secret volume`));
}

function hostPorts(site: PodSpecSite): Violation[] {
  return containersOf(site).flatMap(({ path, container }) =>
    (Array.isArray(container.ports) ? container.ports : [])
      .map((port, index) => ({ port, at: `${path}.ports[${index}].hostPort` }))
      .filter(({ port }) => port?.hostPort !== undefined && port.hostPort !== 0)
      .map(({ at }) => violation(at, `${at} must be 0 or unset: expose the pod through a Service and a Route`)),
  );
}

function windowsHostProcess(site: PodSpecSite): Violation[] {
  return securityContexts(site)
    .filter(({ context }) => context?.windowsOptions?.hostProcess === true)
    .map(({ path }) => violation(`${path}.windowsOptions.hostProcess`, `${path}.windowsOptions.hostProcess must be false or unset`));
}

function unconfinedAppArmor(site: PodSpecSite): Violation[] {
  const annotations = Object.entries(site.annotations)
    .filter(([key, value]) => key.startsWith(appArmorAnnotationPrefix) && value !== 'runtime/default' && !String(value).startsWith('localhost/'))
    .map(([key]) => violation(`metadata.annotations[${key}]`, `metadata.annotations[${key}] must be runtime/default or localhost/<profile>`));
  const fields = securityContexts(site)
    .filter(({ context }) => context?.appArmorProfile?.type === 'Unconfined')
    .map(({ path }) => violation(`${path}.appArmorProfile.type`, `${path}.appArmorProfile.type must be RuntimeDefault or Localhost, not Unconfined`));
  return [...annotations, ...fields];
}

function customSeLinuxOptions(site: PodSpecSite): Violation[] {
  return securityContexts(site).flatMap(({ path, context }) => {
    const options = context?.seLinuxOptions;
    if (!options) return [];
    const found: Violation[] = [];
    if (!allowedSeLinuxTypes.has(options.type ?? '')) {
      found.push(violation(`${path}.seLinuxOptions.type`, `${path}.seLinuxOptions.type must be unset or one of container_t, container_init_t, container_kvm_t, container_engine_t`));
    }
    for (const field of ['user', 'role'] as const) {
      if (options[field]) found.push(violation(`${path}.seLinuxOptions.${field}`, `${path}.seLinuxOptions.${field} must be unset`));
    }
    return found;
  });
}

function unmaskedProcMount(site: PodSpecSite): Violation[] {
  return containersOf(site)
    .filter(({ container }) => (container.securityContext?.procMount ?? 'Default') !== 'Default')
    .map(({ path }) => violation(`${path}.securityContext.procMount`, `${path}.securityContext.procMount must be Default or unset`));
}

function unsafeSysctls(site: PodSpecSite): Violation[] {
  const sysctls = site.spec.securityContext?.sysctls;
  return (Array.isArray(sysctls) ? sysctls : [])
    .map((sysctl, index) => ({ name: sysctl?.name ?? '', at: `${site.path}.securityContext.sysctls[${index}].name` }))
    .filter(({ name }) => !safeSysctls.has(name))
    .map(({ name, at }) => violation(at, `${at} (${name}) is not a safe sysctl; allowed: ${[...safeSysctls].join(', ')}`));
}

function restrictedVolumeTypes(site: PodSpecSite): Violation[] {
  return volumesOf(site).flatMap(({ path, volume }) =>
    Object.keys(volume)
      .filter((field) => field !== 'name' && field !== 'hostPath' && !allowedVolumeTypes.has(field))
      .map((field) => violation(`${path}.${field}`, `${path}.${field} is not an allowed volume type; use one of ${[...allowedVolumeTypes].join(', ')}`)),
  );
}

function privilegeEscalationAllowed(site: PodSpecSite): Violation[] {
  return containersOf(site)
    .filter(({ container }) => container.securityContext?.allowPrivilegeEscalation !== false)
    .map(({ path }) => violation(`${path}.securityContext.allowPrivilegeEscalation`, `${path}.securityContext.allowPrivilegeEscalation must be false`));
}

/** Pod-level `runAsNonRoot: true` covers containers that leave it unset; an explicit `false` anywhere fails. */
function runAsNonRootUnset(site: PodSpecSite): Violation[] {
  const podLevel = site.spec.securityContext?.runAsNonRoot;
  const found: Violation[] = [];
  if (podLevel === false) {
    found.push(violation(`${site.path}.securityContext.runAsNonRoot`, `${site.path}.securityContext.runAsNonRoot must be true`));
  }
  for (const { path, container } of containersOf(site)) {
    const own = container.securityContext?.runAsNonRoot;
    if (own === false || (own === undefined && podLevel !== true)) {
      found.push(violation(`${path}.securityContext.runAsNonRoot`, `${path}.securityContext.runAsNonRoot must be true (or set ${site.path}.securityContext.runAsNonRoot: true)`));
    }
  }
  return found;
}

function runAsRootUser(site: PodSpecSite): Violation[] {
  return securityContexts(site)
    .filter(({ context }) => context?.runAsUser === 0)
    .map(({ path }) => violation(`${path}.runAsUser`, `${path}.runAsUser must not be 0 (root)`));
}

/** Pod-level RuntimeDefault/Localhost covers containers that leave it unset; Unconfined is never allowed. */
function seccompNotRestricted(site: PodSpecSite): Violation[] {
  const restricted = (profile: SecurityContextCommon['seccompProfile']): boolean => profile?.type === 'RuntimeDefault' || profile?.type === 'Localhost';
  const podProfile = site.spec.securityContext?.seccompProfile;
  const found: Violation[] = [];
  if (podProfile?.type !== undefined && !restricted(podProfile)) {
    found.push(violation(`${site.path}.securityContext.seccompProfile.type`, `${site.path}.securityContext.seccompProfile.type must be RuntimeDefault or Localhost`));
  }
  for (const { path, container } of containersOf(site)) {
    const own = container.securityContext?.seccompProfile;
    if (own?.type !== undefined ? !restricted(own) : !restricted(podProfile)) {
      found.push(violation(`${path}.securityContext.seccompProfile.type`, `${path}.securityContext.seccompProfile.type must be RuntimeDefault or Localhost (or set ${site.path}.securityContext.seccompProfile.type: RuntimeDefault)`));
    }
  }
  const annotations = Object.entries(site.annotations)
    .filter(([key, value]) => (key === seccompPodAnnotation || key.startsWith(seccompContainerAnnotationPrefix)) && value === 'unconfined')
    .map(([key]) => violation(`metadata.annotations[${key}]`, `metadata.annotations[${key}] must not be unconfined`));
  return [...found, ...annotations];
}

function capabilitiesNotDropped(site: PodSpecSite): Violation[] {
  return containersOf(site).flatMap(({ path, container }: ContainerSite) => {
    const capabilities = container.securityContext?.capabilities;
    const found: Violation[] = [];
    const drop = Array.isArray(capabilities?.drop) ? capabilities.drop : [];
    if (!drop.includes('ALL')) {
      found.push(violation(`${path}.securityContext.capabilities.drop`, `${path}.securityContext.capabilities.drop must include ALL`));
    }
    const add = Array.isArray(capabilities?.add) ? capabilities.add : [];
    add.forEach((capability, index) => {
      if (capability !== 'NET_BIND_SERVICE') {
        const at = `${path}.securityContext.capabilities.add[${index}]`;
        found.push(violation(at, `${at} (${capability}) must be removed: only NET_BIND_SERVICE may be added`));
      }
    });
    return found;
  });
}

function volumesOf(site: PodSpecSite): Array<{ path: string; volume: Record<string, unknown> }> {
  const volumes = Array.isArray(site.spec.volumes) ? site.spec.volumes : [];
  return volumes.map((volume, index) => ({ path: `${site.path}.volumes[${index}]`, volume: volume ?? {} }));
}

/** The pod's security context, then each container's, with their paths. */
function securityContexts(site: PodSpecSite): Array<{ path: string; context: SecurityContextCommon | undefined }> {
  return [
    { path: `${site.path}.securityContext`, context: site.spec.securityContext },
    ...containersOf(site).map(({ path, container }) => ({ path: `${path}.securityContext`, context: container.securityContext })),
  ];
}
