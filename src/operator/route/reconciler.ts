/**
 * The Route reconciler: key = `namespace/name`. Gather (from the caches) → decide (pure checks,
 * certificate plan, desired objects, status intent) → act (server-side apply of what differs,
 * deletion of what landlord created and no longer wants, one status write when it changed).
 *
 * Level-triggered and idempotent like the tenant reconciler: it trusts only the caches, and when
 * the cluster already matches it sends no request at all. Objects it creates are owned by the
 * Route and labelled `landlord.dev/route`, which is how it finds them again. It never takes over
 * an object of the same name that landlord did not create for this Route (`…NameTaken`).
 */
import { labels, managedByValue, platformNamespace } from '../../api/meta.ts';
import { effectiveTlsMode, routeCertificateSecretName, routeLabel, routeSidecarServiceName, type Route } from '../../api/route.ts';
import type { Tenant } from '../../api/tenant.ts';
import { loadAuthority, renewalTime, type CertificateAuthority } from '../../pki/index.ts';
import type { Logger } from '../../shared/log.ts';
import { contains } from '../runtime/contains.ts';
import { done, requeueAfter, type ReconcileResult, type Reconciler } from '../runtime/controller.ts';
import type { Informer } from '../runtime/informer.ts';
import type { KubeClient, KubeObject } from '../runtime/kube.ts';
import type { Counter } from '../runtime/metrics.ts';
import { resourceOfKind, resources } from '../runtime/resources.ts';
import { isNewer, objectIdentity, WriteMemo } from '../runtime/write-memo.ts';
import { caFromSecret } from '../tenant/ca.ts';
import type { TenantCa } from '../tenant/desired.ts';
import { routeVerdict } from './checks.ts';
import { certificatePlan, issuedCertificate, issueRouteCertificate, type IssuedCertificate } from './certificate.ts';
import { desiredCertificateSecret, sidecarPlan } from './desired.ts';
import {
  routeConditions, routeStatusIntent, staleConditionTypes, statusIsCurrent, type CertificateOutcome, type RouteOutcome, type SidecarOutcome,
} from './status.ts';

export const routeFieldManager = 'landlord-operator';

export type RouteObject = Route & KubeObject;

export interface RouteCaches {
  readonly routes: Informer<RouteObject>;
  readonly tenants: Informer<Tenant & KubeObject>;
  readonly namespaces: Informer<KubeObject>;
  /** Secrets landlord keeps in the platform namespace, among them the tenant CAs. */
  readonly platformSecrets: Informer<KubeObject>;
  /** Secrets landlord issued for Routes (labelled `landlord.dev/route`), every namespace. */
  readonly routeSecrets: Informer<KubeObject>;
  /** Every Service: backends and the sidecar Services. */
  readonly services: Informer<KubeObject>;
}

export interface RouteReconcilerDeps {
  readonly client: KubeClient;
  readonly caches: RouteCaches;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly writes: Counter;
}

const dayMs = 86_400_000;

interface CertificateResult {
  readonly outcome: CertificateOutcome;
  readonly notAfter?: Date;
  readonly renewAt?: Date;
}

export class RouteReconciler implements Reconciler {
  readonly #deps: RouteReconcilerDeps;
  readonly #memo = new WriteMemo();
  /** Certificates this process issued and wrote, until the cache shows that write (re-issuing would churn keys). */
  readonly #issued = new Map<string, { certificate: IssuedCertificate; resourceVersion: string }>();
  readonly #authorities = new Map<string, Promise<CertificateAuthority>>();

  constructor(deps: RouteReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const route = this.#deps.caches.routes.get(key);
    if (route === undefined) {
      // Garbage collection removes what the Route owned; this covers clusters (or moments) without it.
      await this.#removeAll(namespace, name);
      return done;
    }
    if (route.metadata.deletionTimestamp) return done;
    const tenantName = this.#deps.caches.namespaces.get(namespace)?.metadata.labels?.[labels.tenant];
    const tenant = tenantName === undefined ? undefined : this.#deps.caches.tenants.get(tenantName);
    const verdict = routeVerdict(route, { namespaceTenant: tenantName, tenant });
    const sidecar = effectiveTlsMode(route.spec) === 'sidecar';
    if (verdict.kind === 'refused') {
      await this.#removeAll(namespace, name);
      await this.#writeStatus(route, { ...verdict, sidecar }, undefined);
      return done;
    }
    if (verdict.kind === 'unresolved') {
      // Leave what exists alone until the namespace or Tenant is back; report what is held.
      await this.#writeStatus(route, { ...verdict, sidecar }, this.#currentCertificate(route)?.notAfter);
      return done;
    }
    const certificate = await this.#convergeCertificate(route, verdict.tenant, verdict.zones);
    const service = await this.#convergeSidecar(route, verdict.tenant);
    await this.#writeStatus(route, { kind: 'accepted', certificate: certificate.outcome, sidecar: service }, certificate.notAfter);
    if (certificate.renewAt === undefined) return done;
    const now = this.#deps.clock().getTime();
    return requeueAfter(Math.max(1000, Math.min(dayMs, certificate.renewAt.getTime() - now)));
  }

