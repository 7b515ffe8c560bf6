/**
 * A sidecar's certificate directory, read into one immutable `Credentials` value. The directory
 * is the pod's projected volume (docs/sidecar.md): the workload's Secret (`tls.crt` leaf then
 * tenant CA, `tls.key`) and the tenant trust bundle (`ca.crt` tenant CA, `root.crt`, `ca.crl`,
 * `root.crl`). Another tenant's trust bundle may be projected as `peer-<tenant>.crt` (its CA) and
 * `peer-<tenant>.crl`: its workloads are then admitted (subject to the allow-list), and its CRL
 * lets chains through that CA be checked for revocation.
 *
 * Security stance: verification anchors on the platform root and loads both CRLs, because Node
 * checks revocation for every chain element once a CRL is loaded (docs/pki.md); the tenant is
 * then checked after the handshake by the issuer's fingerprint (policy.ts). Fails closed: a CRL
 * that cannot be applied (one of the pair, or without `root.crt`) is a configuration error, not
 * a silent downgrade to no revocation checking.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { LandlordError } from '../shared/errors.ts';
import type { TunnelCredentials } from './tunnel.ts';

export const credentialFileNames = ['tls.crt', 'tls.key', 'ca.crt', 'root.crt', 'ca.crl', 'root.crl'] as const;
export type CredentialFileName = (typeof credentialFileNames)[number];
export type CredentialFiles = Partial<Record<CredentialFileName, string>>;

/** Another tenant's CA (and CRL) mounted as `peer-<tenant>.crt` / `peer-<tenant>.crl`. */
export interface PeerTrust {
  readonly tenant: string;
  readonly certificate: string;
  readonly crl: string | undefined;
}

const peerFileName = /^peer-([a-z0-9]([a-z0-9-]*[a-z0-9])?)\.(crt|crl)$/;

export interface Credentials {
  /** `tls.crt`: this workload's certificate and the chain above it (never the root). */
  readonly certificate: string;
  readonly privateKey: string;
  /** `ca.crt`: the tenant CA; its fingerprint is the default trusted issuer. */
  readonly tenantCa: string;
  readonly tenantCaFingerprint: string;
  /** `root.crt`: the anchor peers are verified against; absent for TLS-only servers. */
  readonly root: string | undefined;
  /** `root.crl`, `ca.crl` and every peer tenant's CRL; all or nothing. */
  readonly crls: readonly string[];
  /** SHA-256 fingerprints of the peer tenants' CAs whose workloads may connect. */
  readonly peerCaFingerprints: readonly string[];
  /** Content digest: equal digests mean nothing to reload. */
  readonly digest: string;
  readonly notAfter: Date;
}

export interface CredentialNeeds {
  /** The peer's certificate will be verified (mutual TLS in server mode, always in client mode). */
  readonly verifyPeers: boolean;
}

function invalid(message: string, hint?: string): LandlordError {
  return new LandlordError('LL_SIDECAR_CREDENTIALS_INVALID', message, hint === undefined ? {} : { hint });
}

/** The ordered completeness rules: what must be mounted for the requested checks to work. */
function checkCompleteness(files: CredentialFiles, needs: CredentialNeeds, peers: readonly PeerTrust[]): { certificate: string; privateKey: string; tenantCa: string; crls: string[] } {
  const certificate = files['tls.crt'];
  const privateKey = files['tls.key'];
  const tenantCa = files['ca.crt'];
  if (certificate === undefined || privateKey === undefined) throw invalid('tls.crt and tls.key are required');
  if (tenantCa === undefined) throw invalid('ca.crt (the tenant CA) is required');
  const crls = [files['root.crl'], files['ca.crl']].filter((crl) => crl !== undefined);
  if (crls.length === 1) throw invalid('only one of ca.crl and root.crl is present', 'Node checks revocation for every chain element: mount both CRLs or neither');
  if (crls.length === 2 && files['root.crt'] === undefined) throw invalid('CRLs need root.crt as the trust anchor');
  if (needs.verifyPeers && files['root.crt'] === undefined) {
    throw invalid('root.crt is required to verify peers', 'mount the tenant trust bundle (ConfigMap landlord-tenant-ca) into the certificate directory');
  }
  for (const peer of peers) {
    if (crls.length === 2 && peer.crl === undefined) throw invalid(`peer-${peer.tenant}.crt has no peer-${peer.tenant}.crl`, 'with CRLs mounted, every trusted CA needs its CRL');
  }
  return { certificate, privateKey, tenantCa, crls };
}

