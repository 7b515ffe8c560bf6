/**
 * A Route's TLS settings that depend on each other, checked when the Route is created or changed,
 * so that `kubectl apply` fails at once rather than leaving a Route that protects less than it says:
 * - client certificates are checked only by the TLS sidecar: with `mode: ingress` or
 *   `passthrough` nothing would check them, so `clientAuthentication` must be `none` (or unset)
 *   there;
 * - `allowedClients` narrows `clientAuthentication: required` and means nothing without it.
 * `optional` is refused later, for each pod the Route selects (sidecar-injection.ts).
 */
import { effectiveTlsMode, type RouteSpec, type TlsMode } from '../api/route.ts';
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

/** The `spec.tls` of a Route being created or changed, and where it ends TLS; undefined for anything else. */
function routeTlsOf(request: AdmissionRequest): { settings: NonNullable<RouteSpec['tls']>; mode: TlsMode } | undefined {
  if (request.subResource || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) return undefined;
  if (request.resource.group !== 'landlord.dev' || request.resource.resource !== 'routes') return undefined;
  const spec = request.object?.spec as Partial<RouteSpec> | undefined;
  const settings = spec?.tls;
  if (typeof settings !== 'object' || settings === null) return undefined;
  return { settings, mode: effectiveTlsMode({ protocol: spec?.protocol ?? 'tls', tls: settings }) };
}
