/**
 * A Route's TLS settings that depend on each other, checked when the Route is created or changed,
 * so that `kubectl apply` fails at once rather than leaving a Route that protects less than it says:
 * - client certificates are checked only by the TLS sidecar: with `mode: ingress` or
 *   `passthrough` nothing would check them, so `clientAuthentication` must be `none` (or unset)
 *   there;
 * - `allowedClients` narrows `clientAuthentication: required` and means nothing without it.
 * `optional` is refused later, for each pod the Route selects (sidecar-injection.ts). An UPDATE
 * that leaves `spec.protocol` and `spec.tls` as they were is not judged, so a Route stored before
 * these rules can still be labelled.
 *
 * Allowed clients that no certificate the sidecar trusts can carry are admitted with a warning:
 * a SPIFFE ID outside the tenant's trust domain (`spiffe://<tenant>.…`; the sidecar trusts only its
 * own tenant's CA), or a DNS name outside the tenant's zones (the tenant CA's name constraints
 * forbid it). Such an entry matches no client, which is safe, but it is a mistake.
 */
import { isDeepStrictEqual } from 'node:util';
import { effectiveTlsMode, type RouteSpec, type TlsMode } from '../api/route.ts';
import { inside, type HostnameFacts } from './hostnames.ts';
import type { AdmissionRequest, Violation } from './review-types.ts';

export function routeTlsViolations(request: AdmissionRequest): Violation[] {
  const tls = routeTlsOf(request);
  if (tls === undefined) return [];
  const violations: Violation[] = [];
  const clientAuthentication = tls.settings.clientAuthentication ?? 'none';
  if (clientAuthentication !== 'none' && tls.mode !== 'sidecar') {
    violations.push({
      rule: 'routes/clientAuthentication',
      path: 'spec.tls.clientAuthentication',
      message: `spec.tls.clientAuthentication ${clientAuthentication} is enforced only by the TLS sidecar, and this Route ends TLS in ${tls.mode === 'ingress' ? 'the tenant ingress' : 'the app itself (passthrough)'}: set spec.tls.mode sidecar, or remove clientAuthentication`,
    });
  }
  if (Array.isArray(tls.settings.allowedClients) && tls.settings.allowedClients.length > 0 && clientAuthentication !== 'required') {
    violations.push({
      rule: 'routes/allowedClients',
      path: 'spec.tls.allowedClients',
      message: `spec.tls.allowedClients must go with spec.tls.clientAuthentication required (it is ${clientAuthentication}): without it no client presents a certificate to compare`,
    });
  }
  return violations;
}

/**
 * Warnings for allowed clients that no certificate of the tenant's CA can carry; none when the
 * tenant is unknown. ASCII only: the API server sends them to clients in HTTP headers.
 */
export function routeTlsWarnings(request: AdmissionRequest, tenant: HostnameFacts['tenant']): string[] {
  const allowedClients = routeTlsOf(request)?.settings.allowedClients;
  if (tenant === undefined || !Array.isArray(allowedClients)) return [];
  return allowedClients.flatMap((identity, index) => {
    const where = `spec.tls.allowedClients[${index}] ${identity}`;
    if (identity.startsWith('spiffe://')) {
      const trustDomain = identity.slice('spiffe://'.length).split('/')[0] ?? '';
      if (trustDomain.split('.')[0] === tenant.name) return [];
      return [`${where} is outside tenant ${tenant.name}'s trust domain (${tenant.name}.<platform trust domain>): its sidecars trust only ${tenant.name}'s CA, so no client will match it`];
    }
    if (tenant.zones.some((zone) => inside(identity, zone))) return [];
    return [`${where} is outside tenant ${tenant.name}'s zones (${tenant.zones.join(', ')}): ${tenant.name}'s CA cannot issue a certificate for it, so no client will match it`];
  });
}

/** The `spec.tls` of a Route being created, or updated with other TLS settings or protocol, and where it ends TLS; undefined for anything else. */
function routeTlsOf(request: AdmissionRequest): { settings: NonNullable<RouteSpec['tls']>; mode: TlsMode } | undefined {
  if (request.subResource || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) return undefined;
  if (request.resource.group !== 'landlord.dev' || request.resource.resource !== 'routes') return undefined;
  const spec = request.object?.spec as Partial<RouteSpec> | undefined;
  const settings = spec?.tls;
  if (typeof settings !== 'object' || settings === null) return undefined;
  if (request.operation === 'UPDATE' && tlsUnchanged(request.oldObject?.spec as Partial<RouteSpec> | undefined, spec)) return undefined;
  return { settings, mode: effectiveTlsMode({ protocol: spec?.protocol ?? 'tls', tls: settings }) };
}

function tlsUnchanged(before: Partial<RouteSpec> | undefined, after: Partial<RouteSpec> | undefined): boolean {
  return before?.protocol === after?.protocol && isDeepStrictEqual(before?.tls, after?.tls);
}