/** Pure: validates the files and builds `Credentials`, or throws `LL_SIDECAR_CREDENTIALS_INVALID`. */
export function credentialsFromFiles(files: CredentialFiles, needs: CredentialNeeds, peers: readonly PeerTrust[] = []): Credentials {
  const { certificate, privateKey, tenantCa, crls } = checkCompleteness(files, needs, peers);
  let leaf: X509Certificate;
  let issuer: X509Certificate;
  let peerCaFingerprints: string[];
  try {
    leaf = new X509Certificate(certificate);
    issuer = new X509Certificate(tenantCa);
    peerCaFingerprints = peers.map((peer) => new X509Certificate(peer.certificate).fingerprint256);
  } catch (cause) {
    throw new LandlordError('LL_SIDECAR_CREDENTIALS_INVALID', 'tls.crt, ca.crt or a peer-*.crt is not a PEM certificate', { cause });
  }
  const peerText = peers.map((peer) => `${peer.tenant}\0${peer.certificate}\0${peer.crl ?? ''}\0`).join('');
  const credentials: Credentials = {
    certificate, privateKey, tenantCa, tenantCaFingerprint: issuer.fingerprint256, root: files['root.crt'],
    crls: crls.length === 2 ? [...crls, ...peers.map((peer) => peer.crl ?? '')] : crls,
    peerCaFingerprints,
    digest: createHash('sha256').update(credentialFileNames.map((name) => `${name}\0${files[name] ?? ''}\0`).join('') + peerText).digest('hex'),
    notAfter: new Date(leaf.validTo),
  };
  try {
    tls.createSecureContext(serverContextOptions(credentials));
  } catch (cause) {
    throw new LandlordError('LL_SIDECAR_CREDENTIALS_INVALID', `the certificate files do not form a usable TLS context: ${(cause as Error).message}`, { cause });
  }
  return credentials;
}

/** Options for a TLS context that presents our certificate and verifies peers against the root. */
export function serverContextOptions(credentials: Credentials): tls.SecureContextOptions {
  return {
    cert: credentials.certificate,
    key: credentials.privateKey,
    ...(credentials.root === undefined ? {} : { ca: credentials.root }),
    ...(credentials.crls.length === 0 ? {} : { crl: [...credentials.crls] }),
  };
}

/** Reads the directory (following kubelet's `..data` symlinks) and validates it. */
export async function readCredentials(dir: string, needs: CredentialNeeds): Promise<Credentials> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new LandlordError('LL_SIDECAR_CREDENTIALS_INVALID', `cannot read the certificate directory ${dir}: ${error.code ?? error.message}`, {
      cause: error, hint: 'mount the workload Secret and the tenant trust bundle there (docs/sidecar.md)',
    });
  });
  const files: CredentialFiles = {};
  for (const name of credentialFileNames) {
    try {
      files[name] = await readFile(path.join(dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new LandlordError('LL_SIDECAR_CREDENTIALS_INVALID', `cannot read ${path.join(dir, name)}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  return credentialsFromFiles(files, needs, await readPeers(dir, entries));
}

/** `peer-<tenant>.crt` / `.crl` pairs in the directory, by tenant name. */
async function readPeers(dir: string, entries: readonly string[]): Promise<PeerTrust[]> {
  const byTenant = new Map<string, { crt?: string; crl?: string }>();
  for (const entry of [...entries].sort()) {
    const match = peerFileName.exec(entry);
    if (!match) continue;
    const tenant = match[1] ?? '';
    const pem = await readFile(path.join(dir, entry), 'utf8');
    byTenant.set(tenant, { ...byTenant.get(tenant), [match[3] === 'crt' ? 'crt' : 'crl']: pem });
  }
  return [...byTenant].map(([tenant, files]) => {
    if (files.crt === undefined) throw invalid(`peer-${tenant}.crl has no peer-${tenant}.crt`);
    return { tenant, certificate: files.crt, crl: files.crl };
  });
}

/**
 * Credentials for `landlord connect`: anchors from `caFile` (the platform root or a tenant CA),
 * else from the certificate directory's `root.crt` or `ca.crt`; a client certificate from
 * `certDir` when given (mutual TLS).
 */
export async function readConnectCredentials(caFile: string | undefined, certDir: string | undefined): Promise<TunnelCredentials> {
  const optional = (file: string): Promise<string | undefined> => readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new LandlordError('LL_CONNECT_CREDENTIALS_INVALID', `cannot read ${file}: ${error.message}`, { cause: error });
  });
  const fromDir = (name: string): Promise<string | undefined> => (certDir === undefined ? Promise.resolve(undefined) : optional(path.join(certDir, name)));
  const ca = caFile !== undefined ? await optional(caFile) : ((await fromDir('root.crt')) ?? (await fromDir('ca.crt')));
  if (ca === undefined) {
    throw new LandlordError('LL_CONNECT_CREDENTIALS_INVALID', caFile === undefined ? 'no CA to verify the service with' : `${caFile} does not exist`, {
      hint: 'pass --ca with the platform root (or the tenant CA), or --cert with a directory holding root.crt or ca.crt',
    });
  }
  const certificate = await fromDir('tls.crt');
  const privateKey = await fromDir('tls.key');
  if (certDir !== undefined && (certificate === undefined || privateKey === undefined)) {
    throw new LandlordError('LL_CONNECT_CREDENTIALS_INVALID', `${certDir} needs tls.crt and tls.key for a client certificate`);
  }
  return { ca, crls: [], ...(certificate === undefined ? {} : { certificate, privateKey }) };
}
