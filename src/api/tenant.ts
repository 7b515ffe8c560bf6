/**
 * `Tenant` (landlord.dev/v1alpha1, cluster-scoped): one customer of the platform.
 *
 * Field names here are the API contract; the CRD's structural schema is generated from the
 * schema module next to these types and must describe exactly them.
 */
import type { Condition, ObjectMeta } from './meta.ts';

export const tenantKind = 'Tenant';
export const tenantPlural = 'tenants';

export interface Tenant {
  apiVersion: 'landlord.dev/v1alpha1';
  kind: 'Tenant';
  metadata: ObjectMeta;
  spec: TenantSpec;
  status?: TenantStatus;
}

export type IsolationTier = 'soft' | 'hard';

export interface TenantSpec {
  /** Who administers the tenant: bound to landlord's tenant-admin role in every tenant namespace. */
  owners: TenantOwners;
  /** `soft`: shared nodes and runtime. `hard`: the placement below (own nodes, VM-isolated runtime). */
  tier?: IsolationTier;
  /**
   * DNS zones the tenant may use for hostnames and certificates: `*.acme.example` or `acme.example`,
   * both meaning acme.example and every name under it. Two tenants may not share or nest zones.
   */
  domains: string[];
  /** Namespaces to create: each is `<tenant>` or `<tenant>-<suffix>`. Default: [`<tenant>`]. */
  namespaces?: string[];
  quota?: TenantQuota;
  /** Defaults and bounds for containers that state no resources (a LimitRange per namespace). */
  limits?: TenantLimits;
  network?: TenantNetwork;
  /** Where `hard`-tier pods run; injected into every pod of the tenant. */
  placement?: TenantPlacement;
  idle?: TenantIdlePolicy;
}

export interface TenantOwners {
  users?: string[];
  groups?: string[];
  /** `namespace/name` of service accounts (e.g. a CI robot). */
  serviceAccounts?: string[];
}

/** Per-namespace quota (Kubernetes quantities as strings, counts as integers). */
export interface TenantQuota {
  cpu?: string;
  memory?: string;
  ephemeralStorage?: string;
  pods?: number;
  services?: number;
  secrets?: number;
  configMaps?: number;
  persistentVolumeClaims?: number;
}

export interface TenantLimits {
  defaultRequest?: { cpu?: string; memory?: string };
  default?: { cpu?: string; memory?: string };
  max?: { cpu?: string; memory?: string };
}

export interface TenantNetwork {
  /** Allow egress to the internet (0.0.0.0/0 except private ranges and metadata). Default false. */
  internetEgress?: boolean;
  /** Other tenants whose namespaces may reach this tenant's pods (both sides must allow). */
  allowFrom?: string[];
}

export interface TenantPlacement {
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Array<{ key?: string; operator?: 'Exists' | 'Equal'; value?: string; effect?: string }>;
}

export interface TenantIdlePolicy {
  /** Scale the tenant's workloads to zero after this long without connections (e.g. `30m`). */
  after?: string;
}

export type TenantPhase = 'Pending' | 'Ready' | 'Degraded' | 'Terminating';

export interface TenantStatus {
  phase?: TenantPhase;
  observedGeneration?: number;
  conditions?: Condition[];
  namespaces?: string[];
  ca?: { fingerprint: string; notAfter: string };
  activity?: 'Active' | 'Sleeping';
}
