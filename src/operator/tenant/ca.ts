/**
 * The tenant CA's lifecycle: read it back from its Secret, decide whether it must be (re-)issued,
 * and issue it. A CA is issued when it is missing, when the tenant's zones changed (its name
 * constraints must say exactly the tenant's domains), or when it is due for renewal (2/3 of its
 * lifetime, as src/pki decides). Issuing generates a key but does no I/O; the reconciler applies
 * the resulting Secret.
 */
import { X509Certificate } from 'node:crypto';
import {
  bundleFromSecret, createTenantCa, shouldRenew, tenantNamePolicy, type CertificateAuthority,
} from '../../pki/index.ts';
import type { KubeObject } from '../runtime/kube.ts';
import { caAnnotations, type TenantCa } from './desired.ts';

/** The CA a Secret holds, or undefined when the Secret is missing or not one landlord wrote. */
export function caFromSecret(secret: KubeObject | undefined): TenantCa | undefined {
  if (secret === undefined) return undefined;
  const annotations = secret.metadata.annotations ?? {};
  const zones = annotations[caAnnotations.zones];
  const fingerprint = annotations[caAnnotations.fingerprint];
  const notBefore = annotations[caAnnotations.notBefore];
  const notAfter = annotations[caAnnotations.notAfter];
  if (zones === undefined || fingerprint === undefined || notBefore === undefined || notAfter === undefined) return undefined;
  try {
    const bundle = bundleFromSecret(secret);
    if (bundle.privateKey === undefined) return undefined;
    return { bundle, zones: zones.split(',').filter(Boolean), fingerprint, notBefore, notAfter };
  } catch {
    return undefined;
  }
}

export type CaDecision = { readonly issue: false; readonly renewAt: Date } | { readonly issue: true; readonly reason: 'missing' | 'zones-changed' | 'renewal-due' };

export function caDecision(current: TenantCa | undefined, zones: readonly string[], now: Date): CaDecision {
  if (current === undefined) return { issue: true, reason: 'missing' };
  if (current.zones.join(',') !== zones.join(',')) return { issue: true, reason: 'zones-changed' };
  const renewal = shouldRenew({ notBefore: new Date(current.notBefore), notAfter: new Date(current.notAfter) }, now);
  return renewal.renew ? { issue: true, reason: 'renewal-due' } : { issue: false, renewAt: renewal.renewAt };
}

export async function issueTenantCa(root: CertificateAuthority, tenant: string, zones: readonly string[], now: Date): Promise<TenantCa> {
  const bundle = await createTenantCa(root, tenantNamePolicy(tenant, zones), { now });
  const certificate = new X509Certificate(bundle.certificate);
  return {
    bundle,
    zones: [...zones],
    fingerprint: certificate.fingerprint256,
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
  };
}
