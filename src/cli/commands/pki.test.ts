import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = new URL('../main.ts', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function openssl(cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('openssl', args, { cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const ok = (result: Run) => assert.equal(result.code, 0, result.stderr);

describe('landlord pki (end to end)', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'landlord-pki-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('builds a root, a tenant CA and leaves that OpenSSL verifies', async () => {
    ok(await run(dir, 'pki', 'init-root', '--out', 'root'));
    ok(await run(dir, 'pki', 'tenant-ca', '--root', 'root', '--tenant', 'acme', '--domain', '*.acme.example', '--out', 'acme'));
    ok(await run(dir, 'pki', 'issue', '--ca', 'acme', '--dns', 'db.acme.example', '--out', 'db'));
    ok(await run(dir, 'pki', 'issue', '--ca', 'acme', '--uri', 'spiffe://acme.landlord.local/ns/shop/sa/api', '--out', 'api'));
    assert.equal((await stat(path.join(dir, 'acme', 'tls.key'))).mode & 0o777, 0o600);
    const leaf = (await readFile(path.join(dir, 'db', 'tls.crt'), 'utf8')).split(/(?<=-----END CERTIFICATE-----\n)/)[0] ?? '';
    assert.match(leaf, /^-----BEGIN CERTIFICATE-----/);
    const verified = await openssl(dir, 'verify', '-CAfile', 'root/tls.crt', '-untrusted', 'acme/tls.crt', 'api/tls.crt');
    assert.match(verified.stdout, /api\/tls\.crt: OK/);
  });

  it('revokes a certificate so that openssl verify -crl_check refuses it', async () => {
    ok(await run(dir, 'pki', 'revoke', '--ca', 'acme', '--cert', 'api/tls.crt'));
    const verified = await openssl(dir, 'verify', '-crl_check', '-CAfile', 'root/tls.crt', '-untrusted', 'acme/tls.crt', '-CRLfile', 'acme/ca.crl', 'api/tls.crt');
    assert.notEqual(verified.code, 0);
    assert.match(verified.stdout + verified.stderr, /certificate revoked/);
  });

  it('inspects a directory: chain, names, constraints and the CRL', async () => {
    const inspected = await run(dir, 'pki', 'inspect', 'acme');
    ok(inspected);
    assert.match(inspected.stdout, /permitted:\s+DNS:acme\.example, URI:acme\.landlord\.local \(critical\)/);
    assert.match(inspected.stdout, /sha256:\s+([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    assert.match(inspected.stdout, /CRL from CN=acme tenant CA, O=landlord[\s\S]*revoked:\s+[0-9a-f]+/);
    assert.doesNotMatch(inspected.stdout, /PRIVATE KEY/);
  });

  it('refuses another tenant\'s name with a specific error, exit code 1 and no files', async () => {
    const refused = await run(dir, 'pki', 'issue', '--ca', 'acme', '--dns', 'x.globex.example', '--out', 'stolen');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error LL_PKI_NAME_NOT_PERMITTED: DNS name x\.globex\.example is outside tenant acme's domains/m);
    await assert.rejects(stat(path.join(dir, 'stolen')), { code: 'ENOENT' });
  });

  it('refuses to overwrite a key without --force and overwrites it with --force', async () => {
    const original = await readFile(path.join(dir, 'root', 'tls.key'), 'utf8');
    const refused = await run(dir, 'pki', 'init-root', '--out', 'root');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error LL_PKI_KEY_EXISTS: .*root\/tls\.key already exists\n\s+hint: .*--force/);
    assert.equal(await readFile(path.join(dir, 'root', 'tls.key'), 'utf8'), original);
    ok(await run(dir, 'pki', 'init-root', '--out', 'root', '--force'));
    assert.notEqual(await readFile(path.join(dir, 'root', 'tls.key'), 'utf8'), original);
  });

  it('refuses a malformed tenant domain', async () => {
    const refused = await run(dir, 'pki', 'tenant-ca', '--root', 'root', '--tenant', 'evil', '--domain', 'a.*.example', '--out', 'evil');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error LL_PKI_DOMAIN_INVALID/);
  });

  it('refuses a CA directory that does not exist', async () => {
    const refused = await run(dir, 'pki', 'issue', '--ca', 'nowhere', '--dns', 'db.acme.example', '--out', 'x');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error LL_PKI_DIRECTORY_MISSING/);
  });

  it('explains usage when a required option is missing', async () => {
    const refused = await run(dir, 'pki', 'issue', '--dns', 'db.acme.example', '--out', 'x');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /required option '--ca <dir>' not specified/);
  });
});
