/**
 * Which names a tenant may put in a certificate: pure policy, no crypto.
 *
 * A tenant owns DNS zones and one workload-identity trust domain. Both map one-to-one onto the
 * NameConstraints of the tenant's intermediate CA (see docs/pki.md), so what landlord refuses to
 * issue is exactly what a verifier refuses to accept:
 * - a domain spec `*.acme.example` (or `acme.example`) becomes the zone `acme.example`, encoded as the
 *   dNSName constraint `acme.example`, which RFC 5280 and OpenSSL read as "acme.example and every name
 *   under it" (`x.acme.example`, `a.b.acme.example`, `*.x.acme.example`);
 * - workload identities are `spiffe://<tenant>.<platform trust domain>/ns/<ns>/sa/<sa>`, and the tenant's
 *   trust domain host is the URI constraint. URI constraints are host-based (RFC 5280 §4.2.1.10) and
 *   OpenSSL compares only the host, so a path-based identity (`spiffe://landlord.local/tenant/acme/…`)
 *   could not be constrained per tenant; a per-tenant host can.
 */
import { LandlordError } from '../shared/errors.ts';
import type { PermittedNames } from './name-constraints.ts';

export const defaultPlatformTrustDomain = 'landlord.local';

/** The names one tenant owns. Build it with `tenantNamePolicy`; it is valid by construction. */
export interface TenantNamePolicy {
  readonly tenant: string;
  /** DNS zones, lowercase, without wildcard: `acme.example`. */
  readonly zones: readonly string[];
  /** The tenant's SPIFFE trust domain: `acme.landlord.local`. */
  readonly trustDomain: string;
}

/** The subject alternative names a certificate asks for. */
export interface RequestedNames {
  readonly dns: readonly string[];
  readonly uri: readonly string[];
}

const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Tenant names are DNS labels (RFC 1123), as Kubernetes namespace prefixes must be. */
export function parseTenantName(name: string): string {
  if (!label.test(name)) {
    throw new LandlordError('LL_PKI_TENANT_NAME_INVALID', `tenant name ${JSON.stringify(name)} is not a DNS label`, {
      hint: 'use 1-63 lowercase letters, digits and "-", starting and ending with a letter or digit (e.g. "acme")',
    });
  }
  return name;
}

/**
 * The zone a tenant domain spec grants: `*.acme.example` and `acme.example` both grant `acme.example`.
 * Fails closed on anything else: wildcards below the first label, single-label zones (a whole TLD),
 * upper case, trailing dots, IP addresses and non-ASCII (use punycode) give `LL_PKI_DOMAIN_INVALID`.
 */
export function parseTenantDomain(spec: string): string {
  const zone = spec.startsWith('*.') ? spec.slice(2) : spec;
  const labels = zone.split('.');
  const problem =
    zone.length > 253 ? 'is longer than 253 characters'
    : !labels.every((part) => label.test(part)) ? 'is not a lowercase DNS name (a wildcard is allowed only as the whole first label, "*.")'
    : labels.length < 2 ? 'would grant a whole top-level domain'
    : /^[0-9]+$/.test(labels.at(-1) ?? '') ? 'looks like an IP address'
    : undefined;
  if (problem) {
    throw new LandlordError('LL_PKI_DOMAIN_INVALID', `tenant domain ${JSON.stringify(spec)} ${problem}`, {
      hint: 'write a domain as "*.acme.example" (the zone and every name under it) or "acme.example" (same grant)',
    });
  }
  return zone;
}

export function tenantNamePolicy(
  tenant: string,
  domains: readonly string[],
  platformTrustDomain: string = defaultPlatformTrustDomain,
): TenantNamePolicy {
  const zones = [...new Set(domains.map(parseTenantDomain))];
  if (zones.length === 0) {
    throw new LandlordError('LL_PKI_DOMAIN_MISSING', `tenant ${tenant} has no domains`, {
      hint: 'give the tenant at least one domain, e.g. --domain "*.acme.example"',
    });
  }
  return { tenant: parseTenantName(tenant), zones, trustDomain: `${tenant}.${parseTenantDomain(platformTrustDomain)}` };
}

/** The NameConstraints that enforce `policy` in every verifier: the zones and the trust domain host. */
export function permittedNames(policy: TenantNamePolicy): PermittedNames {
  return { dns: [...policy.zones], uri: [policy.trustDomain] };
}

