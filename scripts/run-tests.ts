/**
 * Runs landlord's test suites with node:test.
 *
 *   unit         src/**\/*.test.ts — pure and loopback-only tests, run in parallel
 *   integration  test/integration — one shared control-plane cluster for the whole suite
 *   e2e          test/e2e — one shared cluster with a node (containerd, kubelet, kube-proxy)
 *   protocols    test/protocols — real PostgreSQL/MariaDB/RabbitMQ/HTTP servers and clients through
 *                the edge router and the TLS sidecar on 127.0.0.1, one file at a time (no cluster)
 *   all          all of them in order (default)
 *
 * Suites that need a cluster get it through LANDLORD_TEST_CLUSTER_DIR (see test/support/cluster.ts).
 * The cluster's logs are copied to .landlord/test-logs/<suite> before it stops.
 * Ends with one line `tests: N passed, N failed, N skipped` for the whole run.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeError } from '../src/shared/errors.ts';
import { startCluster, type DevCluster } from '../src/devcluster/index.ts';

type Suite = 'unit' | 'integration' | 'e2e' | 'protocols';
interface SuiteSpec {
  patterns: string[];
  concurrency: number;
  cluster?: { node: boolean };
  /** Tests that run after the suite's cluster stopped, told what it was by LANDLORD_TEST_STOPPED_CLUSTER. */
  afterStop?: string[];
}
const suites: Record<Suite, SuiteSpec> = {
  unit: { patterns: ['src/**/*.test.ts'], concurrency: 2 },
  integration: { patterns: ['test/integration/**/*.test.ts'], concurrency: 1, cluster: { node: false } },
  e2e: { patterns: ['test/e2e/**/*.test.ts'], concurrency: 1, cluster: { node: true }, afterStop: ['test/teardown/**/*.test.ts'] },
  protocols: { patterns: ['test/protocols/**/*.test.ts'], concurrency: 1 },
};

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const root = path.resolve(import.meta.dirname, '..');
const requested = process.argv[2] ?? 'all';
const order: Suite[] = requested === 'all' ? ['unit', 'integration', 'e2e', 'protocols'] : [requested as Suite];
if (!order.every((suite) => suite in suites)) {
  console.error(`usage: run-tests.ts [unit|integration|e2e|protocols|all] [node --test args…]`);
  process.exit(2);
}

const total: Counts = { passed: 0, failed: 0, skipped: 0 };
for (const suite of order) {
  const counts = await runSuite(suite, process.argv.slice(3));
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
}
console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exitCode = total.failed > 0 ? 1 : 0;

async function runSuite(suite: Suite, extraArgs: string[]): Promise<Counts> {
  const spec = suites[suite];
  const work = mkdtempSync(path.join(tmpdir(), `landlord-${suite}-`));
  const tapFile = path.join(work, 'results.tap');
  let cluster: DevCluster | undefined;
  const env = { ...process.env };
  try {
    if (spec.cluster) {
      const started = Date.now();
      console.log(`${suite}: starting a shared cluster${spec.cluster.node ? ' with a node' : ''}…`);
      cluster = await startCluster({ name: `test-${suite}`, node: spec.cluster.node, onProgress: (m) => console.log(`  ${m}`) });
      console.log(`${suite}: cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${cluster.dir})`);
      env.LANDLORD_TEST_CLUSTER_DIR = cluster.dir;
    }
    const counts = await runTests(spec.patterns, spec.concurrency, extraArgs, env, tapFile);
    if (cluster) {
      const stopped = { dir: cluster.dir, pids: cluster.daemons().map((d) => d.pid) };
      await stopKeepingLogs(cluster, suite);
      cluster = undefined;
      if (spec.afterStop) {
        const afterCounts = await runTests(spec.afterStop, 1, extraArgs, { ...env, LANDLORD_TEST_STOPPED_CLUSTER: JSON.stringify(stopped) }, tapFile);
        counts.passed += afterCounts.passed;
        counts.failed += afterCounts.failed;
        counts.skipped += afterCounts.skipped;
      }
    }
    return counts;
  } catch (error) {
    console.error(`${suite}: ${describeError(error)}`);
    return { passed: 0, failed: 1, skipped: 0 };
  } finally {
    if (cluster) await stopKeepingLogs(cluster, suite);
    rmSync(work, { recursive: true, force: true });
  }
}

async function runTests(patterns: string[], concurrency: number, extraArgs: string[], env: NodeJS.ProcessEnv, tapFile: string): Promise<Counts> {
  const code = await run(process.execPath, [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...extraArgs,
    ...patterns,
  ], env);
  const counts = parseTap(tapFile);
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // the runner failed outside any test
  return counts;
}

/** Copies the cluster's logs to .landlord/test-logs/<suite> (kept for CI artifacts), then stops it. */
async function stopKeepingLogs(cluster: DevCluster, suite: Suite): Promise<void> {
  const keep = path.join(root, '.landlord', 'test-logs', suite);
  rmSync(keep, { recursive: true, force: true });
  if (existsSync(cluster.logsDir)) {
    mkdirSync(keep, { recursive: true });
    cpSync(cluster.logsDir, keep, { recursive: true });
  }
  await cluster.stop();
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function parseTap(file: string): Counts {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const count = (name: string): number => Number(/^# (\w+) (\d+)$/m.exec(text.split('\n').filter((l) => l.startsWith(`# ${name} `)).pop() ?? '')?.[2] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
}
