/**
 * Creating certificate authorities and issuing certificates: the only module that signs.
 *
 * Hierarchy: one platform root → one intermediate per tenant (pathLen 0, critical NameConstraints
 * from the tenant's `TenantNamePolicy`) → leaf certificates. Every leaf passes the pure issuance
 * policy (names.ts) before anything is signed, and the policy is read from the issuing CA's own
 * NameConstraints, so a CA file cannot be used to issue outside what its certificate permits.
 */
import type { webcrypto } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { LandlordError } from '../shared/errors.ts';
import { decodePermittedNames, encodePermittedNames, nameConstraintsOid } from './name-constraints.ts';
import { assertIssuancePermitted, permittedNames, policyFromPermittedNames, type RequestedNames, type TenantNamePolicy } from './names.ts';
import {
  algorithmOf, generateKeyPair, isIssuedBy, parseCertificateRequest, parseCertificates, parsePrivateKey, privateKeyPem, signingParameters,
  type KeyAlgorithm, type PrivateKey,
} from './pem.ts';
import { createRevocationList } from './revocation.ts';
import * as x509 from '../shared/x509.ts';

/**
 * PEM files in cert-manager's layout; each field is one Secret key / one file in a PKI directory.
 */
export interface PemBundle {
  /** `tls.crt`: the certificate, then the intermediates above it (never the root). */
  readonly certificate: string;
  /** `tls.key`: PKCS#8. Absent when the requester kept its own key (CSR signing). */
  readonly privateKey?: string;
  /** `ca.crt`: the trust anchor peers of this certificate verify against (see docs/pki.md). */
  readonly ca: string;
  /** `ca.crl`: for CAs, the CRL this CA signs. */
  readonly crl?: string;
}

/** A CA ready to sign: its certificate, private key and the certificates above it. */
export interface CertificateAuthority {
  readonly certificate: x509.X509Certificate;
  readonly key: PrivateKey;
  /** Issuers above this CA, nearest first, ending with the root; empty for the root itself. */
  readonly chain: readonly x509.X509Certificate[];
}

export interface IssueOptions {
  /** The clock; certificates are valid from five minutes before `now` to absorb clock skew. */
  readonly now?: Date;
  readonly lifetimeDays?: number;
  readonly algorithm?: KeyAlgorithm;
}

export const defaultLifetimeDays = { root: 3650, tenantCa: 1095, leaf: 90 } as const;

const backdateMs = 5 * 60_000;
const dayMs = 86_400_000;

export async function createRootCa(options: IssueOptions & { commonName?: string } = {}): Promise<PemBundle> {
  const keys = await generateKeyPair(options.algorithm ?? 'ecdsa-p256');
  const validity = validityPeriod(options, defaultLifetimeDays.root);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: new x509.Name([{ CN: [options.commonName ?? 'landlord root CA'] }, { O: ['landlord'] }]),
    ...validity,
    keys,
    signingAlgorithm: signingParameters[options.algorithm ?? 'ecdsa-p256'],
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = certificate.toString('pem');
  const authority = { certificate, key: await toPrivateKey(keys), chain: [] };
  return { certificate: pem, privateKey: await privateKeyPem(keys.privateKey), ca: pem, crl: await createRevocationList(authority, [], options) };
}

/**
 * A tenant's intermediate CA, signed by `root`: pathLen 0 (it cannot create CAs) and critical
 * NameConstraints permitting only the tenant's zones and trust domain. Its `ca.crt` is the root.
 */
export async function createTenantCa(root: CertificateAuthority, policy: TenantNamePolicy, options: IssueOptions = {}): Promise<PemBundle> {
  if (root.chain.length !== 0) {
    throw new LandlordError('LL_PKI_NOT_A_ROOT_CA', 'tenant CAs are signed by the platform root CA', {
      hint: 'pass the directory written by "landlord pki init-root"',
    });
  }
  const algorithm = options.algorithm ?? 'ecdsa-p256';
  const keys = await generateKeyPair(algorithm);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name([{ CN: [`${policy.tenant} tenant CA`] }, { O: ['landlord'] }]),
    issuer: root.certificate.subjectName,
    ...validityPeriod(options, defaultLifetimeDays.tenantCa, root.certificate.notAfter),
    publicKey: keys.publicKey,
    signingKey: root.key.signingKey,
    signingAlgorithm: signingParameters[root.key.algorithm],
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.Extension(nameConstraintsOid, true, encodePermittedNames(permittedNames(policy))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.certificate),
    ],
  });
  const authority = { certificate, key: await toPrivateKey(keys), chain: [root.certificate] };
  return {
    certificate: certificate.toString('pem'),
    privateKey: await privateKeyPem(keys.privateKey),
    ca: root.certificate.toString('pem'),
    crl: await createRevocationList(authority, [], options),
  };
}

/**
 * A new key pair and a certificate for `names` from a tenant CA. DNS-only certificates are for
 * servers (serverAuth); certificates with a workload identity URI serve and authenticate
 * (serverAuth + clientAuth), as SPIFFE X.509-SVIDs do. Fails closed: names outside the CA's
 * tenant are refused (`LL_PKI_NAME_NOT_PERMITTED` and friends) before anything is signed.
 */