  /** Called when a cache saw an object of a Route deleted: the next reconcile must create it again. */
  forgetWrite(object: KubeObject): void {
    this.#memo.forget(objectIdentity(object));
    this.#issued.delete(objectIdentity(object));
  }

  async #convergeCertificate(route: RouteObject, tenant: string, zones: readonly string[]): Promise<CertificateResult> {
    const secretName = routeCertificateSecretName(route.metadata.name);
    const observed = this.#secret(route);
    const current = this.#currentCertificate(route);
    const caSecret = this.#deps.caches.platformSecrets.get(`${platformNamespace}/tenant-${tenant}-ca`);
    const ca = caFromSecret(caSecret);
    const now = this.#deps.clock();
    const plan = certificatePlan({ route, tenant, zones, ca, current, secretExists: observed !== undefined, now });
    switch (plan.kind) {
      case 'own':
        if (observed !== undefined && this.#isOurs(observed, route.metadata.name)) await this.#delete(observed);
        return { outcome: { kind: 'own', secretName: plan.secretName } };
      case 'wait':
        return { outcome: { kind: 'wait', reason: plan.reason, message: plan.message }, ...(plan.current ? { notAfter: plan.current.notAfter } : {}) };
      case 'keep':
        await this.#ensure(desiredCertificateSecret(route, tenant, plan.current.bundle), observed);
        return { outcome: { kind: 'issued', secretName, tenant, notAfter: plan.current.notAfter }, notAfter: plan.current.notAfter, renewAt: plan.renewAt };
      case 'issue': {
        if (!(await this.#mayWriteSecret(route, observed))) return { outcome: { kind: 'taken', secretName } };
        this.#deps.logger.info('issuing route certificate', { route: `${route.metadata.namespace}/${route.metadata.name}`, hostname: route.spec.hostname, reason: plan.why });
        const issued = await issueRouteCertificate(await this.#authority(ca!), route, now);
        const desired = desiredCertificateSecret(route, tenant, issued.bundle);
        const written = await this.#ensure(desired, observed);
        this.#issued.set(objectIdentity(desired), { certificate: issued, resourceVersion: written?.metadata.resourceVersion ?? '' });
        return { outcome: { kind: 'issued', secretName, tenant, notAfter: issued.notAfter }, notAfter: issued.notAfter, renewAt: renewalTime(issued) };
      }
    }
  }

  async #convergeSidecar(route: RouteObject, tenant: string): Promise<SidecarOutcome> {
    const namespace = route.metadata.namespace ?? '';
    const serviceName = routeSidecarServiceName(route.metadata.name);
    const observed = this.#deps.caches.services.get(`${namespace}/${serviceName}`);
    const backend = this.#deps.caches.services.get(`${namespace}/${route.spec.backend.service}`);
    const plan = sidecarPlan(route, tenant, backend);
    if (plan.kind !== 'service') {
      if (observed !== undefined && this.#isOurs(observed, route.metadata.name)) await this.#delete(observed);
      return plan.kind === 'none' ? plan : { kind: 'blocked', reason: plan.reason, message: plan.message };
    }
    if (observed !== undefined && !this.#isOurs(observed, route.metadata.name)) return { kind: 'taken', serviceName };
    // `contains` lets observed maps have extra keys; a selector key the backend dropped must go.
    const selectorChanged = observed !== undefined && !sameRecord(specOf(observed).selector, specOf(plan.service).selector);
    await this.#ensure(plan.service, observed, selectorChanged);
    return { kind: 'created', serviceName, backend: route.spec.backend.service };
  }

  /** The certificate the Route's Secret holds, or the one this process wrote and the cache does not show yet. */
  #currentCertificate(route: RouteObject): IssuedCertificate | undefined {
    const observed = this.#secret(route);
    const key = `Secret/${route.metadata.namespace ?? ''}/${routeCertificateSecretName(route.metadata.name)}`;
    const pending = this.#issued.get(key);
    if (pending !== undefined) {
      if (observed === undefined || !isNewer(observed.metadata.resourceVersion, pending.resourceVersion)) return pending.certificate;
      this.#issued.delete(key);
    }
    return issuedCertificate(observed);
  }

  #secret(route: RouteObject): KubeObject | undefined {
    return this.#deps.caches.routeSecrets.get(`${route.metadata.namespace ?? ''}/${routeCertificateSecretName(route.metadata.name)}`);
  }

  /**
   * Whether landlord may write the Route's Secret. The cache holds only Secrets labelled for
   * Routes, so before the first write one read tells whether the name is free or taken by a
   * Secret someone else made (never overwritten).
   */
  async #mayWriteSecret(route: RouteObject, observed: KubeObject | undefined): Promise<boolean> {
    if (observed !== undefined) return this.#isOurs(observed, route.metadata.name);
    const name = routeCertificateSecretName(route.metadata.name);
    if (this.#issued.has(`Secret/${route.metadata.namespace ?? ''}/${name}`)) return true;
    const found = await this.#deps.client.get(resources.secrets, name, route.metadata.namespace);
    return found === undefined || this.#isOurs(found, route.metadata.name);
  }

  #isOurs(object: KubeObject, route: string): boolean {
    const own = object.metadata.labels ?? {};
    return own[labels.managedBy] === managedByValue && own[routeLabel] === route;
  }

  /** Applies `object` unless the cache (or this process's last write) shows it already holds what landlord wants. */
  async #ensure(object: KubeObject, observed: KubeObject | undefined, differs = false): Promise<KubeObject | undefined> {
    const key = objectIdentity(object);
    if (this.#memo.isCurrent(key, object, observed)) return undefined;
    if (!differs && observed !== undefined && contains(observed, object)) return undefined;
    const applied = await this.#deps.client.apply(resourceOfKind(object.kind), object, routeFieldManager);
    this.#deps.writes.inc({ verb: 'apply', kind: object.kind });
    this.#memo.remember(key, object, applied);
    return applied;
  }

  async #delete(object: KubeObject): Promise<void> {
    await this.#deps.client.delete(resourceOfKind(object.kind), object.metadata.name, object.metadata.namespace);
    this.#deps.writes.inc({ verb: 'delete', kind: object.kind });
    this.forgetWrite(object);
  }

