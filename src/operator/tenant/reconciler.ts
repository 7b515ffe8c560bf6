/**
 * The tenant reconciler: key = tenant name. Gather (from the caches) → decide (pure checks,
 * `desiredTenantObjects`, `tenantStatus`) → act (server-side apply of what differs, deletion of
 * what landlord created and no longer wants, one status write when the status changed).
 *
 * Level-triggered and idempotent: it never trusts an event, only the caches, and when the
 * cluster already matches it sends no request at all. Everything it creates carries the
 * `app.kubernetes.io/managed-by: landlord` and `landlord.dev/tenant` labels, which is how it finds
 * what to prune and what to delete when the tenant goes (finalizer `landlord.dev/cleanup`).
 */
import { createHash } from 'node:crypto';
import { labels, platformNamespace } from '../../api/meta.ts';
import type { Tenant } from '../../api/tenant.ts';
import type { CertificateAuthority, PemBundle } from '../../pki/index.ts';
import type { Logger } from '../../shared/log.ts';
import { contains } from '../runtime/contains.ts';
import { done, requeueAfter, type ReconcileResult, type Reconciler } from '../runtime/controller.ts';
import { objectKey, type Informer } from '../runtime/informer.ts';
import type { KubeClient, KubeObject } from '../runtime/kube.ts';
import type { Counter } from '../runtime/metrics.ts';
import { resourceOfKind, resources } from '../runtime/resources.ts';
import { caDecision, caFromSecret, issueTenantCa } from './ca.ts';
import { firstSpecProblem, namespaceTenant, tenantNamespaces, tenantZones, type ClusterView } from './checks.ts';
import { desiredTenantObjects, type TenantCa, type TenantIngressConfig } from './desired.ts';
import { tenantStatus, type Outcome } from './status.ts';

export const fieldManager = 'landlord-operator';
export const cleanupFinalizer = 'landlord.dev/cleanup';

export type TenantObject = Tenant & KubeObject;

export interface TenantCaches {
  readonly tenants: Informer<TenantObject>;
  /** Every namespace (a wanted name may be taken by a namespace landlord does not manage). Indexed by tenant label. */
  readonly namespaces: Informer<KubeObject>;
  /** Namespaced objects labelled managed-by landlord, one cache per kind (Secrets: the platform namespace only). Indexed by tenant label. */
  readonly owned: readonly Informer<KubeObject>[];
}

export interface TenantReconcilerDeps {
  readonly client: KubeClient;
  readonly caches: TenantCaches;
  readonly root: { readonly authority: CertificateAuthority; readonly bundle: PemBundle };
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly writes: Counter;
  /** Deploy each tenant's ingress with this; without it, none. */
  readonly ingress?: TenantIngressConfig;
}

const dayMs = 86_400_000;

export class TenantReconciler implements Reconciler {
  readonly #deps: TenantReconcilerDeps;
  /** What this process last wrote per object (and status), with the resourceVersion the server answered. */
  readonly #written = new Map<string, { digest: string; resourceVersion: string }>();
  /** CAs this process issued: the cache may not show their Secret yet, and re-issuing would churn keys. */
  readonly #issued = new Map<string, TenantCa>();