export async function issueLeafCertificate(ca: CertificateAuthority, names: RequestedNames, options: IssueOptions = {}): Promise<PemBundle> {
  const policy = tenantPolicyOf(ca);
  assertIssuancePermitted(policy, names);
  const keys = await generateKeyPair(options.algorithm ?? 'ecdsa-p256');
  const bundle = await signLeaf(ca, keys.publicKey, names, options);
  return { ...bundle, privateKey: await privateKeyPem(keys.privateKey) };
}

/** The names of a platform endpoint's serving certificate. */
export interface ServingNames {
  readonly dns: readonly string[];
  /** IP addresses, for endpoints dialled by address (an API server calling a webhook URL). */
  readonly ip: readonly string[];
}

/**
 * A serving certificate for one of the platform's own endpoints (the admission webhook), signed
 * by the root: serverAuth only, DNS and IP SANs. Tenant CAs never issue IP addresses; only the
 * platform does, for itself. Fails closed: a root that is not a root, or no names, is refused.
 */
export async function issuePlatformServingCertificate(root: CertificateAuthority, names: ServingNames, options: IssueOptions = {}): Promise<PemBundle> {
  if (root.chain.length !== 0) {
    throw new LandlordError('LL_PKI_NOT_A_ROOT_CA', 'platform serving certificates are signed by the platform root CA', {
      hint: 'pass the directory written by "landlord pki init-root"',
    });
  }
  if (names.dns.length + names.ip.length === 0) {
    throw new LandlordError('LL_PKI_NAMES_MISSING', 'a serving certificate needs at least one DNS name or IP address');
  }
  const keys = await generateKeyPair(options.algorithm ?? 'ecdsa-p256');
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name([]),
    issuer: root.certificate.subjectName,
    ...validityPeriod(options, defaultLifetimeDays.leaf, root.certificate.notAfter),
    publicKey: keys.publicKey,
    signingKey: root.key.signingKey,
    signingAlgorithm: signingParameters[root.key.algorithm],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        [...names.dns.map((value) => ({ type: 'dns' as const, value })), ...names.ip.map((value) => ({ type: 'ip' as const, value }))],
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.certificate),
    ],
  });
  const rootPem = root.certificate.toString('pem');
  return { certificate: certificate.toString('pem'), privateKey: await privateKeyPem(keys.privateKey), ca: rootPem };
}

/**
 * Signs a PEM PKCS#10 request for the names it asks for (its subjectAltName extension); the
 * requester keeps its key, so the bundle has no `privateKey`. Fails closed: a bad signature
 * (`LL_PKI_CSR_SIGNATURE_INVALID`), name types other than DNS and URI
 * (`LL_PKI_NAME_TYPE_UNSUPPORTED`) or names outside the tenant are refused.
 */
export async function signCertificateRequest(ca: CertificateAuthority, csrPem: string, options: IssueOptions = {}): Promise<PemBundle> {
  const request = parseCertificateRequest(csrPem);
  const policy = tenantPolicyOf(ca);
  if (!(await verifiesSafely(request))) {
    throw new LandlordError('LL_PKI_CSR_SIGNATURE_INVALID', 'the certificate request\'s signature does not verify with its own public key', {
      hint: 'the request was altered or built incorrectly; create a new one with the key it names',
    });
  }
  const names = requestedNames(sanItems(request.extensions));
  assertIssuancePermitted(policy, names);
  return signLeaf(ca, await request.publicKey.export(), names, options);
}

/**
 * Key rotation: a new key and a new certificate for the same names as `current`, which must
 * have been issued by `ca`. The old key is never reused.
 */
export async function renewLeafCertificate(ca: CertificateAuthority, currentPem: string, options: IssueOptions = {}): Promise<PemBundle> {
  const [current] = parseCertificates(currentPem, 'the current certificate');
  if (current === undefined || !(await isIssuedBy(current, ca.certificate))) {
    throw new LandlordError('LL_PKI_NOT_ISSUED_BY_CA', 'the certificate to renew was not issued by this CA');
  }
  const names = requestedNames(sanItems(current.extensions));
  return issueLeafCertificate(ca, names, { algorithm: algorithmOf(current), ...options });
}

/**
 * Assembles a signing CA from its files. Fails closed: the key must match the certificate
 * (`LL_PKI_KEY_MISMATCH`), the certificate must be a CA (`LL_PKI_NOT_A_CA`), and each certificate
 * in the chain must be signed by the next (`LL_PKI_CHAIN_INVALID`).
 */
