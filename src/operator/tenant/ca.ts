/**
 * The tenant CA's lifecycle: read it back from its Secret, decide whether it must be (re-)issued,
 * and issue it. A CA is issued when it is missing, when the tenant's zones changed (its name
 * constraints must say exactly the tenant's domains), or when it is due for renewal (2/3 of its
 * lifetime, as src/pki decides). Issuing generates a key but does no I/O; the reconciler applies
 * the resulting Secret. The CA's CRL is signed again, same entries, at two thirds of its validity
 * (or when missing or not signed by the CA's key), since verifiers fail closed past nextUpdate.
 */
import { X509Certificate } from 'node:crypto';
import {
  bundleFromSecret, createTenantCa, loadAuthority, refreshRevocationList, shouldRenew, tenantNamePolicy, type CertificateAuthority,
  type CrlRefresh,
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

/** `ca` with its CRL refreshed (src/pki decides), why it was signed now if it was, and when to look again. */
export async function refreshTenantCrl(ca: TenantCa, now: Date): Promise<{ readonly ca: TenantCa } & Omit<CrlRefresh, 'crl'>> {
  const refresh = await refreshRevocationList(await loadAuthority(ca.bundle), ca.bundle.crl, now);
  if (refresh.signed === undefined) return { ca, renewAt: refresh.renewAt };
  return { ca: { ...ca, bundle: { ...ca.bundle, crl: refresh.crl } }, signed: refresh.signed, renewAt: refresh.renewAt };
}
