import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const main = path.join(import.meta.dirname, 'main.ts');

async function landlord(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [main, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('landlord CLI', () => {
  it('lists its commands in --help', async () => {
    const { code, stdout } = await landlord(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /cluster\s+Manage the local single-node Kubernetes cluster/);
  });

  it('explains each cluster subcommand in its own --help', async () => {
    const { code, stdout } = await landlord(['cluster', 'up', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--no-node\s+start only the control plane/);
  });

  it('reports that no local cluster is running, with exit code 3', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'landlord-home-'));
    try {
      const { code, stdout } = await landlord(['cluster', 'status'], { LANDLORD_HOME: home });
      assert.equal(code, 3);
      assert.match(stdout, /not running \(start it with `landlord cluster up`\)/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('runs `landlord status`, which delegates to `cluster status`, with exit code 3 when nothing runs', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'landlord-home-'));
    try {
      const { code, stdout, stderr } = await landlord(['status'], { LANDLORD_HOME: home });
      assert.equal(code, 3, stderr);
      assert.match(stdout, /not running \(start it with `landlord cluster up`\)/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('names the error code when there is no cluster to give a kubeconfig for', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'landlord-home-'));
    try {
      const { code, stderr } = await landlord(['cluster', 'kubeconfig'], { LANDLORD_HOME: home });
      assert.equal(code, 1);
      assert.match(stderr, /^error LL_DEVCLUSTER_NOT_FOUND: no cluster in .*\n  hint: start one with `landlord cluster up`/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('requires a domain for `tenant create` before it reads any credentials, and states each default once in its --help', async () => {
    const missing = await landlord(['tenant', 'create', 'acme', '--kubeconfig', '/nonexistent']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /required option '--domain <domain>' not specified/);
    const { code, stdout } = await landlord(['tenant', 'create', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--namespace <name>[\s\S]*?\(default: <name>\)/);
    assert.doesNotMatch(stdout, /default: \[\]/);
  });

  it('rejects an unknown command and points at --help', async () => {
    const { code, stderr } = await landlord(['frobnicate']);
    assert.notEqual(code, 0);
    assert.match(stderr, /unknown command 'frobnicate'/);
  });

  // `controller --help` loads the same module graph as running it: its action has no dynamic imports.
  it('runs the controller without loading @kubernetes/client-node, which other commands load', async () => {
    const controller = await landlord(['controller', '--help'], { NODE_OPTIONS: `--import ${reportClientNode}` });
    assert.equal(controller.code, 0);
    assert.doesNotMatch(controller.stderr, /client-node loaded/);
    const router = await landlord(['router', '--help'], { NODE_OPTIONS: `--import ${reportClientNode}` });
    assert.equal(router.code, 0);
    assert.match(router.stderr, /client-node loaded/);
  });
});

/** A module hook that reports on stderr when @kubernetes/client-node is resolved. */
const reportClientNode = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
registerHooks({ resolve(specifier, context, next) {
  const resolved = next(specifier, context);
  if (resolved.url.includes('/@kubernetes/client-node/')) process.stderr.write('client-node loaded\\n');
  return resolved;
} });
`)}`;
