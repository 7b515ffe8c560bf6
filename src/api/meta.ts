/**
 * landlord's API identity and the labels isolation depends on. These names are a public
 * contract shared by the operator, the admission webhooks, the router and the CLI.
 */
export const apiGroup = 'landlord.dev';
export const apiVersionName = 'v1alpha1';
export const apiVersion = `${apiGroup}/${apiVersionName}`;

/** The namespace the platform itself runs in; tenant CA keys never leave it. */
export const platformNamespace = 'landlord-system';

export const labels = {
  /** On everything landlord creates, with the value `landlord`. */
  managedBy: 'app.kubernetes.io/managed-by',
  /** The tenant an object belongs to. Tenants can neither set, change nor remove it. */
  tenant: 'landlord.dev/tenant',
  /** The isolation tier of a tenant namespace (`soft` | `hard`). Platform-written, like `tenant`. */
  tier: 'landlord.dev/tier',
} as const;

export const managedByValue = 'landlord';

/** Pod Security Admission labels, set on tenant namespaces for clusters that enforce them (1.23+). */
export const podSecurityLabels = {
  enforce: 'pod-security.kubernetes.io/enforce',
  enforceVersion: 'pod-security.kubernetes.io/enforce-version',
  audit: 'pod-security.kubernetes.io/audit',
  warn: 'pod-security.kubernetes.io/warn',
} as const;

/** A Kubernetes-style condition (`metav1.Condition`). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  /** CamelCase, stable: what a program matches on. */
  reason: string;
  /** For people: what is wrong and how to fix it. */
  message: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
}