export async function loadAuthority(bundle: PemBundle): Promise<CertificateAuthority> {
  if (bundle.privateKey === undefined) {
    throw new LandlordError('LL_PKI_KEY_MISSING', 'the CA has no private key (tls.key)');
  }
  const [certificate, ...intermediates] = parseCertificates(bundle.certificate, 'tls.crt');
  if (certificate === undefined) throw new LandlordError('LL_PKI_PEM_INVALID', 'tls.crt is empty');
  const key = parsePrivateKey(bundle.privateKey, 'tls.key');
  if (!sameBytes(key.publicKeySpki, new Uint8Array(certificate.publicKey.rawData))) {
    throw new LandlordError('LL_PKI_KEY_MISMATCH', 'tls.key is not the private key of the certificate in tls.crt');
  }
  if (certificate.getExtension(x509.BasicConstraintsExtension)?.ca !== true) {
    throw new LandlordError('LL_PKI_NOT_A_CA', `${certificate.subject} is not a CA certificate`);
  }
  const anchors = parseCertificates(bundle.ca, 'ca.crt');
  const selfSigned = await isIssuedBy(certificate, certificate);
  const chain = selfSigned ? [] : [...intermediates, ...anchors.filter((anchor) => !intermediates.some((c) => c.equal(anchor)))];
  for (const [index, child] of [certificate, ...chain].entries()) {
    const parent = chain[index];
    if (parent !== undefined && !(await isIssuedBy(child, parent))) {
      throw new LandlordError('LL_PKI_CHAIN_INVALID', `${child.subject} is not signed by ${parent.subject}`);
    }
  }
  return { certificate, key, chain };
}

/** The tenant a CA serves, read from its NameConstraints; the root has none and cannot issue leaves. */
export function tenantPolicyOf(ca: CertificateAuthority): TenantNamePolicy {
  const extension = ca.certificate.getExtension(nameConstraintsOid);
  if (extension === null || !extension.critical) {
    throw new LandlordError('LL_PKI_NOT_A_TENANT_CA', `${ca.certificate.subject} has no critical name constraints, so it issues no leaf certificates`, {
      hint: 'issue leaf certificates from a tenant CA (landlord pki tenant-ca), never from the root',
    });
  }
  return policyFromPermittedNames(decodePermittedNames(new Uint8Array(extension.value)));
}

async function signLeaf(ca: CertificateAuthority, publicKey: webcrypto.CryptoKey, names: RequestedNames, options: IssueOptions): Promise<PemBundle> {
  const usages = names.uri.length > 0 ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.serverAuth];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    // The subject is empty and the SAN critical (RFC 5280 §4.2.1.6): identity lives in SANs only,
    // so no verifier falls back to a CN that name constraints would judge differently.
    subject: new x509.Name([]),
    issuer: ca.certificate.subjectName,
    ...validityPeriod(options, defaultLifetimeDays.leaf, ca.certificate.notAfter),
    publicKey,
    signingKey: ca.key.signingKey,
    signingAlgorithm: signingParameters[ca.key.algorithm],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      new x509.SubjectAlternativeNameExtension(
        [...names.dns.map((value) => ({ type: 'dns' as const, value })), ...names.uri.map((value) => ({ type: 'url' as const, value }))],
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  const chain = ca.chain.slice(0, -1);
  return {
    certificate: [certificate, ca.certificate, ...chain].map((c) => c.toString('pem')).join('\n'),
    ca: ca.certificate.toString('pem'),
  };
}

function sanItems(extensions: readonly x509.Extension[]): readonly x509.GeneralName[] {
  const san = extensions.find((extension) => extension instanceof x509.SubjectAlternativeNameExtension);
  return san instanceof x509.SubjectAlternativeNameExtension ? san.names.items : [];
}

function requestedNames(items: readonly x509.GeneralName[]): RequestedNames {
  const other = items.find((item) => item.type !== 'dns' && item.type !== 'url');
  if (other) {
    throw new LandlordError('LL_PKI_NAME_TYPE_UNSUPPORTED', `subject alternative names of type ${other.type} (${other.value}) are not issued`, {
      hint: 'landlord issues DNS names and spiffe:// URIs only',
    });
  }
  return {
    dns: items.filter((item) => item.type === 'dns').map((item) => item.value),
    uri: items.filter((item) => item.type === 'url').map((item) => item.value),
  };
}

function validityPeriod(options: IssueOptions, defaultDays: number, issuerNotAfter?: Date): { notBefore: Date; notAfter: Date } {
  const now = (options.now ?? new Date()).getTime();
  const days = options.lifetimeDays ?? defaultDays;
  if (!Number.isFinite(days) || days <= 0) {
    throw new LandlordError('LL_PKI_LIFETIME_INVALID', `a certificate lifetime of ${days} days is not positive`);
  }
  const notAfter = Math.min(now + days * dayMs, issuerNotAfter?.getTime() ?? Infinity);
  return { notBefore: new Date(now - backdateMs), notAfter: new Date(notAfter) };
}

/** 128 random bits, positive and non-zero as RFC 5280 requires. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function verifiesSafely(request: x509.Pkcs10CertificateRequest): Promise<boolean> {
  try {
    return await request.verify();
  } catch {
    return false;
  }
}

async function toPrivateKey(keys: webcrypto.CryptoKeyPair): Promise<PrivateKey> {
  return parsePrivateKey(await privateKeyPem(keys.privateKey));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
