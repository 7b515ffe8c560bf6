/**
 * The decisions: pure functions from an AdmissionRequest (plus facts gathered about the tenant)
 * to allow, deny or patch. The HTTPS shell (server.ts) only decodes, gathers and encodes.
 */
import { isDeepStrictEqual } from 'node:util';
import { podMutators, type MutationContext } from './defaults.ts';
import { isExemptFromTenantGuards } from './exemptions.ts';
import { carriesHostnames, hostnameViolations, type HostnameFacts } from './hostnames.ts';
import { diff } from './json-patch.ts';
import { restrictedViolations } from './pod-security.ts';
import { routeTlsViolations, routeTlsWarnings } from './route-tls.ts';
import { allow, deny, type AdmissionRequest, type Decision, type Violation } from './review-types.ts';
import { tenantGuardViolations } from './tenant-guards.ts';
import { podSpecSiteOf, type PodSpec } from './workloads.ts';

/** Facts gathered about the cluster that some validations need. */
export interface ValidationContext {
  /** Required for Routes and Ingresses; without it they are refused (fails closed). */
  readonly hostnames?: HostnameFacts;
}

/**
 * Validates a request for a tenant namespace (or a tenant's namespace object itself): tenant
 * guards for everyone but the platform (exemptions.ts), then the restricted profile, a Route's TLS
 * settings and hostname ownership for everyone. An UPDATE that leaves the pod spec as it was is not re-judged, so
 * labelling or scaling a pod admitted before a rule existed keeps working.
 */
export function validate(request: AdmissionRequest, context: ValidationContext = {}): Decision {
  const violations: Violation[] = [];
  if (!isExemptFromTenantGuards(request)) violations.push(...tenantGuardViolations(request));
  violations.push(...podSecurityViolations(request), ...routeTlsViolations(request));
  if (carriesHostnames(request)) {
    violations.push(...(context.hostnames
      ? hostnameViolations(request, context.hostnames)
      : [{ rule: 'hostnames/tenantDomains', path: 'metadata.namespace', message: 'the tenant\'s domains could not be read, so no hostname can be admitted; retry later' }]));
  }
  if (violations.length > 0) return deny(violations);
  const warnings = routeTlsWarnings(request, context.hostnames?.tenant);
  return warnings.length > 0 ? { allowed: true, warnings } : allow;
}

function podSecurityViolations(request: AdmissionRequest): Violation[] {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return [];
  const site = podSpecSiteOf(request.object);
  if (site === undefined) return [];
  if (request.operation === 'UPDATE' && request.subResource !== 'ephemeralcontainers') {
    const before = podSpecSiteOf(request.oldObject);
    if (before !== undefined && isDeepStrictEqual(before.spec, site.spec) && isDeepStrictEqual(before.annotations, site.annotations)) return [];
  }
  return restrictedViolations(site);
}

/**
 * Applies the pod mutators (defaults.ts) to the pod or pod template in the request and returns
 * the JSON patch; allows without a patch when nothing changes. Denies only what a mutator cannot
 * do correctly (a TLS sidecar for a Route it cannot serve); everything else is validation's job.
 */
export function mutate(request: AdmissionRequest, context: MutationContext = {}): Decision {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allow;
  if (request.subResource) return allow;
  const original = podSpecSiteOf(request.object);
  if (original === undefined) return allow;
  // Mutators edit only the pod spec, so only it is copied and compared. The serialization that
  // makes the copy is also the baseline telling which mutators changed something.
  let serialized = JSON.stringify(original.spec);
  const site = { ...original, spec: JSON.parse(serialized) as PodSpec };
  const violations: Violation[] = [];
  const applied = podMutators.filter((mutator) => {
    violations.push(...(mutator.apply(site, context) ?? []));
    const after = JSON.stringify(site.spec);
    if (after === serialized) return false;
    serialized = after;
    return true;
  });
  if (violations.length > 0) return deny(violations);
  if (applied.length === 0) return allow;
  const patch = diff(original.spec, site.spec, original.pointer);
  return { allowed: true, patch, warnings: [`landlord applied defaults: ${applied.map((m) => m.name).join(', ')}`] };
}
