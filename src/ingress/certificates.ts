/**
 * The tenant's server certificates, selected by SNI. A `CertificateSet` is immutable: it is
 * built aside from PEM (and validated: the key must match, names must be DNS SANs, inside the
 * tenant's domains when given) and then swapped whole, so a bad renewal never replaces a good set.
 *
 * Isolation stance: the set holds only the tenant's own keys; a name no certificate covers has
 * no context, and the ingress refuses that handshake (`unrecognized_name`) instead of falling
 * back to some default certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { LandlordError } from '../shared/errors.ts';
import { hostMatches } from './table.ts';
import { insideDomains } from './translate.ts';

export interface CertificatePem {
  /** Where it came from, for errors (`/etc/ingress/certs/app/tls.crt`). */
  readonly source: string;
  /** Leaf first, then intermediates. */
  readonly certificate: string;
  readonly privateKey: string;
}

export interface ServerCertificate {
  readonly source: string;
  /** DNS subjectAltNames, lowercase; `*.zone` entries cover one label. */
  readonly names: readonly string[];
  readonly notAfter: Date;
  readonly context: tls.SecureContext;
}

export class CertificateSet {
  readonly certificates: readonly ServerCertificate[];

  constructor(certificates: readonly ServerCertificate[]) {
    this.certificates = certificates;
  }

  /** The certificate for a server name (normalized): an exact SAN beats a wildcard SAN. */
  lookup(serverName: string): ServerCertificate | undefined {
    return this.certificates.find((c) => c.names.includes(serverName)) ?? this.certificates.find((c) => c.names.some((n) => n.startsWith('*.') && hostMatches(n, serverName)));
  }
}

/** Whether `certificate` is valid for the concrete `host` (RFC 6125 matching of its DNS SANs). */
export function certificateCovers(certificate: ServerCertificate, host: string): boolean {
  return certificate.names.some((name) => hostMatches(name, host));
}

function dnsNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
}

/** Validates and prepares one PEM pair; throws `LL_INGRESS_CERTIFICATE_INVALID`. */
export function serverCertificate(pem: CertificatePem, domains?: readonly string[]): ServerCertificate {
  const invalid = (message: string, cause?: unknown): LandlordError =>
    new LandlordError('LL_INGRESS_CERTIFICATE_INVALID', `${pem.source}: ${message}`, { hint: 'a directory needs tls.crt (leaf first) and the matching tls.key', ...(cause ? { cause } : {}) });
  let leaf: X509Certificate;
  let context: tls.SecureContext;
  try {
    leaf = new X509Certificate(pem.certificate);
    if (!leaf.checkPrivateKey(createPrivateKey(pem.privateKey))) throw invalid('the private key does not match the certificate');
    context = tls.createSecureContext({ cert: pem.certificate, key: pem.privateKey, minVersion: 'TLSv1.2' });
  } catch (cause) {
    throw cause instanceof LandlordError ? cause : invalid(cause instanceof Error ? cause.message : String(cause), cause);
  }
  const names = dnsNames(leaf);
  if (names.length === 0) throw invalid('the certificate has no DNS subjectAltName');
  const foreign = domains ? names.filter((name) => !insideDomains(name, domains)) : [];
  if (foreign.length > 0) throw invalid(`names ${foreign.join(', ')} are outside the tenant's domains (${(domains ?? []).join(', ')})`);
  return { source: pem.source, names, notAfter: new Date(leaf.validTo), context };
}

export function buildCertificateSet(pems: readonly CertificatePem[], domains?: readonly string[]): CertificateSet {
  return new CertificateSet(pems.map((pem) => serverCertificate(pem, domains)));
}

async function readPair(dir: string): Promise<CertificatePem> {
  const certFile = path.join(dir, 'tls.crt');
  try {
    return { source: certFile, certificate: await readFile(certFile, 'utf8'), privateKey: await readFile(path.join(dir, 'tls.key'), 'utf8') };
  } catch (cause) {
    throw new LandlordError('LL_INGRESS_CERTIFICATE_UNREADABLE', `cannot read ${dir}/tls.crt and tls.key`, { cause });
  }
}

/**
 * Reads certificate directories (cert-manager layout): a directory holding `tls.crt` and
 * `tls.key` is one certificate; otherwise each subdirectory holding them is one.
 */
export async function readCertificateDirectories(dirs: readonly string[]): Promise<CertificatePem[]> {
  const pems: CertificatePem[] = [];
  for (const dir of dirs) {
    if (existsSync(path.join(dir, 'tls.crt'))) {
      pems.push(await readPair(dir));
      continue;
    }
    let entries: string[];
    try {
      entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name).sort();
    } catch (cause) {
      throw new LandlordError('LL_INGRESS_CERTIFICATE_UNREADABLE', `cannot read certificate directory ${dir}`, { cause });
    }
    for (const entry of entries) if (existsSync(path.join(dir, entry, 'tls.crt'))) pems.push(await readPair(path.join(dir, entry)));
  }
  return pems;
}

/** The subset of a core/v1 Secret the Kubernetes source reads. */
export interface KubeSecret {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

export interface SecretCertificates {
  /** One per Secret found, in the order of `refs`; `source` is `Secret <namespace>/<name>`. */
  readonly pems: readonly CertificatePem[];
  readonly issues: readonly { readonly source: string; readonly message: string }[];
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (value: string): boolean => base64.test(value) && value.length % 4 === 0;

function pemFromSecret(where: string, secret: KubeSecret | undefined): CertificatePem | string {
  if (!secret) return `${where} does not exist (yet): the operator issues landlord-tls-<route>; a Secret named in spec.tls.secretName is the tenant's to create`;
  if (secret.type !== 'kubernetes.io/tls') return `${where} has type ${secret.type ?? '(none)'}, not kubernetes.io/tls`;
  const certificate = secret.data?.['tls.crt'];
  const privateKey = secret.data?.['tls.key'];
  if (!certificate || !privateKey) return `${where} lacks tls.crt or tls.key`;
  if (!isBase64(certificate) || !isBase64(privateKey)) return `${where} holds data that is not base64`;
  return { source: where, certificate: Buffer.from(certificate, 'base64').toString('utf8'), privateKey: Buffer.from(privateKey, 'base64').toString('utf8') };
}

/**
 * Reads the PEM pairs of the TLS Secrets `refs` names (pure). A missing Secret, another type or
 * data that is not base64 is an issue naming the object that asked for it; the other Secrets are
 * still read. Whether a pair is valid is `serverCertificate`'s to decide.
 */
export function certificatePemsFromSecrets(refs: readonly { readonly namespace: string; readonly name: string; readonly source: string }[], secrets: readonly KubeSecret[]): SecretCertificates {
  const byKey = new Map(secrets.map((secret) => [`${secret.metadata.namespace ?? 'default'}/${secret.metadata.name}`, secret]));
  const pems: CertificatePem[] = [];
  const issues: { source: string; message: string }[] = [];
  for (const ref of refs) {
    const pem = pemFromSecret(`Secret ${ref.namespace}/${ref.name}`, byKey.get(`${ref.namespace}/${ref.name}`));
    if (typeof pem === 'string') issues.push({ source: ref.source, message: pem });
    else pems.push(pem);
  }
  return { pems, issues };
}
