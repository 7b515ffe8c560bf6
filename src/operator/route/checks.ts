/**
 * Whether a Route may have platform objects at all, before any certificate is considered: an
 * ordered list of named checks, the first failing one giving the `CertificateIssued` condition.
 *
 * Two kinds of failure:
 * - `refused`: the Route itself is wrong (a name too long for the derived names, a hostname
 *   outside the tenant's domains). Nothing is kept for it: what landlord created earlier is deleted,
 *   since a certificate for a name the tenant no longer owns must not stay in use.
 * - `unresolved`: the Route's surroundings are not there (no tenant label on the namespace, no
 *   Tenant, a Tenant whose domains cannot be read). Nothing is written or deleted until they are;
 *   a change to the namespace or Tenant re-examines the Route.
 *
 * The hostname rule is the PKI's issuance policy (`refuseIssuance`): a Route is accepted exactly
 * when its tenant CA could sign the name, and a verifier would accept it.
 */
import { labels } from '../../api/meta.ts';
import { routeNameMaxLength, type Route } from '../../api/route.ts';
import type { Tenant } from '../../api/tenant.ts';
import { refuseIssuance, tenantNamePolicy } from '../../pki/index.ts';
import { tenantZones } from '../tenant/checks.ts';

/** What the checks may look at besides the Route. */
export interface RouteView {
  /** The `landlord.dev/tenant` label of the Route's namespace; undefined when absent or the namespace is unknown. */
  readonly namespaceTenant: string | undefined;
  /** The Tenant that label names, if it exists. */
  readonly tenant: Tenant | undefined;
}

export type RouteVerdict =
  | { readonly kind: 'accepted'; readonly tenant: string; readonly zones: readonly string[] }
  | { readonly kind: 'refused'; readonly reason: string; readonly message: string }
  | { readonly kind: 'unresolved'; readonly reason: string; readonly message: string };

type Check = (route: Route, view: RouteView) => Exclude<RouteVerdict, { kind: 'accepted' }> | undefined;

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const nameIsAShortDnsLabel: Check = (route) => {
  const name = route.metadata.name;
  return dnsLabel.test(name) && name.length <= routeNameMaxLength ? undefined : {
    kind: 'refused', reason: 'InvalidName',
    message: `Route names must be DNS labels of at most ${routeNameMaxLength} characters (the names derived from them must stay valid); ${JSON.stringify(name)} is not: recreate the Route under a shorter name`,
  };
};

const namespaceBelongsToATenant: Check = (route, view) => (view.namespaceTenant !== undefined ? undefined : {
  kind: 'unresolved', reason: 'NamespaceHasNoTenant',
  message: `namespace ${route.metadata.namespace ?? ''} has no ${labels.tenant} label; create Routes in a tenant namespace`,
});

const tenantExists: Check = (route, view) => (view.tenant !== undefined ? undefined : {
  kind: 'unresolved', reason: 'TenantNotFound',
  message: `Tenant ${view.namespaceTenant ?? ''} (the ${labels.tenant} label of namespace ${route.metadata.namespace ?? ''}) does not exist`,
});

const tenantDomainsAreReadable: Check = (_route, view) => {
  try {
    tenantZones(view.tenant!);
    return undefined;
  } catch (error) {
    return { kind: 'unresolved', reason: 'TenantDomainsInvalid', message: `Tenant ${view.tenant!.metadata.name} has invalid domains: ${error instanceof Error ? error.message : String(error)}` };
  }
};

const hostnameIsInsideTenantDomains: Check = (route, view) => {
  const tenant = view.tenant!;
  const zones = tenantZones(tenant);
  const refusal = refuseIssuance(tenantNamePolicy(tenant.metadata.name, zones), { dns: [route.spec.hostname], uri: [] });
  if (refusal === undefined) return undefined;
  if (refusal.code === 'LL_PKI_DNS_NAME_INVALID') return { kind: 'refused', reason: 'InvalidHostname', message: `spec.hostname: ${refusal.reason}` };
  return {
    kind: 'refused', reason: 'HostnameNotInTenantDomains',
    message: `${route.spec.hostname} is outside the domains of tenant ${tenant.metadata.name} (${zones.join(', ')}); use a name inside them or ask an administrator to add the domain`,
  };
};

/** In order: the first failing check is the one reported. */
export const routeChecks: ReadonlyArray<readonly [string, Check]> = [
  ['nameIsAShortDnsLabel', nameIsAShortDnsLabel],
  ['namespaceBelongsToATenant', namespaceBelongsToATenant],
  ['tenantExists', tenantExists],
  ['tenantDomainsAreReadable', tenantDomainsAreReadable],
  ['hostnameIsInsideTenantDomains', hostnameIsInsideTenantDomains],
];

export function routeVerdict(route: Route, view: RouteView): RouteVerdict {
  for (const [, check] of routeChecks) {
    const problem = check(route, view);
    if (problem) return problem;
  }
  return { kind: 'accepted', tenant: view.tenant!.metadata.name, zones: tenantZones(view.tenant!) };
}
