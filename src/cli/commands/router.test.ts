import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = path.join(import.meta.dirname, '..', 'main.ts');

interface Exited {
  code: number | null;
  stderr: string;
}

function landlord(args: string[]): { child: ReturnType<typeof spawn>; exited: Promise<Exited> } {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exited>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, exited };
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('landlord router (CLI)', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'landlord-router-cli-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('refuses an invalid routes file, naming the field, with exit code 1', async () => {
    const routes = path.join(work, 'bad.yaml');
    writeFileSync(routes, 'routes:\n  - hostname: app.test\n    backends: ["not-an-address"]\n');
    const { exited } = landlord(['router', '--routes', routes, '--listen-tls', '127.0.0.1:0']);
    const { code, stderr } = await exited;
    assert.equal(code, 1);
    assert.match(stderr, /error LL_ROUTER_ROUTES_INVALID: .*routes\[0\]\.backends\[0\]/);
  });

  it('refuses to start without a listener', async () => {
    const routes = path.join(work, 'ok.yaml');
    writeFileSync(routes, 'routes: []\ndefault: reject\n');
    const { code, stderr } = await landlord(['router', '--routes', routes]).exited;
    assert.equal(code, 1);
    assert.match(stderr, /error LL_ROUTER_BAD_FLAG: no listener requested/);
  });

  it('serves /healthz and exits cleanly on SIGTERM', async () => {
    const routes = path.join(work, 'serve.yaml');
    writeFileSync(routes, 'routes:\n  - hostname: app.test\n    backends: ["127.0.0.1:9"]\ndefault: reject\n');
    const metricsPort = await freePort();
    const { child, exited } = landlord(['router', '--routes', routes, '--listen-tls', '127.0.0.1:0', '--metrics', `127.0.0.1:${metricsPort}`]);
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
      status = await fetch(`http://127.0.0.1:${metricsPort}/healthz`).then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 200);
    child.kill('SIGTERM');
    assert.equal((await exited).code, 0);
  });
});
