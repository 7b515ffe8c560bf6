/**
 * PKI material as Kubernetes objects, in cert-manager's Secret layout: pure mappings to and from
 * plain objects (no Kubernetes client here; the operator applies them).
 *
 * Where keys live: a tenant CA's private key exists only in the Secret `tenantCaSecret` puts in
 * the platform namespace. Tenant namespaces get `tenantTrustBundle`, a ConfigMap with certificates
 * and CRLs only; it is built field by field from public material, never by filtering a Secret.
 */
import { LandlordError } from '../shared/errors.ts';
import type { PemBundle } from './authority.ts';

/** File names in a PKI directory and keys in a Secret: the same four names everywhere. */
export const pemFileNames = { certificate: 'tls.crt', privateKey: 'tls.key', ca: 'ca.crt', crl: 'ca.crl' } as const;

export const defaultPlatformNamespace = 'landlord-system';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface TlsSecret {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  readonly metadata: ObjectMeta;
  readonly type: 'kubernetes.io/tls';
  /** base64, as the API server stores Secret data. */
  readonly data: Readonly<Record<string, string>>;
}

export interface TrustBundleConfigMap {
  readonly apiVersion: 'v1';
  readonly kind: 'ConfigMap';
  readonly metadata: ObjectMeta;
  readonly data: Readonly<Record<string, string>>;
}

/** The bundle's files by name; absent parts are left out. */
export function bundleFiles(bundle: PemBundle): Record<string, string> {
  return {
    [pemFileNames.certificate]: bundle.certificate,
    ...(bundle.privateKey === undefined ? {} : { [pemFileNames.privateKey]: bundle.privateKey }),
    [pemFileNames.ca]: bundle.ca,
    ...(bundle.crl === undefined ? {} : { [pemFileNames.crl]: bundle.crl }),
  };
}

/** The inverse of `bundleFiles`. `tls.crt` and `ca.crt` are required (`LL_PKI_FILE_MISSING`). */
export function bundleFromFiles(files: Readonly<Record<string, string | undefined>>, where: string): PemBundle {
  const required = (name: string): string => {
    const text = files[name];
    if (text === undefined) {
      throw new LandlordError('LL_PKI_FILE_MISSING', `${where} has no ${name}`, {
        hint: `a PKI directory holds ${Object.values(pemFileNames).join(', ')} as PEM files`,
      });
    }
    return text;
  };
  const privateKey = files[pemFileNames.privateKey];
  const crl = files[pemFileNames.crl];
  return {
    certificate: required(pemFileNames.certificate),
    ca: required(pemFileNames.ca),
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(crl === undefined ? {} : { crl }),
  };
}

export function tlsSecret(metadata: ObjectMeta, bundle: PemBundle): TlsSecret {
  const data = Object.fromEntries(Object.entries(bundleFiles(bundle)).map(([name, pem]) => [name, Buffer.from(pem).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: 'kubernetes.io/tls', data };
}

/** Reads a Secret back. Fails closed on another type or data that is not base64 (`LL_PKI_SECRET_INVALID`). */
export function bundleFromSecret(secret: { readonly type?: string; readonly data?: Readonly<Record<string, string>>; readonly metadata?: { readonly name?: string } }): PemBundle {
  const where = `Secret ${secret.metadata?.name ?? '(unnamed)'}`;
  if (secret.type !== 'kubernetes.io/tls') {
    throw new LandlordError('LL_PKI_SECRET_INVALID', `${where} has type ${secret.type ?? '(none)'}, not kubernetes.io/tls`);
  }
  const files: Record<string, string> = {};
  for (const [name, value] of Object.entries(secret.data ?? {})) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
      throw new LandlordError('LL_PKI_SECRET_INVALID', `${where} key ${name} is not base64`);
    }
    files[name] = Buffer.from(value, 'base64').toString('utf8');
  }
  return bundleFromFiles(files, where);
}

export function tenantLabels(tenant: string): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': 'landlord', 'landlord.dev/tenant': tenant };
}

export function tenantCaSecretName(tenant: string): string {
  return `tenant-${tenant}-ca`;
}

export const trustBundleName = 'landlord-tenant-ca';

/** The tenant CA with its key, for the platform namespace only (`tls.crt`, `tls.key`, `ca.crt` = root, `ca.crl`). */
export function tenantCaSecret(tenant: string, caBundle: PemBundle, platformNamespace: string = defaultPlatformNamespace): TlsSecret {
  if (caBundle.privateKey === undefined) {
    throw new LandlordError('LL_PKI_KEY_MISSING', `tenant ${tenant}'s CA bundle has no private key`);
  }
  return tlsSecret({ name: tenantCaSecretName(tenant), namespace: platformNamespace, labels: tenantLabels(tenant) }, caBundle);
}

/**
 * What workloads in one tenant namespace trust: `ca.crt` is the tenant CA (the anchor for
 * tenant-only trust, verified as a partial chain), `root.crt` the platform root, and the CRLs of
 * both (Node checks revocation along the whole chain once any CRL is loaded). Never a key.
 */
export function tenantTrustBundle(tenant: string, caBundle: PemBundle, rootBundle: PemBundle, namespace: string): TrustBundleConfigMap {
  const data: Record<string, string> = { 'ca.crt': caBundle.certificate, 'root.crt': rootBundle.certificate };
  if (caBundle.crl !== undefined) data['ca.crl'] = caBundle.crl;
  if (rootBundle.crl !== undefined) data['root.crl'] = rootBundle.crl;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: trustBundleName, namespace, labels: tenantLabels(tenant) }, data };
}

export interface TenantPkiObjects {
  readonly caSecret: TlsSecret;
  readonly trustBundles: readonly TrustBundleConfigMap[];
}

/** Everything the operator applies for one tenant's PKI: one Secret, one ConfigMap per tenant namespace. */
export function tenantPkiObjects(input: {
  readonly tenant: string;
  readonly caBundle: PemBundle;
  readonly rootBundle: PemBundle;
  readonly tenantNamespaces: readonly string[];
  readonly platformNamespace?: string;
}): TenantPkiObjects {
  if (input.tenantNamespaces.includes(input.platformNamespace ?? defaultPlatformNamespace)) {
    throw new LandlordError('LL_PKI_NAMESPACE_INVALID', 'a tenant namespace cannot be the platform namespace');
  }
  return {
    caSecret: tenantCaSecret(input.tenant, input.caBundle, input.platformNamespace),
    trustBundles: input.tenantNamespaces.map((namespace) => tenantTrustBundle(input.tenant, input.caBundle, input.rootBundle, namespace)),
  };
}
