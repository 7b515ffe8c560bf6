/**
 * What the operator ensures for the platform itself. Once at start, before reconciling tenants:
 * the platform namespace (labelled with its own name, which tenant NetworkPolicies select), the
 * landlord-tenant-admin ClusterRole, and the platform root CA, created on first start and read
 * back afterwards, its CRL signed again when due. Each step reads first and writes only what is
 * missing or different. Then, as controllers of their own: the root's CRL, signed again at two
 * thirds of its validity, and the admission webhook's serving certificate and caBundle.
 */
import { X509Certificate } from 'node:crypto';
import { platformNamespace } from '../api/meta.ts';
import {
  bundleFromSecret, createRootCa, issuePlatformServingCertificate, loadAuthority, pemFileNames, refreshRevocationList, renewalTime, tlsSecret,
  type CertificateAuthority, type PemBundle,
} from '../pki/index.ts';
import { LandlordError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { contains } from './runtime/contains.ts';
import { requeueAfter, type Reconciler } from './runtime/controller.ts';
import { Informer } from './runtime/informer.ts';
import { isApiStatus, type KubeClient, type KubeObject, type ResourceType } from './runtime/kube.ts';
import type { Counter } from './runtime/metrics.ts';
import { WorkQueue } from './runtime/queue.ts';
import { resourceOfKind, resources } from './runtime/resources.ts';
import { isNewer, WriteMemo } from './runtime/write-memo.ts';
import {
  bundleOf, caBundlePatch, desiredWebhookSecret, webhookConfigurationName, webhookDnsNames, webhookServingDecision, webhookServingSecretName,
} from './webhook-tls.ts';
import { namespaceNameLabel } from './tenant/desired.ts';
import { tenantAdminClusterRole } from './tenant/rbac.ts';
import { fieldManager } from './tenant/reconciler.ts';

export const rootCaSecretName = 'landlord-root-ca';
const dayMs = 86_400_000;

export interface PlatformRoot {
  readonly authority: CertificateAuthority;
  /** What workloads get: the certificate and CRL, never the key. */
  readonly bundle: PemBundle;
  /** The root CA Secret's resourceVersion this was read from or written as; CRL writes are conditional on it. */
  readonly resourceVersion: string;
  /** When its CRL is due to be signed again. */
  readonly crlRenewAt: Date;
}

export async function ensurePlatform(client: KubeClient, logger: Logger, now: Date): Promise<PlatformRoot> {
  await ensurePlatformNamespace(client);
  await ensureApplied(client, tenantAdminClusterRole());
  return ensureRootCa(client, logger, now);
}

/** The platform namespace; candidates need it before the first election, since the Lease lives there. */
export async function ensurePlatformNamespace(client: KubeClient): Promise<void> {
  await ensureApplied(client, {
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name: platformNamespace, labels: { [namespaceNameLabel]: platformNamespace, 'app.kubernetes.io/part-of': 'landlord' } },
  });
}

async function ensureApplied(client: KubeClient, object: KubeObject): Promise<void> {
  const type = resourceOfKind(object.kind);
  const observed = await client.get(type, object.metadata.name, object.metadata.namespace);
  if (observed === undefined || !contains(observed, object)) await client.apply(type, object, fieldManager);
}

/** Reads the root CA Secret, creating it first if absent (a create race is lost gracefully: 409 → read). */
async function ensureRootCa(client: KubeClient, logger: Logger, now: Date): Promise<PlatformRoot> {
  let secret = await client.get(resources.secrets, rootCaSecretName, platformNamespace);
  if (secret === undefined) {
    const bundle = await createRootCa();
    const object = tlsSecret({ name: rootCaSecretName, namespace: platformNamespace, labels: { 'app.kubernetes.io/part-of': 'landlord' } }, bundle);
    try {
      secret = await client.create(resources.secrets, object as unknown as KubeObject);
      logger.info('created the platform root CA', { secret: `${platformNamespace}/${rootCaSecretName}` });
    } catch (error) {
      if (!isApiStatus(error, 409)) throw error;
      secret = await client.get(resources.secrets, rootCaSecretName, platformNamespace);
    }
  }
  const bundle = bundleFromSecret(secret as { type?: string; data?: Record<string, string>; metadata: { name: string } });
  const authority = await loadAuthority(bundle);
  const root = { authority, bundle: { certificate: bundle.certificate, ca: bundle.ca }, resourceVersion: secret?.metadata.resourceVersion ?? '', crlRenewAt: now };
  return refreshRootCrl(client, logger, { ...root, ...(bundle.crl ? { bundle: { ...root.bundle, crl: bundle.crl } } : {}) }, now);
}

