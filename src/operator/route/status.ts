/**
 * The part of a Route's status the operator owns: the conditions `CertificateIssued` and (for
 * `sidecar` Routes) `SidecarServiceCreated`, and `certificate.notAfter`. The router owns
 * `Accepted`, `Ready`, `observedGeneration` and `address`; neither writer touches the other's
 * fields (server-side apply on the status subresource, conditions being a list keyed by type).
 *
 * Pure; `lastTransitionTime` only moves when a condition's status changes, so an unchanged outcome
 * gives an identical intent and `statusIsCurrent` tells the reconciler to write nothing.
 */
import type { Condition } from '../../api/meta.ts';
import type { Route, RouteStatus } from '../../api/route.ts';

export const certificateIssued = 'CertificateIssued';
export const sidecarServiceCreated = 'SidecarServiceCreated';
/** Every condition type this controller writes; others (the router's) are never compared or written. */
export const operatorConditionTypes: readonly string[] = [certificateIssued, sidecarServiceCreated];

export type ConditionDraft = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** What the operator applies to `status`: its conditions and, while it holds one, the certificate's expiry. */
export interface RouteStatusIntent {
  readonly conditions: Condition[];
  readonly certificate?: { readonly notAfter: string };
}

export function routeStatusIntent(route: Route, drafts: readonly ConditionDraft[], notAfter: Date | undefined, now: Date): RouteStatusIntent {
  const generation = route.metadata.generation ?? 0;
  const previous = route.status?.conditions ?? [];
  const conditions = drafts.map((draft): Condition => {
    const before = previous.find((c) => c.type === draft.type);
    const lastTransitionTime = before && before.status === draft.status ? before.lastTransitionTime : rfc3339(now);
    return { type: draft.type, status: draft.status, observedGeneration: generation, lastTransitionTime, reason: draft.reason, message: draft.message };
  });
  return { conditions, ...(notAfter ? { certificate: { notAfter: rfc3339(notAfter) } } : {}) };
}

/** Whether `status` already says exactly what `intent` says, for the operator's fields only. */
export function statusIsCurrent(status: RouteStatus | undefined, intent: RouteStatusIntent): boolean {
  const ours = (status?.conditions ?? []).filter((c) => operatorConditionTypes.includes(c.type));
  if (ours.length !== intent.conditions.length) return false;
  const same = intent.conditions.every((wanted) => {
    const found = ours.find((c) => c.type === wanted.type);
    return found !== undefined && found.status === wanted.status && found.reason === wanted.reason && found.message === wanted.message &&
      found.observedGeneration === wanted.observedGeneration && found.lastTransitionTime === wanted.lastTransitionTime;
  });
  return same && status?.certificate?.notAfter === intent.certificate?.notAfter;
}

/** Operator condition types `status` has that `intent` drops (server-side apply removes them unless another writer co-owns them). */
export function staleConditionTypes(status: RouteStatus | undefined, intent: RouteStatusIntent): string[] {
  return (status?.conditions ?? [])
    .filter((c) => operatorConditionTypes.includes(c.type) && !intent.conditions.some((wanted) => wanted.type === c.type))
    .map((c) => c.type);
}

/** RFC 3339 in seconds, as the API server stores `metav1.Time`. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** What one reconcile found and did, as far as the conditions tell. */
export type RouteOutcome =
  | { readonly kind: 'refused' | 'unresolved'; readonly reason: string; readonly message: string; readonly sidecar: boolean }
  | { readonly kind: 'accepted'; readonly certificate: CertificateOutcome; readonly sidecar: SidecarOutcome };

export type CertificateOutcome =
  | { readonly kind: 'issued'; readonly secretName: string; readonly tenant: string; readonly notAfter: Date }
  | { readonly kind: 'own'; readonly secretName: string }
  | { readonly kind: 'wait'; readonly reason: string; readonly message: string }
  | { readonly kind: 'taken'; readonly secretName: string };

export type SidecarOutcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'created'; readonly serviceName: string; readonly backend: string }
  | { readonly kind: 'blocked'; readonly reason: string; readonly message: string }
  | { readonly kind: 'taken'; readonly serviceName: string };

export function routeConditions(outcome: RouteOutcome): ConditionDraft[] {
  if (outcome.kind !== 'accepted') {
    const draft = { status: 'False', reason: outcome.reason, message: outcome.message } as const;
    return [{ type: certificateIssued, ...draft }, ...(outcome.sidecar ? [{ type: sidecarServiceCreated, ...draft }] : [])];
  }
  const sidecar = sidecarCondition(outcome.sidecar);
  return [certificateCondition(outcome.certificate), ...(sidecar ? [sidecar] : [])];
}

function certificateCondition(outcome: CertificateOutcome): ConditionDraft {
  const type = certificateIssued;
  switch (outcome.kind) {
    case 'issued':
      return { type, status: 'True', reason: 'Issued', message: `Secret ${outcome.secretName} holds a certificate from tenant ${outcome.tenant}'s CA, valid until ${rfc3339(outcome.notAfter)}` };
    case 'own':
      return { type, status: 'False', reason: 'OwnCertificate', message: `spec.tls.secretName names Secret ${outcome.secretName}: the tenant provides the certificate and landlord issues none` };
    case 'wait':
      return { type, status: 'False', reason: outcome.reason, message: outcome.message };
    case 'taken':
      return { type, status: 'False', reason: 'SecretNameTaken', message: `Secret ${outcome.secretName} exists and was not created by landlord for this Route; delete or rename it` };
  }
}

function sidecarCondition(outcome: SidecarOutcome): ConditionDraft | undefined {
  const type = sidecarServiceCreated;
  switch (outcome.kind) {
    case 'none':
      return undefined;
    case 'created':
      return { type, status: 'True', reason: 'Created', message: `Service ${outcome.serviceName} selects the pods of Service ${outcome.backend} that carry the sidecar` };
    case 'blocked':
      return { type, status: 'False', reason: outcome.reason, message: outcome.message };
    case 'taken':
      return { type, status: 'False', reason: 'ServiceNameTaken', message: `Service ${outcome.serviceName} exists and was not created by landlord for this Route; delete or rename it` };
  }
}
