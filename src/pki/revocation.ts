/**
 * Certificate revocation lists: each CA (the root for tenant CAs, each tenant CA for its leaves)
 * signs an X.509 v2 CRL that verifiers load (Node: `tls.createSecureContext({ crl })`; OpenSSL:
 * `-CRLfile … -crl_check`). Node turns on CRL checking for the whole chain once any CRL is loaded,
 * so the root publishes one too, even while empty.
 */
import { LandlordError, isLandlordError } from '../shared/errors.ts';
import type { CertificateAuthority } from './authority.ts';
import { isIssuedBy, parseCertificate, parseRevocationList, signingParameters } from './pem.ts';
import { renewalTime, shouldRenew, type Validity } from './renewal.ts';
import * as x509 from '../shared/x509.ts';

export interface RevokedCertificate {
  /** Hexadecimal serial number, as @peculiar/x509 and `openssl x509 -serial` print it. */
  readonly serialNumber: string;
  readonly revokedAt: Date;
}

export interface CrlOptions {
  readonly now?: Date;
  /** How long verifiers may use the CRL; after that they fail closed (CRL_HAS_EXPIRED). */
  readonly validityDays?: number;
  /** The CRL number of the list this one replaces; the new number is higher. */
  readonly previousNumber?: bigint;
}

export const defaultCrlValidityDays = 7;

const crlNumberOid = '2.5.29.20';

/** A CRL signed by `ca` listing `revoked`; returns PEM. */
export async function createRevocationList(
  ca: CertificateAuthority,
  revoked: readonly RevokedCertificate[],
  options: CrlOptions = {},
): Promise<string> {
  const now = options.now ?? new Date();
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.certificate.subjectName,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + (options.validityDays ?? defaultCrlValidityDays) * 86_400_000),
    signingKey: ca.key.signingKey,
    signingAlgorithm: signingParameters[ca.key.algorithm],
    entries: revoked.map((entry) => ({ serialNumber: entry.serialNumber, revocationDate: entry.revokedAt })),
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
      // CRL numbers only need to increase: a timestamp does without storing a counter, and the
      // previous number + 1 keeps them increasing within a second or when the clock goes back.
      new x509.Extension(crlNumberOid, false, derInteger(nextCrlNumber(now, options.previousNumber))),
    ],
  });
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}

/**
 * The revoked entries of `crlPem`, after checking `ca` signed it. Fails closed: a CRL from
 * another CA or with a bad signature is `LL_PKI_CRL_INVALID`, never silently replaced.
 */
export async function revokedCertificates(ca: CertificateAuthority, crlPem: string): Promise<RevokedCertificate[]> {
  return entriesOf(await signedRevocationList(ca, crlPem));
}

/** Why a CA's CRL must be signed again, or when to look next (the clock is injected). */
export type CrlDecision =
  | { readonly sign: false; readonly renewAt: Date }
  | {
    readonly sign: true;
    readonly reason: 'missing' | 'unreadable' | 'not-signed-by-ca' | 'due' | 'expired' | 'invalid-validity';
    /** The entries to sign again: the current CRL's, or none when it is missing or cannot be trusted. */
    readonly revoked: readonly RevokedCertificate[];
    readonly previousNumber?: bigint;
  };

/**
 * Re-sign `crlPem` (same entries, next CRL number) when `shouldRenew` says so for
 * thisUpdate → nextUpdate, i.e. at two thirds of its validity, so a failed attempt has a third
 * of it to be retried before verifiers fail closed. A CRL that is missing, cannot be parsed or
 * is not signed by `ca`'s current key is replaced by an empty one: its entries cannot be trusted,
 * and keeping it would make every verifier fail closed.
 */
export async function revocationListDecision(ca: CertificateAuthority, crlPem: string | undefined, now: Date): Promise<CrlDecision> {
  if (crlPem === undefined) return { sign: true, reason: 'missing', revoked: [] };
  let crl: x509.X509Crl;
  try {
    crl = parseRevocationList(crlPem, 'ca.crl');
  } catch (error) {
    if (isLandlordError(error)) return { sign: true, reason: 'unreadable', revoked: [] };
    throw error;
  }
  if (!(await isSignedBy(crl, ca))) return { sign: true, reason: 'not-signed-by-ca', revoked: [] };
  const validity: Validity = { notBefore: crl.thisUpdate, notAfter: crl.nextUpdate ?? new Date(Number.NaN) };
  const renewal = shouldRenew(validity, now);
  if (!renewal.renew) return { sign: false, renewAt: renewal.renewAt };
  const previousNumber = crlNumberOf(crl);
  return { sign: true, reason: renewal.reason, revoked: entriesOf(crl), ...(previousNumber === undefined ? {} : { previousNumber }) };
}

export interface CrlRefresh {
  /** The CRL to publish: `crlPem` itself, or the one signed now. */
  readonly crl: string;
  /** Why it was signed now; absent when `crlPem` is kept. */
  readonly signed?: Extract<CrlDecision, { sign: true }>['reason'];
  /** When to decide again. */
  readonly renewAt: Date;
}

