/**
 * When to renew: pure decisions on a validity period and an injected clock.
 *
 * A certificate is renewed two thirds into its lifetime, as cert-manager does by default, so a
 * failed renewal has a third of the lifetime to be retried before anything expires. Renewal always
 * generates a new key (`renewLeafCertificate`); the same rule tells when to re-sign a CRL
 * (thisUpdate → nextUpdate), since verifiers fail closed once a CRL's nextUpdate has passed.
 */
export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export type RenewalDecision =
  | { readonly renew: false; readonly renewAt: Date }
  | { readonly renew: true; readonly reason: 'due' | 'expired' | 'invalid-validity'; readonly renewAt: Date };

export const renewalFraction = 2 / 3;

/** notBefore + 2/3 of the lifetime, rounded down to the millisecond. */
export function renewalTime(validity: Validity): Date {
  const start = validity.notBefore.getTime();
  return new Date(start + Math.floor((validity.notAfter.getTime() - start) * renewalFraction));
}

/**
 * Fails closed: a validity period that ends before it starts, or cannot be read, is renewed now
 * rather than trusted.
 */
export function shouldRenew(validity: Validity, now: Date): RenewalDecision {
  const start = validity.notBefore.getTime();
  const end = validity.notAfter.getTime();
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
    return { renew: true, reason: 'invalid-validity', renewAt: now };
  }
  const renewAt = renewalTime(validity);
  if (now.getTime() >= end) return { renew: true, reason: 'expired', renewAt };
  if (now.getTime() >= renewAt.getTime()) return { renew: true, reason: 'due', renewAt };
  return { renew: false, renewAt };
}