/** The inverse of `permittedNames`, for a tenant CA read back from its certificate. */
export function policyFromPermittedNames(names: PermittedNames): TenantNamePolicy {
  const trustDomain = names.uri.length === 1 ? names.uri[0] : undefined;
  const tenant = trustDomain?.split('.')[0];
  if (trustDomain === undefined || tenant === undefined || names.dns.length === 0) {
    throw new LandlordError('LL_PKI_NOT_A_TENANT_CA', 'the CA certificate does not carry a tenant\'s name constraints', {
      hint: 'issue leaf certificates from a tenant CA (landlord pki tenant-ca), never from the root',
    });
  }
  return { tenant: parseTenantName(tenant), zones: names.dns.map(parseTenantDomain), trustDomain };
}

/** `spiffe://acme.landlord.local/ns/<namespace>/sa/<serviceAccount>`. */
export function workloadIdentity(policy: TenantNamePolicy, namespace: string, serviceAccount: string): string {
  for (const part of [namespace, serviceAccount]) {
    if (!label.test(part)) {
      throw new LandlordError('LL_PKI_URI_INVALID', `${JSON.stringify(part)} is not a Kubernetes namespace or service account name`);
    }
  }
  return `spiffe://${policy.trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The first reason `policy` refuses `names`, or undefined when every name is the tenant's. */
export interface NameRefusal {
  readonly code: string;
  readonly reason: string;
}

type NameCheck = (policy: TenantNamePolicy, names: RequestedNames) => NameRefusal | undefined;

/**
 * The issuance policy as an ordered list of named checks; the first refusal wins. Fails closed:
 * a request with no names, or with any name the tenant does not own, is refused as a whole.
 */
const issuanceChecks: readonly NameCheck[] = [
  function requestsAtLeastOneName(_policy, names) {
    return names.dns.length + names.uri.length === 0
      ? { code: 'LL_PKI_NAMES_MISSING', reason: 'the certificate request names no DNS name or URI' }
      : undefined;
  },
  function dnsNamesAreWellFormed(_policy, names) {
    const bad = names.dns.find((name) => !isDnsName(name));
    return bad === undefined ? undefined : { code: 'LL_PKI_DNS_NAME_INVALID', reason: `${JSON.stringify(bad)} is not a lowercase DNS name (a wildcard may only be the whole first label)` };
  },
  function dnsNamesAreInTenantZones(policy, names) {
    const bad = names.dns.find((name) => !policy.zones.some((zone) => isInZone(name, zone)));
    return bad === undefined ? undefined : {
      code: 'LL_PKI_NAME_NOT_PERMITTED',
      reason: `DNS name ${bad} is outside tenant ${policy.tenant}'s domains (${policy.zones.join(', ')})`,
    };
  },
  function urisAreTenantWorkloadIdentities(policy, names) {
    for (const uri of names.uri) {
      const refusal = checkWorkloadIdentity(policy, uri);
      if (refusal) return refusal;
    }
    return undefined;
  },
];

export function refuseIssuance(policy: TenantNamePolicy, names: RequestedNames): NameRefusal | undefined {
  for (const check of issuanceChecks) {
    const refusal = check(policy, names);
    if (refusal) return refusal;
  }
  return undefined;
}

/** Throws the refusal as a `LandlordError`; the guard every issuance passes before signing. */
export function assertIssuancePermitted(policy: TenantNamePolicy, names: RequestedNames): void {
  const refusal = refuseIssuance(policy, names);
  if (refusal) throw new LandlordError(refusal.code, refusal.reason);
}

function isDnsName(name: string): boolean {
  const rest = name.startsWith('*.') ? name.slice(2) : name;
  return rest.length <= 253 && rest.split('.').every((part) => label.test(part));
}

/** RFC 5280 dNSName subtree semantics: the zone itself or any name ending in ".zone". */
function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

function checkWorkloadIdentity(policy: TenantNamePolicy, uri: string): NameRefusal | undefined {
  const invalid = (why: string): NameRefusal => ({ code: 'LL_PKI_URI_INVALID', reason: `URI ${JSON.stringify(uri)} ${why}` });
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return invalid('is not a URI');
  }
  if (url.protocol !== 'spiffe:') return invalid('is not a spiffe:// workload identity');
  if (url.username || url.password || url.port || url.search || url.hash || uri !== url.href) {
    return invalid('must be spiffe://<trust domain>/<path> without user, port, query or fragment, in canonical form');
  }
  const segments = url.pathname.split('/').slice(1);
  if (segments.length === 0 || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return invalid('needs a path of non-empty segments, e.g. /ns/<namespace>/sa/<service account>');
  }
  if (url.hostname !== policy.trustDomain) {
    return {
      code: 'LL_PKI_NAME_NOT_PERMITTED',
      reason: `URI ${uri} is outside tenant ${policy.tenant}'s trust domain spiffe://${policy.trustDomain}`,
    };
  }
  return undefined;
}
