/**
 * A tenant's status from what one reconcile found and did: one condition per concern
 * (Namespaces, Policies, Certificates) and `Ready` summing them up, each with the generation it
 * describes. Pure; `lastTransitionTime` only moves when a condition's status changes, so an
 * unchanged outcome gives an identical status and the reconciler writes nothing.
 */
import type { Condition } from '../../api/meta.ts';
import type { Tenant, TenantPhase, TenantStatus } from '../../api/tenant.ts';
import type { SpecProblem } from './checks.ts';
import type { TenantCa } from './desired.ts';

export type Outcome =
  | { readonly kind: 'converged'; readonly namespaces: readonly string[]; readonly missingNamespaces: readonly string[]; readonly ca: TenantCa }
  | { readonly kind: 'invalid'; readonly problem: SpecProblem; readonly namespaces: readonly string[] }
  | { readonly kind: 'terminating'; readonly remaining: number };

type Draft = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

export function tenantStatus(tenant: Tenant, outcome: Outcome, now: Date): TenantStatus {
  const generation = tenant.metadata.generation ?? 0;
  const drafts = conditionDrafts(outcome);
  const ready = drafts.every((draft) => draft.status === 'True');
  const summary = readyCondition(outcome, drafts);
  const previous = tenant.status?.conditions ?? [];
  const conditions = [...drafts, summary].map((draft): Condition => {
    const before = previous.find((c) => c.type === draft.type);
    const lastTransitionTime = before && before.status === draft.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
    return { ...draft, observedGeneration: generation, lastTransitionTime };
  });
  const ca = outcome.kind === 'converged' ? { fingerprint: outcome.ca.fingerprint, notAfter: outcome.ca.notAfter } : tenant.status?.ca;
  return {
    phase: phaseOf(outcome, ready),
    observedGeneration: generation,
    conditions,
    namespaces: outcome.kind === 'terminating' ? [] : [...outcome.namespaces].sort(),
    ...(ca ? { ca } : {}),
    ...(tenant.status?.activity ? { activity: tenant.status.activity } : {}),
  };
}

function readyCondition(outcome: Outcome, drafts: readonly Draft[]): Draft {
  if (outcome.kind === 'terminating') {
    return { type: 'Ready', status: 'False', reason: 'Terminating', message: `removing ${outcome.remaining} object(s) landlord created` };
  }
  // A False condition says what is wrong; an Unknown one only that it is blocked.
  const failing = drafts.find((draft) => draft.status === 'False') ?? drafts.find((draft) => draft.status !== 'True');
  return failing === undefined
    ? { type: 'Ready', status: 'True', reason: 'Ready', message: 'every namespace, policy and certificate is in place' }
    : { type: 'Ready', status: 'False', reason: failing.reason, message: `${failing.type}: ${failing.message}` };
}

function phaseOf(outcome: Outcome, ready: boolean): TenantPhase {
  if (outcome.kind === 'terminating') return 'Terminating';
  if (outcome.kind === 'invalid') return 'Degraded';
  return ready ? 'Ready' : 'Pending';
}

function conditionDrafts(outcome: Outcome): Draft[] {
  if (outcome.kind === 'terminating') {
    const message = 'the tenant is being deleted';
    return (['Namespaces', 'Policies', 'Certificates'] as const).map((type) => ({ type, status: 'False', reason: 'Terminating', message }));
  }
  if (outcome.kind === 'invalid') {
    const { problem } = outcome;
    return (['Namespaces', 'Policies', 'Certificates'] as const).map((type): Draft => (type === problem.concern
      ? { type, status: 'False', reason: problem.reason, message: problem.message }
      : { type, status: 'Unknown', reason: 'SpecInvalid', message: `not reconciled until the spec is fixed: ${problem.message}` }));
  }
  return [
    outcome.missingNamespaces.length === 0
      ? { type: 'Namespaces', status: 'True', reason: 'Created', message: `${outcome.namespaces.length} namespace(s) exist and are labelled` }
      : { type: 'Namespaces', status: 'False', reason: 'Creating', message: `waiting for namespace(s) ${outcome.missingNamespaces.join(', ')}` },
    { type: 'Policies', status: 'True', reason: 'Applied', message: 'owner RoleBindings, quotas, limit ranges and network policies are applied' },
    { type: 'Certificates', status: 'True', reason: 'Issued', message: `tenant CA ${outcome.ca.fingerprint.slice(0, 23)}… valid until ${outcome.ca.notAfter}, trust bundle published` },
  ];
}
