/**
 * Certificate revocation lists: each CA (the root for tenant CAs, each tenant CA for its leaves)
 * signs an X.509 v2 CRL that verifiers load (Node: `tls.createSecureContext({ crl })`; OpenSSL:
 * `-CRLfile … -crl_check`). Node turns on CRL checking for the whole chain once any CRL is loaded,
 * so the root publishes one too, even while empty.
 */
import { LandlordError } from '../shared/errors.ts';
import type { CertificateAuthority } from './authority.ts';
import { isIssuedBy, parseCertificate, parseRevocationList, signingParameters } from './pem.ts';
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
      // CRL numbers only need to increase; a timestamp does without storing a counter.
      new x509.Extension(crlNumberOid, false, derInteger(Math.floor(now.getTime() / 1000))),
    ],
  });
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}

/**
 * The revoked entries of `crlPem`, after checking `ca` signed it. Fails closed: a CRL from
 * another CA or with a bad signature is `LL_PKI_CRL_INVALID`, never silently replaced.
 */
export async function revokedCertificates(ca: CertificateAuthority, crlPem: string): Promise<RevokedCertificate[]> {
  const crl = parseRevocationList(crlPem, 'ca.crl');
  let signed = false;
  try {
    signed = crl.issuer === ca.certificate.subject && (await crl.verify({ publicKey: ca.certificate.publicKey }));
  } catch {
    signed = false;
  }
  if (!signed) throw new LandlordError('LL_PKI_CRL_INVALID', `ca.crl is not signed by ${ca.certificate.subject}`);
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
  const revoked = await revokedCertificates(ca, currentCrlPem);
  if (revoked.some((entry) => entry.serialNumber === certificate.serialNumber)) {
    throw new LandlordError('LL_PKI_ALREADY_REVOKED', `${describe(certificate)} is already revoked`);
  }
  const now = options.now ?? new Date();
  return createRevocationList(ca, [...revoked, { serialNumber: certificate.serialNumber, revokedAt: now }], { ...options, now });
}

function describe(certificate: x509.X509Certificate): string {
  return `certificate ${certificate.serialNumber}`;
}

/** DER INTEGER for a non-negative safe integer. */
function derInteger(value: number): Uint8Array {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  if (bytes.length === 0 || (bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return Uint8Array.of(0x02, bytes.length, ...bytes);
}
