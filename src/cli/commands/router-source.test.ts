import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

const main = path.join(import.meta.dirname, '..', 'main.ts');

async function landlordRouter(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [main, 'router', '--listen-tls', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('landlord router: the route source', () => {
  const cases: [string, string[], RegExp][] = [
    ['refuses to start without a route source', [], /error LL_ROUTER_BAD_FLAG: no route source given\n {2}hint: give exactly one of --routes FILE, --kubeconfig FILE, --in-cluster/],
    ['refuses a routes file and a kubeconfig together', ['--routes', 'routes.yaml', '--kubeconfig', 'admin.kubeconfig'], /error LL_ROUTER_BAD_FLAG: more than one route source given/],
    ['refuses a kubeconfig together with --in-cluster', ['--kubeconfig', 'admin.kubeconfig', '--in-cluster'], /error LL_ROUTER_BAD_FLAG: more than one route source given/],
  ];
  for (const [title, args, expected] of cases) {
    it(title, async () => {
      const { code, stderr } = await landlordRouter(args);
      assert.equal(code, 1);
      assert.match(stderr, expected);
    });
  }

  it('says which API server it cannot reach', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'landlord-router-source-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = path.join(dir, 'unreachable.kubeconfig');
    // Port 1 on loopback: nothing listens there.
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: {} }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }));
    const { code, stderr } = await landlordRouter(['--kubeconfig', kubeconfig]);
    assert.equal(code, 1);
    assert.match(stderr, /error LL_ROUTER_KUBE_UNREACHABLE: cannot query API discovery at https:\/\/127\.0\.0\.1:1/);
  });
});
