/**
 * Test support for the sidecar (imported by tests only): a platform root with tenants built by
 * src/pki at test time, certificate directories laid out the way kubelet mounts a Secret
 * (`..data` symlink to a timestamped directory, one symlink per file) and rotated the same way,
 * plus a log sink. Keys are generated per run and never written outside temporary directories.
 */
import { mkdtemp, mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  createRevocationList, createRootCa, createTenantCa, issueLeafCertificate, loadAuthority, revokeCertificate, tenantNamePolicy,
  type CertificateAuthority, type PemBundle,
} from '../pki/index.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import type { CredentialFiles } from './credentials.ts';

export interface TenantAuthority {
  readonly name: string;
  readonly bundle: PemBundle;
  readonly ca: CertificateAuthority;
  /** The tenant's current CRL (updated by `revoke`). */
  crl: string;
}

export interface TestPlatform {
  readonly root: PemBundle;
  tenant(name: string): Promise<TenantAuthority>;
  /** A workload certificate with a SPIFFE identity and/or DNS names. */
  issue(tenant: TenantAuthority, names: { dns?: string[]; uri?: string[] }, options?: { now?: Date; lifetimeDays?: number }): Promise<PemBundle>;
  revoke(tenant: TenantAuthority, certificate: string): Promise<void>;
  /** The files a sidecar of `tenant` mounts for `leaf` (Secret plus tenant trust bundle). */
  mountFiles(tenant: TenantAuthority, leaf: PemBundle): CredentialFiles;
  /** `peer-<name>.crt` and `.crl`: another tenant's trust bundle, projected next to them. */
  peerFiles(peer: TenantAuthority): Record<string, string>;
}

export async function testPlatform(): Promise<TestPlatform> {
  // Backdated so that certificates that expired days ago can still be issued under it.
  const now = new Date(Date.now() - 10 * 86_400_000);
  const root = await createRootCa({ now });
  const rootCa = await loadAuthority(root);
  // CRLs are signed now: a backdated CRL would already be past its nextUpdate (and fail closed).
  const rootCrl = await createRevocationList(rootCa, []);
  return {
    root,
    async tenant(name) {
      const bundle = await createTenantCa(rootCa, tenantNamePolicy(name, [`*.${name}.test`]), { now });
      const ca = await loadAuthority(bundle);
      return { name, bundle, ca, crl: await createRevocationList(ca, []) };
    },
    issue: (tenant, names, options = {}) => issueLeafCertificate(tenant.ca, { dns: names.dns ?? [], uri: names.uri ?? [] }, options),
    async revoke(tenant, certificate) {
      tenant.crl = await revokeCertificate(tenant.ca, tenant.crl, certificate);
    },
    peerFiles: (peer) => ({ [`peer-${peer.name}.crt`]: peer.bundle.certificate, [`peer-${peer.name}.crl`]: peer.crl }),
    mountFiles(tenant, leaf) {
      return {
        'tls.crt': leaf.certificate, 'tls.key': leaf.privateKey ?? '', 'ca.crt': tenant.bundle.certificate,
        'root.crt': root.certificate, 'ca.crl': tenant.crl, 'root.crl': rootCrl,
      };
    },
  };
}

/** A temporary directory; the caller removes it with `removeDirectory` when done. */
export function temporaryDirectory(prefix = 'landlord-sidecar-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export function removeDirectory(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

let generation = 0;

/**
 * Writes `files` the way kubelet's atomic writer does: into a fresh `..<timestamp>` directory,
 * then `..data` is replaced by rename (atomic), then the old directory is removed. The visible
 * names are symlinks through `..data`.
 */
export async function writeKubeletDirectory(dir: string, files: Readonly<Record<string, string | undefined>>): Promise<void> {
  generation += 1;
  const version = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${process.pid}.${generation}`;
  await mkdir(path.join(dir, version));
  for (const [name, content] of Object.entries(files)) if (content !== undefined) await writeFile(path.join(dir, version, name), content, { mode: 0o600 });
  const previous = await readlink(path.join(dir, '..data')).catch(() => undefined);
  await symlink(version, path.join(dir, '..data_tmp'));
  await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const name of Object.keys(files)) await symlink(path.join('..data', name), path.join(dir, name)).catch(() => undefined);
  if (previous !== undefined) await rm(path.join(dir, previous), { recursive: true, force: true });
}

export interface CapturedLog {
  readonly logger: Logger;
  /** Parsed JSON lines logged so far. */
  entries(): Record<string, unknown>[];
}

export function captureLog(component = 'sidecar'): CapturedLog {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((line) => line.length > 0));
      done();
    },
  });
  return { logger: createLogger({ component, stream, level: 'debug' }), entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