/** `revocationListDecision` applied: keeps `crlPem`, or signs its entries again with a fresh validity. */
export async function refreshRevocationList(ca: CertificateAuthority, crlPem: string | undefined, now: Date, options: Pick<CrlOptions, 'validityDays'> = {}): Promise<CrlRefresh> {
  const decision = await revocationListDecision(ca, crlPem, now);
  if (!decision.sign && crlPem !== undefined) return { crl: crlPem, renewAt: decision.renewAt };
  const previousNumber = decision.sign ? decision.previousNumber : undefined;
  const validityDays = options.validityDays ?? defaultCrlValidityDays;
  const crl = await createRevocationList(ca, decision.sign ? decision.revoked : [], {
    now, validityDays, ...(previousNumber === undefined ? {} : { previousNumber }),
  });
  return {
    crl,
    signed: decision.sign ? decision.reason : 'missing',
    renewAt: renewalTime({ notBefore: now, notAfter: new Date(now.getTime() + validityDays * 86_400_000) }),
  };
}

/** The CRL number of `crlPem`, if it has one. */
export function revocationListNumber(crlPem: string): bigint | undefined {
  return crlNumberOf(parseRevocationList(crlPem, 'ca.crl'));
}

async function signedRevocationList(ca: CertificateAuthority, crlPem: string): Promise<x509.X509Crl> {
  const crl = parseRevocationList(crlPem, 'ca.crl');
  if (!(await isSignedBy(crl, ca))) throw new LandlordError('LL_PKI_CRL_INVALID', `ca.crl is not signed by ${ca.certificate.subject}`);
  return crl;
}

async function isSignedBy(crl: x509.X509Crl, ca: CertificateAuthority): Promise<boolean> {
  try {
    return crl.issuer === ca.certificate.subject && (await crl.verify({ publicKey: ca.certificate.publicKey }));
  } catch {
    return false;
  }
}

function entriesOf(crl: x509.X509Crl): RevokedCertificate[] {
  return crl.entries.map((entry) => ({ serialNumber: entry.serialNumber, revokedAt: entry.revocationDate }));
}

/**
 * A new CRL for `ca` that adds `certificatePem` to the entries of `currentCrlPem`. Refuses a
 * certificate that `ca` did not issue (`LL_PKI_NOT_ISSUED_BY_CA`) or that is already revoked
 * (`LL_PKI_ALREADY_REVOKED`).
 */
export async function revokeCertificate(
  ca: CertificateAuthority,
  currentCrlPem: string,
  certificatePem: string,
  options: CrlOptions = {},
): Promise<string> {
  const certificate = parseCertificate(certificatePem, 'the certificate to revoke');
  if (!(await isIssuedBy(certificate, ca.certificate))) {
    throw new LandlordError('LL_PKI_NOT_ISSUED_BY_CA', `${describe(certificate)} was not issued by ${ca.certificate.subject}`, {
      hint: 'revoke a certificate with the CA directory that issued it',
    });
  }
  const current = await signedRevocationList(ca, currentCrlPem);
  const revoked = entriesOf(current);
  if (revoked.some((entry) => entry.serialNumber === certificate.serialNumber)) {
    throw new LandlordError('LL_PKI_ALREADY_REVOKED', `${describe(certificate)} is already revoked`);
  }
  const now = options.now ?? new Date();
  const previousNumber = crlNumberOf(current);
  return createRevocationList(ca, [...revoked, { serialNumber: certificate.serialNumber, revokedAt: now }], {
    ...options, now, ...(previousNumber === undefined ? {} : { previousNumber }),
  });
}

function describe(certificate: x509.X509Certificate): string {
  return `certificate ${certificate.serialNumber}`;
}

function nextCrlNumber(now: Date, previous: bigint | undefined): bigint {
  const seconds = BigInt(Math.floor(now.getTime() / 1000));
  return previous !== undefined && previous >= seconds ? previous + 1n : seconds;
}

/** The CRL number extension's value; undefined when absent or not a short non-negative DER INTEGER. */
function crlNumberOf(crl: x509.X509Crl): bigint | undefined {
  const extension = crl.extensions.find((candidate) => candidate.type === crlNumberOid);
  if (extension === undefined) return undefined;
  const der = new Uint8Array(extension.value);
  const length = der[1] ?? 0;
  if (der[0] !== 0x02 || length === 0 || length > 20 || der.length !== length + 2 || (der[2] ?? 0) & 0x80) return undefined;
  return der.subarray(2).reduce((value, byte) => value * 256n + BigInt(byte), 0n);
}

/** DER INTEGER for a non-negative integer of at most 20 octets (RFC 5280 §5.2.3). */
function derInteger(value: bigint): Uint8Array {
  const bytes: number[] = [];
  for (let rest = value; rest > 0n; rest /= 256n) bytes.unshift(Number(rest % 256n));
  if (bytes.length === 0 || (bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return Uint8Array.of(0x02, bytes.length, ...bytes);
}