  constructor(deps: TenantReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const tenant = this.#deps.caches.tenants.get(name);
    if (tenant === undefined) {
      // Gone without our finalizer (or it was removed by hand): leave no orphans behind.
      await this.#cleanUp(name);
      return done;
    }
    if (tenant.metadata.deletionTimestamp) return this.#finalize(tenant);
    await this.#ensureFinalizer(tenant);
    const problem = firstSpecProblem(tenant, this.#clusterView());
    if (problem) {
      await this.#writeStatus(tenant, { kind: 'invalid', problem, namespaces: this.#existingNamespaces(name) });
      return done;
    }
    return this.#converge(tenant);
  }

  async #converge(tenant: TenantObject): Promise<ReconcileResult> {
    const name = tenant.metadata.name;
    const now = this.#deps.clock();
    const zones = tenantZones(tenant);
    const observedCa = this.#issued.get(name) ?? caFromSecret(this.#observed('Secret', platformNamespace, `tenant-${name}-ca`));
    const decision = caDecision(observedCa, zones, now);
    let ca = observedCa;
    if (decision.issue || ca === undefined) {
      this.#deps.logger.info('issuing tenant CA', { tenant: name, reason: decision.issue ? decision.reason : 'missing' });
      ca = await issueTenantCa(this.#deps.root.authority, name, zones, now);
      this.#issued.set(name, ca);
    }
    const reachableTenants = this.#deps.caches.tenants.list()
      .filter((other) => other.metadata.name !== name && (other.spec.network?.allowFrom ?? []).includes(name))
      .map((other) => other.metadata.name);
    const desired = desiredTenantObjects({ tenant, ca, root: this.#deps.root.bundle, reachableTenants, ...(this.#deps.ingress ? { ingress: this.#deps.ingress } : {}) });

    const namespaces = desired.filter((object) => object.kind === 'Namespace');
    await Promise.all(namespaces.map((object) => this.#ensure(object)));
    await Promise.all(desired.filter((object) => object.kind !== 'Namespace').map((object) => this.#ensure(object)));
    await this.#prune(name, desired);

    const wanted = tenantNamespaces(tenant);
    await this.#writeStatus(tenant, { kind: 'converged', namespaces: wanted, missingNamespaces: [], ca });
    const renewAt = decision.issue ? new Date(now.getTime() + dayMs) : decision.renewAt;
    return requeueAfter(Math.max(1000, Math.min(dayMs, renewAt.getTime() - now.getTime())));
  }

  /** Applies `object` unless the cache shows it already holds what landlord wants. */
  async #ensure(object: KubeObject): Promise<void> {
    const key = identity(object);
    const observed = this.#observed(object.kind, object.metadata.namespace, object.metadata.name);
    const digest = digestOf(object);
    if (this.#writtenAlready(key, digest, observed)) return;
    if (observed !== undefined && contains(observed, object)) return;
    const applied = await this.#deps.client.apply(resourceOfKind(object.kind), object, fieldManager);
    this.#deps.writes.inc({ verb: 'apply', kind: object.kind });
    this.#written.set(key, { digest, resourceVersion: applied.metadata.resourceVersion ?? '' });
  }

  /**
   * Whether this process already wrote `digest` to `key` and the cache has not yet seen a newer
   * version of the object: the cache lags behind our own writes, and writing the same intent
   * again would only cost a request. A change by anyone else has a newer resourceVersion, and a
   * deletion drops the memo (`forgetWrite`), so drift is still repaired.
   */
  #writtenAlready(key: string, digest: string, observed: KubeObject | undefined): boolean {
    const memo = this.#written.get(key);
    if (memo === undefined || memo.digest !== digest) return false;
    return observed === undefined || !isNewer(observed.metadata.resourceVersion, memo.resourceVersion);
  }

  /** Called when a cache saw an owned object deleted: the next reconcile must create it again. */
  forgetWrite(object: KubeObject): void {
    this.#written.delete(identity(object));
  }

  /** Deletes objects labelled for `tenant` that `desired` no longer contains. */
  async #prune(tenant: string, desired: readonly KubeObject[]): Promise<void> {
    const wanted = new Set(desired.map(identity));
    const stale = this.#ownedBy(tenant).filter((object) => !wanted.has(identity(object)));
    const goingNamespaces = new Set(stale.filter((object) => object.kind === 'Namespace').map((object) => object.metadata.name));
    await Promise.all(stale
      .filter((object) => object.kind === 'Namespace' || !goingNamespaces.has(object.metadata.namespace ?? ''))
      .map((object) => this.#delete(object)));
  }

  async #finalize(tenant: TenantObject): Promise<ReconcileResult> {
    if (!(tenant.metadata.finalizers ?? []).includes(cleanupFinalizer)) return done;
    const remaining = await this.#cleanUp(tenant.metadata.name);
    if (remaining > 0) {
      await this.#writeStatus(tenant, { kind: 'terminating', remaining });
      return requeueAfter(2000);
    }
    await this.#deps.client.mergePatch(resources.tenants, tenant.metadata.name, undefined, {
      metadata: { resourceVersion: tenant.metadata.resourceVersion, finalizers: (tenant.metadata.finalizers ?? []).filter((f) => f !== cleanupFinalizer) },
    });
    this.#deps.writes.inc({ verb: 'patch', kind: 'Tenant' });
    return done;
  }

  /** Deletes everything landlord created for `tenant`; returns how many of those objects still exist. */
  async #cleanUp(tenant: string): Promise<number> {
    this.#issued.delete(tenant);
    const owned = this.#ownedBy(tenant);
    const namespaces = new Set(owned.filter((object) => object.kind === 'Namespace').map((object) => object.metadata.name));
    // Objects inside a tenant namespace go with it; deleting them one by one would only add writes.
    const targets = owned.filter((object) => object.kind === 'Namespace' || !namespaces.has(object.metadata.namespace ?? ''));
    await Promise.all(targets.filter((object) => !object.metadata.deletionTimestamp).map((object) => this.#delete(object)));
    return targets.length;
  }

  async #delete(object: KubeObject): Promise<void> {
    await this.#deps.client.delete(resourceOfKind(object.kind), object.metadata.name, object.metadata.namespace);
    this.#deps.writes.inc({ verb: 'delete', kind: object.kind });
    this.#written.delete(identity(object));
  }

  /** Adds the cleanup finalizer with server-side apply: our entry only, other finalizers untouched. */
  async #ensureFinalizer(tenant: TenantObject): Promise<void> {
    if ((tenant.metadata.finalizers ?? []).includes(cleanupFinalizer)) return;
    const intent: KubeObject = { apiVersion: tenant.apiVersion, kind: tenant.kind, metadata: { name: tenant.metadata.name, finalizers: [cleanupFinalizer] } };
    const key = `Finalizer/${tenant.metadata.name}`;
    const digest = digestOf(intent);
    if (this.#writtenAlready(key, digest, tenant)) return;
    const updated = await this.#deps.client.apply(resources.tenants, intent, fieldManager);
    this.#deps.writes.inc({ verb: 'apply', kind: 'Tenant' });
    this.#written.set(key, { digest, resourceVersion: updated.metadata.resourceVersion ?? '' });
  }

  async #writeStatus(tenant: TenantObject, outcome: Outcome): Promise<void> {
    const status = tenantStatus(tenant, outcome, this.#deps.clock());
    if (tenant.status !== undefined && contains(tenant.status, status) && contains(status, tenant.status)) return;
    const key = `Status/${tenant.metadata.name}`;
    const digest = digestOf(status);
    if (this.#writtenAlready(key, digest, tenant)) return;
    const updated = await this.#deps.client.mergePatch(resources.tenants, tenant.metadata.name, undefined, { status }, 'status');
    this.#deps.writes.inc({ verb: 'status', kind: 'Tenant' });
    this.#written.set(key, { digest, resourceVersion: updated.metadata.resourceVersion ?? '' });
  }

  #clusterView(): ClusterView {
    const { namespaces, tenants } = this.#deps.caches;
    return {
      tenants: tenants.list(),
      namespace: (name) => {
        const found = namespaces.get(name);
        return { exists: found !== undefined, tenant: found ? namespaceTenant(found) : undefined };
      },
    };
  }

  #existingNamespaces(tenant: string): string[] {
    return this.#deps.caches.namespaces.withLabel(tenant).map((ns) => ns.metadata.name);
  }

  /** What landlord created for `tenant`, from the caches' tenant-label indexes. */
  #ownedBy(tenant: string): KubeObject[] {
    const { namespaces, owned } = this.#deps.caches;
    return [namespaces, ...owned].flatMap((cache) => cache.withLabel(tenant))
      .filter((object) => object.metadata.labels?.[labels.managedBy] === 'landlord');
  }

  #observed(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const { namespaces, owned } = this.#deps.caches;
    const cache = kind === 'Namespace' ? namespaces : owned.find((informer) => informer.type.kind === kind);
    return cache?.get(objectKey({ metadata: { name, ...(namespace ? { namespace } : {}) } }));
  }
}

function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64');
}

/** resourceVersions are opaque, but etcd's are integers: compare them as such when they are. */
function isNewer(observed: string | undefined, written: string): boolean {
  if (observed === undefined) return false;
  if (/^\d+$/.test(observed) && /^\d+$/.test(written)) return BigInt(observed) > BigInt(written);
  return observed !== written;
}

function identity(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
