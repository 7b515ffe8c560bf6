/**
 * Test support for src/pki (imported by *.test.ts only): fixture builders for a platform with
 * tenants, a real `openssl` runner and a real loopback TLS handshake. Keys are generated per run.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tls from 'node:tls';
import { createRootCa, createTenantCa, loadAuthority, type CertificateAuthority, type PemBundle } from './authority.ts';
import { tenantNamePolicy } from './names.ts';
import { generateKeyPair, privateKeyPem } from './pem.ts';
import * as x509 from '../shared/x509.ts';

export interface TenantFixture {
  readonly bundle: PemBundle;
  readonly ca: CertificateAuthority;
}

export interface PlatformFixture {
  readonly root: TenantFixture;
  tenant(name: string, ...domains: string[]): Promise<TenantFixture>;
}

export async function platform(): Promise<PlatformFixture> {
  const bundle = await createRootCa();
  const root = { bundle, ca: await loadAuthority(bundle) };
  return {
    root,
    async tenant(name, ...domains) {
      const tenantBundle = await createTenantCa(root.ca, tenantNamePolicy(name, domains.length ? domains : [`*.${name}.example`]));
      return { bundle: tenantBundle, ca: await loadAuthority(tenantBundle) };
    },
  };
}

/** A temporary directory removed when the test ends. */
export async function temporaryDirectory(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'landlord-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Outcome {
  readonly code: number;
  readonly output: string;
}

/** Runs `openssl` with PEM inputs written to files: `files` maps names used in `args` to contents. */
export async function openssl(dir: string, args: readonly string[], files: Record<string, string> = {}): Promise<Outcome> {
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  return run('openssl', args, dir);
}

export function run(command: string, args: readonly string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

export interface Endpoint {
  readonly certificate: string;
  readonly privateKey?: string;
}

export interface HandshakeOptions {
  readonly server: Endpoint & {
    /** Trust anchors for client certificates; with `partialChain` they may be intermediates. */
    readonly ca?: string | string[];
    readonly crl?: string | string[];
    readonly partialChain?: boolean;
    readonly requestCert?: boolean;
    readonly rejectUnauthorized?: boolean;
  };
  readonly client: Partial<Endpoint> & { readonly ca: string | string[] };
  readonly servername: string;
}

export interface HandshakeResult {
  /** What the client application received; "hello" when the whole exchange worked. */
  readonly received: string;
  readonly clientError?: NodeJS.ErrnoException;
  /** Set when the server application saw the connection (it never does when it rejects). */
  readonly server?: { readonly authorized: boolean; readonly authorizationError?: string };
}

/**
 * One real TLS connection over 127.0.0.1. The server's context comes through SNICallback
 * because tls.createServer does not forward `allowPartialTrustChain` (Node 26.10).
 */
export async function handshake(options: HandshakeOptions): Promise<HandshakeResult> {
  const { server: s } = options;
  const context = tls.createSecureContext({
    cert: s.certificate, key: s.privateKey, ca: s.ca, crl: s.crl, allowPartialTrustChain: s.partialChain ?? false,
  });
  let seen: HandshakeResult['server'];
  const server = tls.createServer(
    { SNICallback: (_name, done) => done(null, context), requestCert: s.requestCert ?? false, rejectUnauthorized: s.rejectUnauthorized ?? true },
    (socket) => {
      seen = { authorized: socket.authorized, authorizationError: socket.authorizationError?.toString() };
      socket.end('hello');
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const outcome = await new Promise<Omit<HandshakeResult, 'server'>>((resolve) => {
      let received = '';
      const socket = tls.connect({
        host: '127.0.0.1', port, servername: options.servername,
        ca: options.client.ca, cert: options.client.certificate, key: options.client.privateKey,
      });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => { received += chunk; });
      socket.on('error', (clientError: NodeJS.ErrnoException) => resolve({ received, clientError }));
      socket.on('close', () => resolve({ received }));
    });
    return { ...outcome, server: seen };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * A certificate signed with `tenant`'s CA key without asking landlord: what a stolen tenant CA key
 * could do. Returns the forged leaf followed by the tenant CA, and the leaf's key.
 */
export async function forgeWithTenantKey(tenant: TenantFixture, names: x509.JsonGeneralNames): Promise<Endpoint & { privateKey: string }> {
  const keys = await generateKeyPair('ecdsa-p256');
  const now = Date.now();
  const forged = await x509.X509CertificateGenerator.create({
    serialNumber: '0badc0de',
    subject: new x509.Name([]),
    issuer: tenant.ca.certificate.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: tenant.ca.key.signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension(names, true), new x509.BasicConstraintsExtension(false)],
  });
  return { certificate: `${forged.toString('pem')}\n${tenant.bundle.certificate}`, privateKey: await privateKeyPem(keys.privateKey) };
}
