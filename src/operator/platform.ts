/**
 * What the operator ensures once at start, before reconciling tenants: the platform namespace
 * (labelled with its own name, which tenant NetworkPolicies select), the landlord-tenant-admin
 * ClusterRole, and the platform root CA, created on first start and read back afterwards.
 * Each step reads first and writes only what is missing or different.
 */
import { platformNamespace } from '../api/meta.ts';
import { bundleFromSecret, createRootCa, loadAuthority, tlsSecret, type CertificateAuthority, type PemBundle } from '../pki/index.ts';
import type { Logger } from '../shared/log.ts';
import { contains } from './runtime/contains.ts';
import { isApiStatus, type KubeClient, type KubeObject } from './runtime/kube.ts';
import { resourceOfKind, resources } from './runtime/resources.ts';
import { namespaceNameLabel } from './tenant/desired.ts';
import { tenantAdminClusterRole } from './tenant/rbac.ts';
import { fieldManager } from './tenant/reconciler.ts';

export const rootCaSecretName = 'landlord-root-ca';

export interface PlatformRoot {
  readonly authority: CertificateAuthority;
  readonly bundle: PemBundle;
}

export async function ensurePlatform(client: KubeClient, logger: Logger): Promise<PlatformRoot> {
  await ensurePlatformNamespace(client);
  await ensureApplied(client, tenantAdminClusterRole());
  return ensureRootCa(client, logger);
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
async function ensureRootCa(client: KubeClient, logger: Logger): Promise<PlatformRoot> {
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
  // Workloads get the root's certificate and CRL, never its key.
  return { authority, bundle: { certificate: bundle.certificate, ca: bundle.ca, ...(bundle.crl ? { crl: bundle.crl } : {}) } };
}
