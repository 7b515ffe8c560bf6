/**
 * The admission vocabulary: the parts of `admission.k8s.io/v1` AdmissionRequest the checks read,
 * and the decisions they return. Checks are pure functions of these values.
 */

/** The request inside an AdmissionReview (admission.k8s.io/v1); only the fields landlord reads. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: { username?: string; uid?: string; groups?: string[] };
  object?: KubeObject | null;
  oldObject?: KubeObject | null;
  dryRun?: boolean;
}

/** Any Kubernetes object, read defensively: admission input is untrusted. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  [field: string]: unknown;
}

/**
 * One broken rule: `rule` is the stable name of the predicate (`restricted/allowPrivilegeEscalation`),
 * `path` the offending field, `message` says what must change.
 */
export interface Violation {
  rule: string;
  path: string;
  message: string;
}

/** One RFC 6902 operation; landlord's mutators only add and replace. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export type Decision =
  | { allowed: true; patch?: JsonPatchOperation[]; warnings?: string[] }
  | { allowed: false; violations: Violation[] };

export const allow: Decision = { allowed: true };

export function deny(violations: Violation[]): Decision {
  return violations.length === 0 ? allow : { allowed: false, violations };
}

/** The text an API client sees: every violation, each reading "rule: path must …". */
export function denialMessage(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.rule}: ${v.message}`).join('; ');
}