/**
 * Signs the root's CRL again when src/pki says so (same entries, next number) and stores it in
 * the root CA Secret, conditional on the resourceVersion `root` was read at: a CRL changed
 * meanwhile (a tenant CA revoked by hand) is never overwritten, but read again.
 */
async function refreshRootCrl(client: KubeClient, logger: Logger, root: PlatformRoot, now: Date, writes?: Counter): Promise<PlatformRoot> {
  const refresh = await refreshRevocationList(root.authority, root.bundle.crl, now);
  if (refresh.signed === undefined) return { ...root, crlRenewAt: refresh.renewAt };
  const patch = { metadata: { resourceVersion: root.resourceVersion }, data: { [pemFileNames.crl]: Buffer.from(refresh.crl).toString('base64') } };
  let written: KubeObject;
  try {
    written = await client.mergePatch(resources.secrets, rootCaSecretName, platformNamespace, patch);
  } catch (error) {
    if (!isApiStatus(error, 409)) throw error;
    return reread(client, root);
  }
  writes?.inc({ verb: 'patch', kind: 'Secret' });
  logger.info('signed the platform root CA\'s CRL again', { secret: `${platformNamespace}/${rootCaSecretName}`, reason: refresh.signed });
  return { ...root, bundle: { ...root.bundle, crl: refresh.crl }, resourceVersion: written.metadata.resourceVersion ?? '', crlRenewAt: refresh.renewAt };
}

/** The root CA Secret as stored now; its CRL is due at once, so the caller decides on it again. */
async function reread(client: KubeClient, root: PlatformRoot): Promise<PlatformRoot> {
  const secret = await client.get(resources.secrets, rootCaSecretName, platformNamespace);
  const bundle = secret === undefined ? undefined : bundleFromSecret(secret);
  if (bundle === undefined || bundle.certificate !== root.bundle.certificate) {
    throw new LandlordError('LL_OPERATOR_ROOT_CHANGED', `the Secret ${platformNamespace}/${rootCaSecretName} no longer holds the root CA this operator loaded`, {
      hint: 'restart the operator: it reads the root CA once, at start',
    });
  }
  return {
    ...root,
    bundle: { certificate: root.bundle.certificate, ca: root.bundle.ca, ...(bundle.crl ? { crl: bundle.crl } : {}) },
    resourceVersion: secret?.metadata.resourceVersion ?? '',
    crlRenewAt: new Date(0),
  };
}

/** A controller of one platform-wide key: its own caches (maybe none), queue and reconciler. */
export interface SingleKeyController {
  readonly caches: ReadonlyArray<Pick<Informer<KubeObject>, 'run' | 'waitForSync'>>;
  readonly queue: WorkQueue;
  readonly reconciler: Reconciler;
  resync(): void;
}

/**
 * The root's CRL while the operator runs: one key, reconciled at start and on resync (no request
 * unless the CRL is due) and requeued for when it is due. What it learns is handed to `publish`;
 * a new CRL reaches the tenant trust bundles as `root.crl` from there.
 */

const rootCrlKey = 'root-crl';

export function buildRootCrlController(deps: {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly writes: Counter;
  readonly root: () => PlatformRoot | undefined;
  readonly publish: (root: PlatformRoot) => void;
}): SingleKeyController {
  const queue = new WorkQueue();
  const reconciler: Reconciler = {
    reconcile: async () => {
      const root = deps.root();
      if (root === undefined) return requeueAfter(1000);
      const now = deps.clock();
      let next = root;
      if (now >= root.crlRenewAt) {
        next = await refreshRootCrl(deps.client, deps.logger, root, now, deps.writes);
        deps.publish(next);
      }
      return requeueAfter(Math.max(1000, Math.min(dayMs, next.crlRenewAt.getTime() - now.getTime())));
    },
  };
  return { caches: [], queue, reconciler, resync: () => queue.add(rootCrlKey) };
}

