/**
 * `buildOperator(deps)`: the tenant operator wired from its parts. It serves probes, waits for
 * leadership (when configured), ensures the platform basics, fills its caches, then runs the
 * workers of the tenant, Route and webhook-certificate reconcilers until stopped or deposed.
 * Entry points (the CLI, tests, the bench) only supply a client and options.
 */
import { labels, platformNamespace } from '../api/meta.ts';
import { routeLabel, tenantIngressName } from '../api/route.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import { buildWebhookTlsController, ensurePlatform, ensurePlatformNamespace, type PlatformRoot } from './platform.ts';
import { buildRouteController } from './route/controller.ts';
import { Backoff } from './runtime/backoff.ts';
import { runWorkers } from './runtime/controller.ts';
import { serveHealth, type HealthServer } from './runtime/health.ts';
import { Informer } from './runtime/informer.ts';
import type { KubeClient, KubeObject, ResourceType } from './runtime/kube.ts';
import { LeaderElector } from './runtime/leader.ts';
import { MetricsRegistry } from './runtime/metrics.ts';
import { WorkQueue } from './runtime/queue.ts';
import { resources } from './runtime/resources.ts';
import { sleep } from './runtime/sleep.ts';
import { overlaps, tenantNamespaces, tenantZones } from './tenant/checks.ts';
import type { TenantIngressConfig } from './tenant/desired.ts';
import { TenantReconciler, type TenantObject } from './tenant/reconciler.ts';

export interface LeaderElectionConfig {
  /** Unique per process, e.g. `<hostname>_<random>`. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly renewIntervalMs?: number;
}

export interface OperatorDeps {
  readonly client: KubeClient;
  readonly logger?: Logger;
  readonly clock?: () => Date;
  /** Concurrent reconciles (distinct tenants). Default 8. */
  readonly workers?: number;
  /** Every tenant is reconciled again this often, changed or not. Default 10 minutes. */
  readonly resyncIntervalMs?: number;
  /** Without it this process reconciles unconditionally: run one replica only. */
  readonly leaderElection?: LeaderElectionConfig;
  /** Serve /healthz, /readyz and /metrics here (port 0: any free port). */
  readonly health?: { readonly port: number; readonly host?: string };
  /** Deploy one ingress per tenant with this image and router source CIDR; without it, none. */
  readonly ingress?: TenantIngressConfig;
}

export type OperatorExit = 'stopped' | 'lost-leadership';

export interface Operator {
  readonly client: KubeClient;
  readonly metrics: MetricsRegistry;
  /** Runs until `stop()` or lost leadership. */
  run(): Promise<OperatorExit>;
  /** Resolves once caches are synced and workers run (never, if this process does not lead). */
  started(): Promise<void>;
  stop(): Promise<void>;
  /** Enqueues every tenant (and every tenant name found on landlord's objects). */
  resync(): void;
  /** Nothing queued and no reconcile running. */
  isIdle(): boolean;
  /** Caches synced and workers running, or standing by for leadership. */
  isReady(): boolean;
  /** The port /healthz, /readyz and /metrics listen on, once `run` serves them. */
  healthPort(): number | undefined;
}

// Objects a Route owns (labelled landlord.dev/route) are the Route controller's, never the tenant's to prune.
const managedSelector = `${labels.managedBy}=landlord,${labels.tenant},!${routeLabel}`;
const tenantIngressSelector = `${managedSelector},app.kubernetes.io/name=${tenantIngressName}`;

/** Namespaced kinds landlord owns and watches by label (drift repair, pruning, cleanup). */
const ownedTypes: ReadonlyArray<{ type: ResourceType; namespace?: string; selector?: string }> = [
  { type: resources.roleBindings },
  { type: resources.resourceQuotas },
  { type: resources.limitRanges },
  { type: resources.networkPolicies },
  { type: resources.configMaps },
  // Of these kinds the tenant reconciler owns only the tenant ingress's objects: other controllers
  // (Routes) label theirs managed-by landlord too, and what is owned here is pruned when not desired.
  { type: resources.serviceAccounts, selector: tenantIngressSelector },
  { type: resources.services, selector: tenantIngressSelector },
  { type: resources.deployments, selector: tenantIngressSelector },
  { type: resources.roles, selector: tenantIngressSelector },
  { type: resources.secrets, namespace: platformNamespace },
];

