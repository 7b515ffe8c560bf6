/**
 * Mutating defaults: restricted settings filled in where the pod left them unset and filling them
 * cannot change what a compliant pod does. An explicit value is never overridden (except the
 * pull policy and hard-tier placement, which are platform policy): validation then denies it
 * with a message saying what to change.
 *
 * The pipeline is an ordered list of named mutators. The last one injects the TLS sidecars
 * (sidecar-injection.ts), the only mutator that may refuse a pod: a sidecar it cannot build
 * correctly must not be replaced by a pod without one.
 */
import type { TenantPlacement } from '../api/tenant.ts';
import type { Violation } from './review-types.ts';
import { defaultSidecarSettings, injectTlsSidecars, isInjectedSidecar, type NamespaceRoutes, type SidecarSettings } from './sidecar-injection.ts';
import { containersOf, type PodSpec, type PodSpecSite } from './workloads.ts';

/** What a mutator may know beyond the pod: facts gathered about the tenant, and webhook settings. */
export interface MutationContext {
  /** The tenant's placement when its tier is `hard`; undefined for soft tenants. */
  readonly placement?: TenantPlacement;
  /** The Routes and Services of the namespace, gathered for pod creates; without them no sidecar is injected. */
  readonly routes?: NamespaceRoutes;
  /** The injected sidecar's image and the router's source CIDR; default {@link defaultSidecarSettings}. */
  readonly sidecar?: SidecarSettings;
}

export interface PodMutator {
  readonly name: string;
  /** Edits `site.spec` in place (the caller passes a copy); returns why the pod cannot be admitted, if it cannot. */
  readonly apply: (site: PodSpecSite, context: MutationContext) => readonly Violation[] | void;
}

export const podMutators: readonly PodMutator[] = [
  { name: 'seccompRuntimeDefault', apply: seccompRuntimeDefault },
  { name: 'runAsNonRoot', apply: runAsNonRoot },
  { name: 'noPrivilegeEscalation', apply: noPrivilegeEscalation },
  { name: 'dropAllCapabilities', apply: dropAllCapabilities },
  { name: 'alwaysPullImages', apply: alwaysPullImages },
  { name: 'hardTierPlacement', apply: hardTierPlacement },
  { name: 'tlsSidecars', apply: (site, context) => injectTlsSidecars(site, context.routes, context.sidecar) },
];

/** Pod-level RuntimeDefault when the pod sets no profile; containers' own profiles still win. */
function seccompRuntimeDefault(site: PodSpecSite): void {
  const context = podSecurityContext(site.spec);
  context.seccompProfile ??= { type: 'RuntimeDefault' };
}

/**
 * Pod-level `runAsNonRoot: true` when unset. Safe: an image whose user is root (or unknown) then
 * fails to start with a clear kubelet error instead of running as root.
 */
function runAsNonRoot(site: PodSpecSite): void {
  const context = podSecurityContext(site.spec);
  context.runAsNonRoot ??= true;
}

/**
 * `allowPrivilegeEscalation: false` when unset, except on privileged containers or ones adding
 * CAP_SYS_ADMIN: the API server rejects that combination, and validation explains the real problem.
 */
function noPrivilegeEscalation(site: PodSpecSite): void {
  for (const { container } of containersOf(site)) {
    const context = (container.securityContext ??= {});
    const sysAdmin = Array.isArray(context.capabilities?.add) && context.capabilities.add.includes('SYS_ADMIN');
    if (context.allowPrivilegeEscalation === undefined && context.privileged !== true && !sysAdmin) context.allowPrivilegeEscalation = false;
  }
}

/** `capabilities.drop: [ALL]` when the container states no drop list. */
function dropAllCapabilities(site: PodSpecSite): void {
  for (const { container } of containersOf(site)) {
    const capabilities = ((container.securityContext ??= {}).capabilities ??= {});
    capabilities.drop ??= ['ALL'];
  }
}

/**
 * MTB DI-1: `IfNotPresent` (the API server's default for tagged images) becomes `Always`, so a
 * tenant can never run another tenant's private image from a node's cache. `Never` is kept: it is
 * how images imported onto nodes by the platform (the local cluster) are run. The injected TLS
 * sidecars keep the webhook's policy: their image is the platform's, not a tenant's.
 */
function alwaysPullImages(site: PodSpecSite, context: MutationContext): void {
  for (const { container } of containersOf(site)) {
    if (isInjectedSidecar(container, context.sidecar ?? defaultSidecarSettings)) continue;
    if (container.imagePullPolicy === undefined || container.imagePullPolicy === 'IfNotPresent') container.imagePullPolicy = 'Always';
  }
}

/** Hard-tier tenants run where their placement says: its runtime class, node selector and tolerations win. */
function hardTierPlacement(site: PodSpecSite, context: MutationContext): void {
  const placement = context.placement;
  if (placement === undefined) return;
  if (placement.runtimeClassName !== undefined) site.spec.runtimeClassName = placement.runtimeClassName;
  if (placement.nodeSelector !== undefined) site.spec.nodeSelector = { ...site.spec.nodeSelector, ...placement.nodeSelector };
  const tolerations = Array.isArray(site.spec.tolerations) ? site.spec.tolerations : [];
  for (const toleration of placement.tolerations ?? []) {
    if (!tolerations.some((existing) => JSON.stringify(existing) === JSON.stringify(toleration))) tolerations.push({ ...toleration });
  }
  if (tolerations.length > 0) site.spec.tolerations = tolerations;
}

function podSecurityContext(spec: PodSpec): NonNullable<PodSpec['securityContext']> {
  return (spec.securityContext ??= {});
}