  /** Deletes the Secret and Service landlord created for Route `name` (found by label, so only landlord's). */
  async #removeAll(namespace: string, name: string): Promise<void> {
    const { routeSecrets, services } = this.#deps.caches;
    const owned = [
      routeSecrets.get(`${namespace}/${routeCertificateSecretName(name)}`),
      services.get(`${namespace}/${routeSidecarServiceName(name)}`),
    ].filter((object): object is KubeObject => object !== undefined && this.#isOurs(object, name) && !object.metadata.deletionTimestamp);
    await Promise.all(owned.map((object) => this.#delete(object)));
  }

  async #writeStatus(route: RouteObject, outcome: RouteOutcome, notAfter: Date | undefined): Promise<void> {
    const intent = routeStatusIntent(route, routeConditions(outcome), notAfter, this.#deps.clock());
    if (statusIsCurrent(route.status, intent)) return;
    const body: KubeObject = {
      apiVersion: route.apiVersion, kind: route.kind, metadata: { name: route.metadata.name, namespace: route.metadata.namespace ?? '' }, status: intent,
    };
    const key = `Status/${route.metadata.namespace ?? ''}/${route.metadata.name}`;
    if (this.#memo.isCurrent(key, body, route)) return;
    if (intent.certificate === undefined && route.status?.certificate !== undefined) {
      // Kubernetes 1.20's server-side apply removes a map field it no longer gets by setting it to
      // null, which the schema refuses ("must be of type object"): remove it with a merge patch.
      await this.#deps.client.mergePatch(resources.routes, route.metadata.name, route.metadata.namespace, {
        metadata: { resourceVersion: route.metadata.resourceVersion }, status: { certificate: null },
      }, 'status');
      this.#deps.writes.inc({ verb: 'patch', kind: 'Route/status' });
    }
    let updated = await this.#deps.client.apply<RouteObject>(resources.routes, body, routeFieldManager, 'status');
    this.#deps.writes.inc({ verb: 'apply', kind: 'Route/status' });
    const stale = staleConditionTypes(updated.status, intent);
    if (stale.length > 0) {
      // Server-side apply keeps a list entry another writer created: the router rewrites the whole
      // list from what it read, and can bring back an entry of ours just removed. Remove it
      // explicitly, guarded by the version just read.
      updated = await this.#deps.client.mergePatch<RouteObject>(resources.routes, route.metadata.name, route.metadata.namespace, {
        metadata: { resourceVersion: updated.metadata.resourceVersion },
        status: { conditions: (updated.status?.conditions ?? []).filter((c) => !stale.includes(c.type)) },
      }, 'status');
      this.#deps.writes.inc({ verb: 'patch', kind: 'Route/status' });
    }
    this.#memo.remember(key, body, updated);
  }

  #authority(ca: TenantCa): Promise<CertificateAuthority> {
    let authority = this.#authorities.get(ca.fingerprint);
    if (authority === undefined) {
      authority = loadAuthority(ca.bundle);
      void authority.catch(() => this.#authorities.delete(ca.fingerprint));
      if (this.#authorities.size > 1000) this.#authorities.clear();
      this.#authorities.set(ca.fingerprint, authority);
    }
    return authority;
  }
}

function specOf(object: KubeObject): { selector?: Record<string, string> } {
  return (object.spec ?? {});
}

function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const left = Object.entries(a ?? {}).sort(([x], [y]) => x.localeCompare(y));
  const right = Object.entries(b ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify(left) === JSON.stringify(right);
}