export function buildOperator(deps: OperatorDeps): Operator {
  const logger = deps.logger ?? silentLogger;
  const { client } = deps;
  const metrics = new MetricsRegistry();
  const reconciles = metrics.counter('landlord_operator_reconciles_total', 'Tenant reconciles by result.');
  const writes = metrics.counter('landlord_operator_writes_total', 'Write requests the reconcilers sent, by verb and kind.');
  const restarts = metrics.counter('landlord_operator_watch_restarts_total', 'Watch restarts by resource and reason (ended, gone, error).');
  const apiRequests = metrics.counter('landlord_operator_api_requests_total', 'HTTP requests to the API server by verb and resource.');
  const queueDepth = metrics.gauge('landlord_operator_queue_depth', 'Tenant keys waiting to be reconciled.');
  const leaderGauge = metrics.gauge('landlord_operator_leader', '1 while this process leads.');
  const tenantsGauge = metrics.gauge('landlord_operator_tenants', 'Tenants in the cache by phase.');

  const stopping = new AbortController();
  const queue = new WorkQueue();
  const elector = deps.leaderElection ? new LeaderElector({
    client, namespace: platformNamespace, name: 'landlord-operator', identity: deps.leaderElection.identity,
    leaseDurationMs: deps.leaderElection.leaseDurationMs ?? 15_000,
    renewDeadlineMs: deps.leaderElection.renewDeadlineMs ?? 10_000,
    renewIntervalMs: deps.leaderElection.renewIntervalMs ?? 2_000,
    logger,
  }) : undefined;
  let reconciler: TenantReconciler | undefined;

  const tenants = new Informer<TenantObject>({
    client, type: resources.tenants, logger, restarts,
    onChange: (current, previous) => {
      const tenant = current ?? previous;
      if (tenant === undefined) return;
      queue.add(tenant.metadata.name);
      if (current?.metadata.generation !== previous?.metadata.generation) {
        for (const related of relatedTenants([current, previous], tenants.list())) queue.add(related);
      }
    },
  });
  const namespaces = new Informer<KubeObject>({
    client, type: resources.namespaces, logger, restarts, indexLabel: labels.tenant,
    onChange: (current, previous) => {
      const owners = new Set([current, previous].map((ns) => ns?.metadata.labels?.[labels.tenant]).filter((name) => name !== undefined));
      if (owners.size === 0) {
        const name = (current ?? previous)?.metadata.name;
        for (const tenant of tenants.list()) if (name && tenantNamespaces(tenant).includes(name)) owners.add(tenant.metadata.name);
      }
      for (const owner of owners) queue.add(owner);
    },
  });
  const owned = ownedTypes.map(({ type, namespace, selector }) => new Informer<KubeObject>({
    client, type, labelSelector: selector ?? managedSelector, logger, restarts, indexLabel: labels.tenant, ...(namespace ? { namespace } : {}),
    onChange: (current, previous) => {
      if (current === undefined && previous !== undefined) reconciler?.forgetWrite(previous);
      const owner = (current ?? previous)?.metadata.labels?.[labels.tenant];
      if (owner) queue.add(owner);
    },
  }));
  const clock = deps.clock ?? (() => new Date());
  let root: PlatformRoot | undefined;
  // Controllers beside the tenant one: each its own caches, queue and workers.
  const routes = buildRouteController({
    client, logger, clock, writes, restarts, tenants, namespaces, platformSecrets: owned[ownedTypes.findIndex((o) => o.type === resources.secrets)]!,
  });
  const webhookTls = buildWebhookTlsController({ client, logger, clock, writes, restarts, root: () => root });
  const controllers = [{ name: 'route', workers: deps.workers ?? 8, ...routes }, { name: 'webhook-tls', workers: 1, ...webhookTls }];
  const caches = [tenants, namespaces, ...owned, ...controllers.flatMap((controller) => controller.caches)];

  metrics.onCollect(() => {
    for (const { verb, resource, count } of client.requestCounts()) {
      apiRequests.inc({ verb, resource }, count - apiRequests.value({ verb, resource }));
    }
    queueDepth.set(queue.length);
    leaderGauge.set(elector === undefined || elector.isLeader() ? 1 : 0);
    const phases = new Map<string, number>();
    for (const tenant of tenants.list()) phases.set(tenant.status?.phase ?? 'Pending', (phases.get(tenant.status?.phase ?? 'Pending') ?? 0) + 1);
    for (const phase of ['Pending', 'Ready', 'Degraded', 'Terminating']) tenantsGauge.set(phases.get(phase) ?? 0, { phase });
  });

  let running = false;
  let health: HealthServer | undefined;
  let resolveStarted: () => void = () => {};
  const startedPromise = new Promise<void>((resolve) => (resolveStarted = resolve));
  let exit: OperatorExit = 'stopped';
  let finished: Promise<OperatorExit> | undefined;

  const resync = (): void => {
    for (const tenant of tenants.list()) queue.add(tenant.metadata.name);
    for (const cache of [namespaces, ...owned]) {
      for (const object of cache.list()) {
        const owner = object.metadata.labels?.[labels.tenant];
        if (owner && object.metadata.labels?.[labels.managedBy] === 'landlord') queue.add(owner);
      }
    }
    for (const controller of controllers) controller.resync();
  };

  const lead = async (signal: AbortSignal): Promise<void> => {
    root = await untilDone(() => ensurePlatform(client, logger), signal, logger);
    if (root === undefined) return;
    reconciler = new TenantReconciler({ client, caches: { tenants, namespaces, owned }, root, clock, logger, writes, ...(deps.ingress ? { ingress: deps.ingress } : {}) });
    const watching = caches.map((cache) => cache.run(signal));
    await Promise.race([Promise.all(caches.map((cache) => cache.waitForSync())), new Promise((resolve) => signal.addEventListener('abort', resolve))]);
    if (signal.aborted) return void (await Promise.all(watching));
    const workers = [
      runWorkers({ name: 'tenant', queue, reconciler, workers: deps.workers ?? 8, logger, metrics: { reconciles } }),
      ...controllers.map((c) => runWorkers({ name: c.name, queue: c.queue, reconciler: c.reconciler, workers: c.workers, logger, metrics: { reconciles } })),
    ];
    webhookTls.resync();
    const resyncTimer = setInterval(resync, deps.resyncIntervalMs ?? 600_000);
    running = true;
    resolveStarted();
    logger.info('operator started', { tenants: tenants.list().length });
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    clearInterval(resyncTimer);
    for (const q of [queue, ...controllers.map((c) => c.queue)]) q.shutDown();
    running = false;
    await Promise.all([...workers, ...watching]);
  };

  const run = async (): Promise<OperatorExit> => {
    if (deps.health) health = await serveHealth({ ...deps.health, ready: () => operator.isReady(), metrics });
    const signal = stopping.signal;
    if (elector) {
      await untilDone(() => ensurePlatformNamespace(client), signal, logger);
      await elector.acquire(signal);
      if (elector.isLeader()) {
        void elector.renew(signal, () => {
          exit = 'lost-leadership';
          stopping.abort();
        });
      }
    }
    if (!signal.aborted) await lead(signal);
    await elector?.release();
    await health?.close();
    client.close();
    return exit;
  };

  const operator: Operator = {
    client,
    metrics,
    run: () => (finished ??= run()),
    started: () => startedPromise,
    stop: async () => {
      stopping.abort();
      await finished;
    },
    resync,
    isIdle: () => queue.isIdle() && controllers.every((controller) => controller.queue.isIdle()),
    isReady: () => running || (elector !== undefined && !elector.isLeader() && !stopping.signal.aborted),
    healthPort: () => health?.port,
  };
  return operator;
}

/** Tenants whose reconcile depends on `changed`: overlapping zones (who keeps a domain) and allowFrom peers. */
function relatedTenants(changed: ReadonlyArray<TenantObject | undefined>, all: readonly TenantObject[]): string[] {
  const zones = changed.flatMap((tenant) => (tenant ? safeZones(tenant) : []));
  const peers = new Set(changed.flatMap((tenant) => tenant?.spec.network?.allowFrom ?? []));
  return all
    .filter((other) => peers.has(other.metadata.name) || safeZones(other).some((zone) => zones.some((mine) => overlaps(zone, mine))))
    .map((other) => other.metadata.name);
}

function safeZones(tenant: TenantObject): string[] {
  try {
    return tenantZones(tenant);
  } catch {
    return [];
  }
}

/** Retries `step` with backoff until it succeeds or `signal` aborts (then undefined). */
async function untilDone<T>(step: () => Promise<T>, signal: AbortSignal, logger: Logger): Promise<T | undefined> {
  const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
  while (!signal.aborted) {
    try {
      return await step();
    } catch (error) {
      const delay = backoff.next();
      logger.warn('platform set-up failed, retrying', { delayMs: delay, error });
      await sleep(delay, signal);
    }
  }
  return undefined;
}
