/**
 * What the schema cannot check (Kubernetes 1.20 has no CEL): rules relating a Tenant to its name
 * and to the rest of the cluster. An ordered list of named predicates; the first that fails gives
 * the condition a user sees, with a reason a program can match and a message saying how to fix it.
 */
import { labels, platformNamespace } from '../../api/meta.ts';
import type { Tenant } from '../../api/tenant.ts';
import { parseTenantDomain } from '../../pki/index.ts';

/** The status condition a problem belongs to. */
export type Concern = 'Namespaces' | 'Policies' | 'Certificates';

export interface SpecProblem {
  readonly concern: Concern;
  readonly reason: string;
  readonly message: string;
}

/** What a check may look at besides the tenant: the other tenants and the cluster's namespaces. */
export interface ClusterView {
  readonly tenants: readonly Tenant[];
  /** Whether namespace `name` exists and which tenant its label names (undefined: none). */
  namespace(name: string): { readonly exists: boolean; readonly tenant?: string | undefined };
}

/** The namespaces a tenant asks for (`[<tenant>]` when it names none). */
export function tenantNamespaces(tenant: Tenant): string[] {
  return tenant.spec.namespaces && tenant.spec.namespaces.length > 0 ? [...tenant.spec.namespaces] : [tenant.metadata.name];
}

const zonesBySpec = new WeakMap<object, readonly string[]>();

/** The DNS zones a tenant's domains grant, sorted, without duplicates (memoized per spec object). */
export function tenantZones(tenant: Tenant): string[] {
  let zones = zonesBySpec.get(tenant.spec);
  if (zones === undefined) {
    zones = [...new Set(tenant.spec.domains.map((domain) => parseTenantDomain(domain)))].sort();
    zonesBySpec.set(tenant.spec, zones);
  }
  return [...zones];
}

const reservedNamespaces = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease', platformNamespace]);

type Check = (tenant: Tenant, view: ClusterView) => SpecProblem | undefined;

const namespacesArePrefixedByTheTenant: Check = (tenant) => {
  const name = tenant.metadata.name;
  const wrong = tenantNamespaces(tenant).filter((ns) => ns !== name && !ns.startsWith(`${name}-`));
  return wrong.length === 0 ? undefined : {
    concern: 'Namespaces', reason: 'NamespaceNameInvalid',
    message: `namespace(s) ${wrong.join(', ')} must be named "${name}" or "${name}-<suffix>": rename them in spec.namespaces`,
  };
};

const namespacesAreNotReserved: Check = (tenant) => {
  const reserved = tenantNamespaces(tenant).filter((ns) => reservedNamespaces.has(ns) || ns.startsWith('kube-'));
  return reserved.length === 0 ? undefined : {
    concern: 'Namespaces', reason: 'NamespaceReserved',
    message: `namespace(s) ${reserved.join(', ')} belong to the platform: choose other names in spec.namespaces`,
  };
};

const namespacesAreNotOwnedElsewhere: Check = (tenant, view) => {
  const taken = tenantNamespaces(tenant).filter((ns) => {
    const found = view.namespace(ns);
    return found.exists && found.tenant !== tenant.metadata.name;
  });
  return taken.length === 0 ? undefined : {
    concern: 'Namespaces', reason: 'NamespaceTaken',
    message: `namespace(s) ${taken.join(', ')} already exist and do not belong to tenant ${tenant.metadata.name}: choose other names or remove them`,
  };
};

const domainsAreValid: Check = (tenant) => {
  try {
    tenantZones(tenant);
    return undefined;
  } catch (error) {
    return { concern: 'Certificates', reason: 'DomainInvalid', message: error instanceof Error ? error.message : String(error) };
  }
};

const domainsDoNotOverlapAnOlderTenant: Check = (tenant, view) => {
  const zones = tenantZones(tenant);
  for (const other of view.tenants) {
    if (other.metadata.name === tenant.metadata.name || !isOlder(other, tenant)) continue;
    let otherZones: string[];
    try {
      otherZones = tenantZones(other);
    } catch {
      continue;
    }
    const clash = zones.find((zone) => otherZones.some((theirs) => overlaps(zone, theirs)));
    if (clash !== undefined) {
      return {
        concern: 'Certificates', reason: 'DomainClaimed',
        message: `domain ${clash} overlaps a domain of tenant ${other.metadata.name}: tenants may not share or nest zones; remove it from spec.domains`,
      };
    }
  }
  return undefined;
};

/** In order: the first failing check is the one reported. */
export const tenantChecks: ReadonlyArray<readonly [string, Check]> = [
  ['namespacesArePrefixedByTheTenant', namespacesArePrefixedByTheTenant],
  ['namespacesAreNotReserved', namespacesAreNotReserved],
  ['namespacesAreNotOwnedElsewhere', namespacesAreNotOwnedElsewhere],
  ['domainsAreValid', domainsAreValid],
  ['domainsDoNotOverlapAnOlderTenant', domainsDoNotOverlapAnOlderTenant],
];

export function firstSpecProblem(tenant: Tenant, view: ClusterView): SpecProblem | undefined {
  for (const [, check] of tenantChecks) {
    const problem = check(tenant, view);
    if (problem) return problem;
  }
  return undefined;
}

/** `a.example` and `x.a.example` overlap; `a.example` and `b.example` do not. */
export function overlaps(a: string, b: string): boolean {
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

/** The older tenant keeps a contested zone: earlier creation, then the smaller name. */
function isOlder(a: Tenant, b: Tenant): boolean {
  const at = (t: Tenant): string => t.metadata.creationTimestamp ?? '';
  return at(a) < at(b) || (at(a) === at(b) && a.metadata.name < b.metadata.name);
}

/** The tenant a namespace belongs to according to its platform-written label. */
export function namespaceTenant(namespace: { metadata: { labels?: Record<string, string> } }): string | undefined {
  return namespace.metadata.labels?.[labels.tenant];
}
