/**
 * The Kubernetes source of a tenant's ingress (`landlord ingress --kubernetes`): gather → decide →
 * act.
 *
 * - Gather: one namespaced reflector per tenant namespace and kind (Routes, Ingresses, Services,
 *   TLS Secrets). Never cluster-wide: the ingress's ServiceAccount holds only Roles in the tenant's
 *   namespaces. Secrets are watched with `type=kubernetes.io/tls`, so the ingress never caches a
 *   tenant's other Secrets.
 * - Decide: `translateTenantRoutes` (table, backends at Service ClusterIPs, the certificate Secrets
 *   to serve) and `certificatePemsFromSecrets`, both pure.
 * - Act: build the certificate set aside, then hand table and set to `apply` in one call (the
 *   ingress swaps one reference). Nothing is applied before every cache has been listed once, so
 *   a half-filled cache never replaces a good table; `ready` resolves after the first apply.
 *
 * Bursts are debounced (quiet for `debounceMs`, at most `maxDelayMs` after the first event). A
 * Secret whose new data is invalid (key mismatch, foreign names) keeps its last valid certificate
 * with an issue, so a bad renewal does not take a host offline; a Secret that is gone is dropped.
 * A build equal to the last applied one is not applied again.
 */
import { createHash } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiGroup, apiVersionName } from '../api/meta.ts';
import { routePlural, type Route } from '../api/route.ts';
import { LandlordError } from '../shared/errors.ts';
import { silentLogger, type Logger } from '../shared/log.ts';
import { certificatePemsFromSecrets, CertificateSet, serverCertificate, type CertificatePem, type KubeSecret, type ServerCertificate } from './certificates.ts';
import type { IngressConfiguration } from './ingress.ts';
import { startReflector, type BackoffPolicy, type KubeObject as WatchedObject, type Reflector, type ResourceList as ListPage, type WatchedResource as NamespacedResource } from '../shared/kube-reflector.ts';
import { translateTenantRoutes, type KubeIngress, type KubeService, type TranslateIssue } from './translate.ts';

/** Ingresses of this class are read unless `--ingress-class` says otherwise. */
export const defaultIngressClassName = 'landlord';

export interface KubernetesSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly tenant: string;
  /** The tenant's namespaces: the only ones watched. */
  readonly namespaces: readonly string[];
  /** The tenant's domains: hosts and certificate names outside them are refused. */
  readonly domains: readonly string[];
  readonly ingressClassName?: string;
  /** Swaps in a configuration (the ingress's `apply`). */
  readonly apply: (configuration: IngressConfiguration) => void;
  /** A build failed as a whole (`LL_INGRESS_SOURCE_BUILD_FAILED`); the applied configuration keeps serving. */
  readonly rejected?: (error: LandlordError) => void;
  readonly logger?: Logger;
  /** Quiet period before a rebuild (default 100 ms). */
  readonly debounceMs?: number;
  /** Upper bound on how long a rebuild waits for quiet (default 1 s). */
  readonly maxDelayMs?: number;
  readonly backoff?: BackoffPolicy;
}

export interface SourceBuild {
  readonly configuration: IngressConfiguration;
  readonly issues: readonly TranslateIssue[];
}

export interface KubernetesSource {
  /** Resolves after the first configuration was applied. */
  readonly ready: Promise<void>;
  /** The last configuration built (applied or equal to the applied one). */
  lastBuild(): SourceBuild | undefined;
  stats(): { readonly applied: number; readonly lists: number };
  /** Rebuilds now; false while some cache has not been listed yet, or when the build failed. */
  rebuild(): boolean;
  stop(): void;
}

interface Caches {
  readonly routes: Reflector<Route>[];
  readonly ingresses: Reflector<KubeIngress>[];
  readonly services: Reflector<KubeService>[];
  readonly secrets: Reflector<KubeSecret>[];
  readonly all: Reflector<WatchedObject>[];
}

function page<T>(list: { items: unknown[]; metadata?: { resourceVersion?: string } }): ListPage<T> {
  return { items: list.items as T[], resourceVersion: list.metadata?.resourceVersion };
}