const webhookTlsKey = 'webhook-tls';

/**
 * The admission webhook's serving certificate and the `caBundle` of its configurations
 * (webhook-tls.ts decides; this does the I/O). One key, reconciled at start, whenever the Secret
 * or a `landlord-admission` configuration changes (each watched by name), and when the
 * certificate is due for renewal. Absent configurations are fine: nothing to patch until the
 * installer creates them, which enqueues the key again.
 */
export function buildWebhookTlsController(deps: {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly writes: Counter;
  readonly restarts?: Counter;
  /** The platform root, once ensured (before any reconcile runs). */
  readonly root: () => PlatformRoot | undefined;
}): SingleKeyController {
  const { client, logger, restarts } = deps;
  const queue = new WorkQueue();
  const memo = new WriteMemo();
  let pending: { bundle: PemBundle; resourceVersion: string } | undefined;
  const watchByName = (type: ResourceType, name: string, namespace?: string): Informer<KubeObject> => new Informer<KubeObject>({
    client, type, fieldSelector: `metadata.name=${name}`, logger, ...(namespace ? { namespace } : {}), ...(restarts ? { restarts } : {}),
    onChange: (current) => {
      if (current === undefined) {
        // Deleted: write it again, even if this process wrote it last.
        memo.forget(`${type.kind}/${namespace ?? ''}/${name}`);
        if (type === resources.secrets) pending = undefined;
      }
      queue.add(webhookTlsKey);
    },
  });
  const secret = watchByName(resources.secrets, webhookServingSecretName, platformNamespace);
  const configurations = [
    watchByName(resources.mutatingWebhookConfigurations, webhookConfigurationName),
    watchByName(resources.validatingWebhookConfigurations, webhookConfigurationName),
  ];

  const ensureSecret = async (root: PlatformRoot, now: Date): Promise<Date> => {
    const observed = secret.get(`${platformNamespace}/${webhookServingSecretName}`);
    if (pending !== undefined && observed !== undefined && isNewer(observed.metadata.resourceVersion, pending.resourceVersion)) pending = undefined;
    const decision = webhookServingDecision(pending?.bundle ?? bundleOf(observed), root.bundle.certificate, now);
    if (!decision.issue) return decision.renewAt;
    logger.info('issuing the webhook serving certificate', { secret: `${platformNamespace}/${webhookServingSecretName}`, reason: decision.reason });
    const bundle = await issuePlatformServingCertificate(root.authority, { dns: webhookDnsNames, ip: [] }, { now });
    const applied = await client.apply(resources.secrets, desiredWebhookSecret(bundle), fieldManager);
    deps.writes.inc({ verb: 'apply', kind: 'Secret' });
    pending = { bundle, resourceVersion: applied.metadata.resourceVersion ?? '' };
    const leaf = new X509Certificate(bundle.certificate);
    return renewalTime({ notBefore: leaf.validFromDate, notAfter: leaf.validToDate });
  };

  const ensureCaBundle = async (configuration: Informer<KubeObject>, rootPem: string): Promise<void> => {
    const observed = configuration.get(webhookConfigurationName);
    const patch = observed === undefined ? undefined : caBundlePatch(observed, rootPem);
    const key = `${configuration.type.kind}//${webhookConfigurationName}`;
    if (patch === undefined || memo.isCurrent(key, patch.webhooks, observed)) return;
    const patched = await client.mergePatch(configuration.type, webhookConfigurationName, undefined, patch);
    deps.writes.inc({ verb: 'patch', kind: configuration.type.kind });
    memo.remember(key, patch.webhooks, patched);
    logger.info('set the webhook caBundle to the platform root CA', { configuration: `${configuration.type.kind}/${webhookConfigurationName}` });
  };

  const reconciler: Reconciler = {
    reconcile: async () => {
      const root = deps.root();
      if (root === undefined) return requeueAfter(1000);
      const now = deps.clock();
      const renewAt = await ensureSecret(root, now);
      await Promise.all(configurations.map((configuration) => ensureCaBundle(configuration, root.bundle.certificate)));
      return requeueAfter(Math.max(1000, Math.min(dayMs, renewAt.getTime() - now.getTime())));
    },
  };
  return { caches: [secret, ...configurations], queue, reconciler, resync: () => queue.add(webhookTlsKey) };
}
