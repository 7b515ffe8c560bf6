/**
 * What a PEM file says, for people: chain order, names, constraints, validity, fingerprints and
 * revoked serials. `inspectPem` reads; `formatInspection` renders; neither touches files.
 */
import { decodePermittedNames, nameConstraintsOid, type PermittedNames } from './name-constraints.ts';
import { isIssuedBy, parseCertificates, parseRevocationList, pemBlocks } from './pem.ts';
import { shouldRenew } from './renewal.ts';
import * as x509 from '../shared/x509.ts';

export interface CertificateReport {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly sha256: string;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ca: boolean;
  readonly pathLength?: number;
  readonly permitted?: PermittedNames & { readonly critical: boolean };
  /** Whether the next certificate in the same file signed this one; undefined for the last. */
  readonly signedByNext?: boolean;
}

export interface CrlReport {
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly revokedSerialNumbers: readonly string[];
}

export interface Inspection {
  readonly certificates: readonly CertificateReport[];
  readonly crls: readonly CrlReport[];
}

/** Reads every certificate and CRL in `text`; throws `LL_PKI_PEM_INVALID` when there is neither. */
export async function inspectPem(text: string, what: string): Promise<Inspection> {
  const hasCertificates = text.includes('-----BEGIN CERTIFICATE-----');
  const hasCrl = text.includes('-----BEGIN X509 CRL-----');
  if (!hasCertificates && !hasCrl) pemBlocks(text, 'CERTIFICATE', what);
  const certificates = hasCertificates ? parseCertificates(text, what) : [];
  const crls = hasCrl ? pemBlocks(text, 'X509 CRL', what).map((block) => parseRevocationList(block, what)) : [];
  return {
    certificates: await Promise.all(certificates.map((certificate, index) => reportCertificate(certificate, certificates[index + 1]))),
    crls: crls.map((crl) => ({
      issuer: crl.issuer,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      revokedSerialNumbers: crl.entries.map((entry) => entry.serialNumber),
    })),
  };
}

async function reportCertificate(certificate: x509.X509Certificate, next: x509.X509Certificate | undefined): Promise<CertificateReport> {
  const names = certificate.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const basic = certificate.getExtension(x509.BasicConstraintsExtension);
  const constraints = certificate.getExtension(nameConstraintsOid);
  return {
    subject: certificate.subject || '(empty)',
    issuer: certificate.issuer,
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    sha256: Buffer.from(await certificate.getThumbprint('SHA-256')).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:'),
    dnsNames: names.filter((name) => name.type === 'dns').map((name) => name.value),
    uris: names.filter((name) => name.type === 'url').map((name) => name.value),
    ca: basic?.ca ?? false,
    ...(basic?.pathLength === undefined ? {} : { pathLength: basic.pathLength }),
    ...(constraints ? { permitted: { ...decodePermittedNames(new Uint8Array(constraints.value)), critical: constraints.critical } } : {}),
    ...(next ? { signedByNext: await isIssuedBy(certificate, next) } : {}),
  };
}

/** Plain text, one fact per line, with renewal advice relative to `now`. */
export function formatInspection(label: string, inspection: Inspection, now: Date): string {
  const lines: string[] = [`${label}:`];
  inspection.certificates.forEach((c, index) => {
    const renewal = shouldRenew(c, now);
    lines.push(
      `  certificate ${index + 1}${index === 0 ? '' : ' (chain)'}: ${c.ca ? 'CA' : 'leaf'}`,
      `    subject:     ${c.subject}`,
      `    issuer:      ${c.issuer}`,
      `    serial:      ${c.serialNumber}`,
      `    sha256:      ${c.sha256}`,
      `    valid:       ${c.notBefore.toISOString()} → ${c.notAfter.toISOString()}`,
      `    renewal:     ${renewal.renew ? `now (${renewal.reason})` : `at ${renewal.renewAt.toISOString()}`}`,
    );
    if (c.dnsNames.length) lines.push(`    dns names:   ${c.dnsNames.join(', ')}`);
    if (c.uris.length) lines.push(`    uris:        ${c.uris.join(', ')}`);
    if (c.pathLength !== undefined) lines.push(`    path length: ${c.pathLength}`);
    if (c.permitted) lines.push(`    permitted:   ${[...c.permitted.dns.map((d) => `DNS:${d}`), ...c.permitted.uri.map((u) => `URI:${u}`)].join(', ')}${c.permitted.critical ? ' (critical)' : ' (NOT critical)'}`);
    if (c.signedByNext !== undefined) lines.push(`    signed by next certificate: ${c.signedByNext ? 'yes' : 'NO'}`);
  });
  for (const crl of inspection.crls) {
    lines.push(
      `  CRL from ${crl.issuer}`,
      `    updated:     ${crl.thisUpdate.toISOString()}${crl.nextUpdate ? ` (next by ${crl.nextUpdate.toISOString()})` : ''}`,
      `    revoked:     ${crl.revokedSerialNumbers.length ? crl.revokedSerialNumbers.join(', ') : 'none'}`,
    );
  }
  return lines.join('\n');
}