/** The four kinds the ingress reads, in one namespace. */
export function tenantNamespaceResources(kubeConfig: KubeConfig, namespace: string): {
  routes: NamespacedResource<Route & WatchedObject>;
  ingresses: NamespacedResource<KubeIngress & WatchedObject>;
  services: NamespacedResource<KubeService & WatchedObject>;
  secrets: NamespacedResource<KubeSecret & WatchedObject>;
} {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const tlsSecrets = 'type=kubernetes.io/tls';
  return {
    routes: {
      name: `routes in ${namespace}`,
      watchPath: `/apis/${apiGroup}/${apiVersionName}/namespaces/${namespace}/${routePlural}`,
      list: async () => page(await custom.listNamespacedCustomObject({ group: apiGroup, version: apiVersionName, namespace, plural: routePlural }) as { items: unknown[] }),
    },
    ingresses: {
      name: `ingresses in ${namespace}`,
      watchPath: `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
      list: async () => page(await networking.listNamespacedIngress({ namespace })),
    },
    services: {
      name: `services in ${namespace}`,
      watchPath: `/api/v1/namespaces/${namespace}/services`,
      list: async () => page(await core.listNamespacedService({ namespace })),
    },
    secrets: {
      name: `TLS secrets in ${namespace}`,
      watchPath: `/api/v1/namespaces/${namespace}/secrets`,
      fieldSelector: tlsSecrets,
      list: async () => page(await core.listNamespacedSecret({ namespace, fieldSelector: tlsSecrets })),
    },
  };
}

function startCaches(options: KubernetesSourceOptions, onChange: () => void, onError: (error: LandlordError) => void): Caches {
  const common = {
    kubeConfig: options.kubeConfig, onChange, onError, errorCodePrefix: 'LL_INGRESS_KUBE',
    listHint: 'check the landlord-ingress Role (get/list/watch) in that namespace and that the Route CRD is installed',
    ...(options.backoff ? { backoff: options.backoff } : {}),
  };
  const perNamespace = options.namespaces.map((namespace) => tenantNamespaceResources(options.kubeConfig, namespace));
  const routes = perNamespace.map((r) => startReflector<Route>({ ...common, resource: r.routes }));
  const ingresses = perNamespace.map((r) => startReflector<KubeIngress>({ ...common, resource: r.ingresses }));
  const services = perNamespace.map((r) => startReflector<KubeService>({ ...common, resource: r.services }));
  const secrets = perNamespace.map((r) => startReflector<KubeSecret>({ ...common, resource: r.secrets }));
  return { routes, ingresses, services, secrets, all: [...routes, ...ingresses, ...services, ...secrets] };
}

const digestOf = (pem: CertificatePem): string => createHash('sha256').update(pem.certificate).update('\0').update(pem.privateKey).digest('hex');

/**
 * Validated certificates by Secret, remembered across builds: unchanged data is not parsed again,
 * and invalid new data keeps the last valid certificate of that Secret.
 */
class CertificateMemory {
  #valid = new Map<string, { digest: string; certificate: ServerCertificate }>();

  build(pems: readonly CertificatePem[], domains: readonly string[], issues: TranslateIssue[]): { set: CertificateSet; fingerprint: string[] } {
    const next = new Map<string, { digest: string; certificate: ServerCertificate }>();
    for (const pem of pems) {
      const digest = digestOf(pem);
      const known = this.#valid.get(pem.source);
      if (known?.digest === digest) {
        next.set(pem.source, known);
        continue;
      }
      try {
        next.set(pem.source, { digest, certificate: serverCertificate(pem, domains) });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        issues.push({ source: pem.source, message: known ? `${message}; keeping its previous certificate` : message });
        if (known) next.set(pem.source, known);
      }
    }
    this.#valid = next;
    const entries = [...next.entries()];
    return { set: new CertificateSet(entries.map(([, entry]) => entry.certificate)), fingerprint: entries.map(([source, entry]) => `${source}=${entry.digest}`) };
  }
}

export function startKubernetesSource(options: KubernetesSourceOptions): KubernetesSource {
  const logger = (options.logger ?? silentLogger).child({ source: 'kubernetes' });
  const debounceMs = options.debounceMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 1_000;
  const ingressClassName = options.ingressClassName ?? defaultIngressClassName;
  const memory = new CertificateMemory();
  let last: SourceBuild | undefined;
  let lastFingerprint: string | undefined;
  let lastIssues = '';
  let applied = 0;
  let timer: NodeJS.Timeout | undefined;
  let firstEventAt: number | undefined;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  const build = (): SourceBuild & { fingerprint: string } => {
    const items = <T extends WatchedObject>(reflectors: readonly Reflector<T>[]): T[] => reflectors.flatMap((reflector) => reflector.items());
    const translation = translateTenantRoutes({
      tenant: options.tenant,
      domains: options.domains,
      ingressClassName,
      routes: items(caches.routes),
      ingresses: items(caches.ingresses),
      services: items(caches.services),
    });
    const secrets = certificatePemsFromSecrets(translation.certificateSecrets, items(caches.secrets));
    const issues: TranslateIssue[] = [...translation.issues, ...secrets.issues];
    const certificates = memory.build(secrets.pems, options.domains, issues);
    const fingerprint = JSON.stringify([translation.table.routes, certificates.fingerprint]);
    return { configuration: { table: translation.table, certificates: certificates.set }, issues, fingerprint };
  };

  const rebuild = (): boolean => {
    clearTimeout(timer);
    timer = undefined;
    firstEventAt = undefined;
    if (!caches.all.every((reflector) => reflector.synced)) return false;
    let built: ReturnType<typeof build>;
    try {
      built = build();
    } catch (cause) {
      const error = new LandlordError('LL_INGRESS_SOURCE_BUILD_FAILED', `cannot build the configuration: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      logger.error('configuration not built; keeping the applied one', { code: error.code, error });
      options.rejected?.(error);
      return false;
    }
    last = { configuration: built.configuration, issues: built.issues };
    const issueText = built.issues.map((issue) => `${issue.source}: ${issue.message}`).join('\n');
    if (issueText !== lastIssues) {
      for (const issue of built.issues) logger.warn('object not served', { code: 'LL_INGRESS_SOURCE_ISSUE', source: issue.source, reason: issue.message });
      lastIssues = issueText;
    }
    if (built.fingerprint === lastFingerprint) return true;
    options.apply(built.configuration);
    lastFingerprint = built.fingerprint;
    applied += 1;
    logger.info('configuration applied', { routes: built.configuration.table.routes.length, certificates: built.configuration.certificates.certificates.length, issues: built.issues.length });
    resolveReady();
    return true;
  };

  const schedule = (): void => {
    const now = Date.now();
    firstEventAt ??= now;
    clearTimeout(timer);
    timer = setTimeout(rebuild, Math.max(0, Math.min(debounceMs, firstEventAt + maxDelayMs - now)));
  };

  const caches = startCaches(options, schedule, (error) => logger.warn('kubernetes watch interrupted; retrying', { code: error.code, error }));

  return {
    ready,
    lastBuild: () => last,
    stats: () => ({ applied, lists: caches.all.reduce((sum, reflector) => sum + reflector.lists, 0) }),
    rebuild,
    stop() {
      clearTimeout(timer);
      for (const reflector of caches.all) reflector.stop();
    },
  };
}
