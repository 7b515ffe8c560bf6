import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, it } from 'node:test';

const cli = path.resolve(import.meta.dirname, '../main.ts');

async function landlord(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr };
}

describe('landlord sidecar and landlord connect', () => {
  it('refuses to start without certificates, naming the problem', async () => {
    const result = await landlord(['sidecar', 'server', '--listen', '127.0.0.1:0', '--app', '127.0.0.1:1', '--cert-dir', '/nonexistent/landlord']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /LL_SIDECAR_CREDENTIALS_INVALID: cannot read the certificate directory \/nonexistent\/landlord: ENOENT/);
  });

  it('refuses an unknown client authentication mode', async () => {
    const result = await landlord(['sidecar', 'server', '--listen', '127.0.0.1:0', '--app', '127.0.0.1:1', '--cert-dir', '/tmp', '--client-auth', 'optional']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /LL_SIDECAR_BAD_FLAG: --client-auth must be none or required/);
  });

  it('refuses landlord connect without a CA to verify the service', async () => {
    const result = await landlord(['connect', 'db.acme.test', '--router', '127.0.0.1:1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /LL_CONNECT_CREDENTIALS_INVALID/);
  });
});
