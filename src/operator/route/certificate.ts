/**
 * A Route's certificate: read back what its Secret holds, decide whether to keep it or issue a new
 * one, and issue. Pure decisions with an injected clock; issuing generates a key but does no I/O.
 *
 * A certificate is kept only while everything about it still holds: it parses, its key matches,
 * it was signed by the tenant's current CA (a CA re-issued for new domains re-issues every Route
 * certificate), its only name is the Route's hostname, and it is not due for renewal (two thirds
 * of its lifetime, as src/pki decides). Anything else issues a new key and certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Route } from '../../api/route.ts';
import { bundleFromSecret, issueLeafCertificate, shouldRenew, type CertificateAuthority, type PemBundle } from '../../pki/index.ts';
import type { KubeObject } from '../runtime/kube.ts';
import type { TenantCa } from '../tenant/desired.ts';

/** A certificate read back from a Route's Secret. */
export interface IssuedCertificate {
  readonly bundle: PemBundle;
  readonly leaf: X509Certificate;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export type CertificatePlan =
  /** `spec.tls.secretName`: the tenant brings its own; nothing is issued and an issued Secret is deleted. */
  | { readonly kind: 'own'; readonly secretName: string }
  /** The tenant CA cannot sign for this Route yet: whatever exists stays, nothing is issued. */
  | { readonly kind: 'wait'; readonly reason: 'TenantCaNotReady'; readonly message: string; readonly current: IssuedCertificate | undefined }
  | { readonly kind: 'keep'; readonly current: IssuedCertificate; readonly renewAt: Date }
  | { readonly kind: 'issue'; readonly why: 'missing' | 'unreadable' | 'issuer-changed' | 'hostname-changed' | 'renewal-due' };

const parsed = new WeakMap<object, IssuedCertificate | undefined>();

/** The certificate a Secret holds, or undefined when it is missing or unreadable. Memoized per object. */
export function issuedCertificate(secret: KubeObject | undefined): IssuedCertificate | undefined {
  if (secret === undefined) return undefined;
  if (parsed.has(secret)) return parsed.get(secret);
  let result: IssuedCertificate | undefined;
  try {
    const bundle = bundleFromSecret(secret);
    const leaf = new X509Certificate(bundle.certificate);
    if (bundle.privateKey !== undefined && leaf.checkPrivateKey(createPrivateKey(bundle.privateKey))) {
      result = { bundle, leaf, notBefore: leaf.validFromDate, notAfter: leaf.validToDate };
    }
  } catch {
    result = undefined;
  }
  parsed.set(secret, result);
  return result;
}

const caCertificates = new Map<string, X509Certificate>();

function caCertificate(ca: TenantCa): X509Certificate {
  let certificate = caCertificates.get(ca.fingerprint);
  if (certificate === undefined) {
    certificate = new X509Certificate(ca.bundle.certificate);
    if (caCertificates.size > 1000) caCertificates.clear();
    caCertificates.set(ca.fingerprint, certificate);
  }
  return certificate;
}

/** Whether `leaf` was signed by the CA (names and signature, not just the issuer's name). */
export function signedBy(leaf: X509Certificate, ca: TenantCa): boolean {
  const issuer = caCertificate(ca);
  return leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey);
}

export function certificatePlan(input: {
  readonly route: Route;
  readonly tenant: string;
  /** The tenant's zones now (from its spec). */
  readonly zones: readonly string[];
  /** The tenant CA as its Secret holds it; undefined while not issued. */
  readonly ca: TenantCa | undefined;
  readonly current: IssuedCertificate | undefined;
  /** Whether a Secret exists at all (an unreadable one is re-issued, a missing one issued). */
  readonly secretExists: boolean;
  readonly now: Date;
}): CertificatePlan {
  const { route, ca, current } = input;
  const own = route.spec.tls?.secretName;
  if (own !== undefined) return { kind: 'own', secretName: own };
  if (ca === undefined) {
    return { kind: 'wait', reason: 'TenantCaNotReady', current, message: `tenant ${input.tenant}'s CA is not issued yet (see the Tenant's Certificates condition)` };
  }
  if (ca.zones.join(',') !== input.zones.join(',')) {
    return {
      kind: 'wait', reason: 'TenantCaNotReady', current,
      message: `tenant ${input.tenant}'s CA is not yet issued for its current domains (${input.zones.join(', ')}; see the Tenant's Certificates condition)`,
    };
  }
  if (current === undefined) return { kind: 'issue', why: input.secretExists ? 'unreadable' : 'missing' };
  if (!signedBy(current.leaf, ca)) return { kind: 'issue', why: 'issuer-changed' };
  if (current.leaf.subjectAltName !== `DNS:${route.spec.hostname}`) return { kind: 'issue', why: 'hostname-changed' };
  const renewal = shouldRenew({ notBefore: current.notBefore, notAfter: current.notAfter }, input.now);
  return renewal.renew ? { kind: 'issue', why: 'renewal-due' } : { kind: 'keep', current, renewAt: renewal.renewAt };
}

/** A new key and a server certificate for the Route's hostname from its tenant CA (chain in `tls.crt`, the tenant CA in `ca.crt`). */
export async function issueRouteCertificate(authority: CertificateAuthority, route: Route, now: Date): Promise<IssuedCertificate> {
  const bundle = await issueLeafCertificate(authority, { dns: [route.spec.hostname], uri: [] }, { now });
  const leaf = new X509Certificate(bundle.certificate);
  return { bundle, leaf, notBefore: leaf.validFromDate, notAfter: leaf.validToDate };
}
