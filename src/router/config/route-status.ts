/**
 * The status the router owns on a Route: the `Accepted` and `Ready` conditions, `observedGeneration`
 * and `address`. Pure: `routeStatusPatch` returns the merge patch to write, or undefined when the
 * Route already says what the verdict says, so a steady cluster causes no writes at all.
 * Conditions of other types (written by other controllers) are kept as they are.
 */
import type { RouteStatus } from '../../api/route.ts';
import type { Condition } from '../../api/meta.ts';
import type { ConditionVerdict, RouteVerdict } from './cluster-snapshot.ts';

const routerConditionTypes = ['Accepted', 'Ready'] as const;

/** A JSON merge patch for the status subresource (`null` removes `address`). */
export interface RouteStatusPatch {
  readonly status: { observedGeneration: number | undefined; conditions: Condition[]; address: string | null };
}

function condition(type: string, verdict: ConditionVerdict<string>, generation: number | undefined, previous: Condition | undefined, now: Date): Condition {
  const status = verdict.status ? 'True' : 'False';
  return {
    type,
    status,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    // The transition time moves only when the status flips, as metav1.Condition requires.
    lastTransitionTime: previous?.status === status ? previous.lastTransitionTime : now.toISOString(),
    reason: verdict.reason,
    message: verdict.message,
  };
}

const sameCondition = (a: Condition | undefined, b: Condition): boolean =>
  a !== undefined && a.status === b.status && a.reason === b.reason && a.message === b.message && a.observedGeneration === b.observedGeneration;

/** The patch that makes `current` say `verdict`, or undefined when it already does. */
export function routeStatusPatch(current: RouteStatus | undefined, verdict: RouteVerdict, generation: number | undefined, now: Date): RouteStatusPatch | undefined {
  const existing = current?.conditions ?? [];
  const find = (type: string): Condition | undefined => existing.find((c) => c.type === type);
  const ours = [condition('Accepted', verdict.accepted, generation, find('Accepted'), now), condition('Ready', verdict.ready, generation, find('Ready'), now)];
  const unchanged = current?.observedGeneration === generation && (current?.address ?? undefined) === verdict.address && ours.every((c) => sameCondition(find(c.type), c));
  if (unchanged) return undefined;
  const others = existing.filter((c) => !(routerConditionTypes as readonly string[]).includes(c.type));
  return { status: { observedGeneration: generation, conditions: [...others, ...ours], address: verdict.address ?? null } };
}
