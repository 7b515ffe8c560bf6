/**
 * The local cluster's bootstrap certificates: one CA that signs the API server's serving
 * certificate, the kubelet's, and client certificates for every component and user.
 *
 * Client identity follows Kubernetes' x509 authenticator: CN is the user name, O entries are the
 * groups. This is not the tenant PKI (src/pki): these certificates exist only to run the cluster.
 */
import type { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as x509 from '../shared/x509.ts';

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const dayMs = 86_400_000;

export interface PemPair {
  cert: string;
  key: string;
}

export interface ClusterCa extends PemPair {
  readonly certificate: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
}

export interface Identity {
  /** The Kubernetes user name (certificate CN). */
  user: string;
  /** Kubernetes groups (certificate O entries). */
  groups?: readonly string[];
}

export interface ServingNames {
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
}

export async function createClusterCa(commonName: string, lifetimeDays = 365): Promise<ClusterCa> {
  const keys = await generateKeys();
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: new x509.Name([{ CN: [commonName] }]),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + lifetimeDays * dayMs),
    keys,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, cert: certificate.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/** A client certificate that authenticates `identity` to the API server (or a kubelet). */
export function issueClientCertificate(ca: ClusterCa, identity: Identity, lifetimeDays = 365): Promise<PemPair> {
  const rdns: x509.JsonName = [{ CN: [identity.user] }, ...(identity.groups ?? []).map((group) => ({ O: [group] }))];
  return issue(ca, rdns, [x509.ExtendedKeyUsage.clientAuth], {}, lifetimeDays);
}

/** A serving certificate for the given names; usable as a client certificate too (kubelet). */
export function issueServingCertificate(
  ca: ClusterCa,
  commonName: string,
  names: ServingNames,
  lifetimeDays = 365,
): Promise<PemPair> {
  return issue(
    ca,
    [{ CN: [commonName] }],
    [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    names,
    lifetimeDays,
  );
}

/** The key pair that signs and verifies ServiceAccount tokens. */
export async function createServiceAccountKeys(): Promise<{ publicKey: string; privateKey: string }> {
  const keys = await generateKeys();
  const spki = await crypto.subtle.exportKey('spki', keys.publicKey);
  return {
    publicKey: x509.PemConverter.encode(spki, 'PUBLIC KEY'),
    privateKey: await privateKeyPem(keys.privateKey),
  };
}

async function issue(
  ca: ClusterCa,
  subject: x509.JsonName,
  usages: string[],
  names: ServingNames,
  lifetimeDays: number,
): Promise<PemPair> {
  const keys = await generateKeys();
  const now = Date.now();
  const altNames: x509.JsonGeneralName[] = [
    ...(names.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(names.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name(subject),
    issuer: ca.certificate.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + lifetimeDays * dayMs),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
    ],
  });
  return { cert: certificate.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
  return Buffer.from(bytes).toString('hex');
}

/** Loads a CA written by `createClusterCa` (certificate and PKCS#8 key PEM files). */
export async function loadClusterCa(certFile: string, keyFile: string): Promise<ClusterCa> {
  const cert = await readFile(certFile, 'utf8');
  const key = await readFile(keyFile, 'utf8');
  const certificate = new x509.X509Certificate(cert);
  const privateKey = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(key), ecdsa, true, ['sign']);
  const publicKey = await certificate.publicKey.export(ecdsa, ['verify']);
  return { certificate, keys: { privateKey, publicKey }, cert, key };
}
