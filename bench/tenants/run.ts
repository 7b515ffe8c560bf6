/**
 * Tenant operator at scale: `node bench/tenants/run.ts [tenants=1000] [namespacesPerTenant=2] [workers=8] [extra node flags for the operator...]`,
 * e.g. `node bench/tenants/run.ts 1000 2 8 --max-old-space-size=128`.
 *
 * Starts a local control plane of its own, runs `landlord controller` as a child process with the
 * node flags its Deployment sets (`controllerNodeFlags`; extra flags come after them), creates the tenants (32 creates in flight) and reports:
 * - the time from the first create until every tenant is Ready;
 * - the operator's API requests and writes per tenant (its own counters, one per HTTP request);
 * - the operator's peak RSS (VmHWM of the child process), and its RSS and V8 heap in use once
 *   every tenant is Ready (its own /metrics);
 * - its memory at the highest RSS sampled (its /metrics, once a second): V8 heap in use and
 *   reserved, young generation, Buffers, and the RSS outside the V8 heap;
 * - the writes during one steady-state resync of every tenant (should be 0).
 * The floor to compare with: this API server does about 1,000 server-side-apply writes/s.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { customResourceDefinitions } from '../../src/api/schema.ts';
import type { Tenant } from '../../src/api/tenant.ts';
import { startCluster } from '../../src/devcluster/index.ts';
import { controllerNodeFlags } from '../../src/install/index.ts';
import { KubeClient, fieldManager, isApiStatus, resources, type KubeObject } from '../../src/operator/index.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';
import { stopOnInterrupt } from '../support/interrupt.ts';
import { stopProcesses } from '../support/proc.ts';

const tenants = Number(process.argv[2] ?? 1000);
const namespacesPerTenant = Number(process.argv[3] ?? 2);
const workers = Number(process.argv[4] ?? 8);
const nodeFlags = process.argv.slice(5);
const resyncSeconds = 30;
const main = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

type TenantObject = Tenant & KubeObject;

const cluster = await startCluster({ name: 'bench-tenants', node: false });
const kube = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath), { maxSockets: 32 });
const port = await freePort();
const operator = spawn(process.execPath, [
  ...controllerNodeFlags, ...nodeFlags, main, 'controller', '--kubeconfig', cluster.kubeconfigPath, '--health-port', String(port), '--no-leader-elect', '--resync', String(resyncSeconds), '--workers', String(workers),
], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LANDLORD_LOG_LEVEL: process.env.LANDLORD_LOG_LEVEL ?? 'warn' } });
let highest: Memory | undefined;
const sampling = setInterval(() => {
  scrape().then(({ memory }) => {
    if (highest === undefined || memory.rss > highest.rss) highest = memory;
  }, () => {});
}, 1000);
const stopAll = stopOnInterrupt(async () => {
  clearInterval(sampling);
  await stopProcesses([operator]);
  kube.close();
  await cluster.stop();
});

try {
  for (const crd of customResourceDefinitions) await kube.apply(resources.customResourceDefinitions, crd as unknown as KubeObject, fieldManager);
  await until('the Tenant CRD to be served', 30_000, async () => {
    try {
      await kube.list(resources.tenants);
      return true;
    } catch (error) {
      if (isApiStatus(error, 404)) return false;
      throw error;
    }
  });
  await until('the operator to be ready', 60_000, async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200);

  const names = Array.from({ length: tenants }, (_, i) => `t${i}`);
  const started = performance.now();
  await inParallel(names, 32, (name) => kube.create(resources.tenants, {
    apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name },
    spec: { owners: { users: [`${name}-admin`] }, domains: [`*.${name}.example`], namespaces: Array.from({ length: namespacesPerTenant }, (_, n) => (n === 0 ? name : `${name}-${n}`)) },
  }));
  const created = performance.now();
  await until('every tenant to be Ready', 1_800_000, async () => (await readyCount()) === tenants, 2000);
  const ready = performance.now();
  const converged = await scrape();

  // A full resync of every tenant, after convergence: wait for the resync timer to reconcile them all.
  await sleep(3000);
  const before = await scrape();
  await until('a full resync', (resyncSeconds + 60) * 1000, async () => (await scrape()).reconciles >= before.reconciles + tenants, 500);
  await sleep(3000);
  const after = await scrape();
  const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${operator.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

  console.log(`landlord tenant operator bench — node ${process.version}, ${availableParallelism()} CPUs, Kubernetes 1.20.2 control plane`);
  console.log(`tenants: ${tenants} × ${namespacesPerTenant} namespaces (${tenants * namespacesPerTenant} namespaces), ${workers} operator workers`);
  console.log(`operator node flags as deployed: ${controllerNodeFlags.join(' ')}; extra node flags: ${nodeFlags.join(' ') || 'none'}`);
  console.log(`created all Tenants in ${((created - started) / 1000).toFixed(1)} s; all Ready after ${((ready - started) / 1000).toFixed(1)} s (${(tenants / ((ready - started) / 1000)).toFixed(1)} tenants/s)`);
  console.log(`operator API requests: ${converged.requests} (${(converged.requests / tenants).toFixed(1)} per tenant), of which writes ${converged.writes} (${(converged.writes / tenants).toFixed(1)} per tenant)`);
  console.log(`operator peak RSS: ${peakRss.toFixed(0)} MiB; once all Ready: RSS ${mib(converged.memory.rss)} MiB, V8 heap ${mib(converged.memory.heapUsed)} MiB in use of ${mib(converged.memory.heapTotal)} MiB reserved`);
  if (highest) {
    console.log(`at the highest RSS sampled (${mib(highest.rss)} MiB): V8 heap ${mib(highest.heapUsed)} MiB in use of ${mib(highest.heapTotal)} MiB reserved (young generation ${mib(highest.newSpace)} MiB), `
      + `external ${mib(highest.external)} MiB (Buffers ${mib(highest.arrayBuffers)} MiB); RSS outside the V8 heap ${mib(highest.rss - highest.heapTotal)} MiB`);
  }
  console.log(`steady-state resync: ${after.reconciles - before.reconciles} reconciles, ${after.writes - before.writes} writes, ${after.requests - before.requests} API requests`);
} finally {
  await stopAll();
}

async function readyCount(): Promise<number> {
  const { items } = await kube.list<TenantObject>(resources.tenants, { fromCache: true });
  return items.filter((t) => t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === t.metadata.generation)).length;
}

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  newSpace: number;
  external: number;
  arrayBuffers: number;
}

/** The operator's own counters: every HTTP request it sent, the writes among them, reconciles; its memory. */
async function scrape(): Promise<{ requests: number; writes: number; reconciles: number; memory: Memory }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (pattern: RegExp): number => [...text.matchAll(pattern)].reduce((total, m) => total + Number(m[1]), 0);
  return {
    requests: sum(/^landlord_operator_api_requests_total\{[^}]*\} (\d+)$/gm),
    writes: sum(/^landlord_operator_api_requests_total\{verb="(?:POST|PUT|PATCH|DELETE)"[^}]*\} (\d+)$/gm),
    reconciles: sum(/^landlord_operator_reconciles_total\{[^}]*\} (\d+)$/gm),
    memory: {
      rss: sum(/^process_resident_memory_bytes (\d+)$/gm),
      heapUsed: sum(/^nodejs_heap_size_used_bytes (\d+)$/gm),
      heapTotal: sum(/^nodejs_heap_size_total_bytes (\d+)$/gm),
      newSpace: sum(/^nodejs_heap_space_size_total_bytes\{space="new_space"\} (\d+)$/gm),
      external: sum(/^nodejs_external_memory_bytes (\d+)$/gm),
      arrayBuffers: sum(/^nodejs_array_buffers_bytes (\d+)$/gm),
    },
  };
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
