import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createRootCa, issuePlatformServingCertificate, loadAuthority } from '../../pki/index.ts';

const main = path.join(import.meta.dirname, '..', 'main.ts');

describe('landlord webhook', () => {
  it('serves /healthz over TLS on the address it logs, and stops on SIGTERM', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'landlord-webhook-cli-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const root = await createRootCa();
    const serving = await issuePlatformServingCertificate(await loadAuthority(root), { dns: [], ip: ['127.0.0.1'] });
    await writeFile(path.join(dir, 'tls.crt'), serving.certificate);
    await writeFile(path.join(dir, 'tls.key'), serving.privateKey ?? '');
    const child = spawn(process.execPath, [main, 'webhook', '--cert-dir', dir, '--listen', '127.0.0.1:0'], { env: { ...process.env, KUBECONFIG: '' } });
    t.after(() => child.kill('SIGKILL'));
    let logged = '';
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        logged += chunk.toString();
        const match = /"address":"127\.0\.0\.1:(\d+)"/.exec(logged);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', () => reject(new Error(`landlord webhook exited: ${logged}`)));
    });
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: Number(address), path: '/healthz', ca: root.certificate }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => { text += chunk.toString(); });
        response.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, '{"status":"ok"}');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });

  it('refuses a --listen that is not host:port with a coded error', async () => {
    const child = spawn(process.execPath, [main, 'webhook', '--cert-dir', '/nonexistent', '--listen', 'nowhere']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(stderr, /error LL_ADMISSION_LISTEN_INVALID: --listen "nowhere" is not host:port/);
  });
});
