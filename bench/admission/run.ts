/**
 * Admission latency through the real API server: pod creates (server-side dry run, so nothing
 * accumulates) sent at a steady rate for a bounded duration, open loop (a request is sent on
 * schedule whether or not earlier ones have answered), p50/p99 of the client-observed latency.
 *
 * Side by side in the same run: the same requests into a namespace no webhook selects (the API
 * server alone), then into a tenant namespace where the mutating and validating webhooks are
 * called, reported as a difference and a ratio. The tenant namespace has a sidecar Route whose
 * Service selects the pods, so every create also gathers Routes and Services and gets a TLS
 * sidecar injected (the heaviest mutation path). The webhook runs as its own process
 * (`landlord webhook`), as in production, so it does not share the load generator's event loop.
 * A plain script, not a test:
 *   node bench/admission/run.ts [requestsPerSecond=200] [seconds=15]
 */
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import https from 'node:https';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { webhookConfigurations } from '../../src/admission/index.ts';
import { startCluster } from '../../src/devcluster/index.ts';
import { createRootCa, issuePlatformServingCertificate, loadAuthority } from '../../src/pki/index.ts';
import { tenantFixture, waitUntilCalled } from '../../test/support/admission.ts';
import { installCrds } from '../../test/support/tenants.ts';
import { cpuSeconds } from '../support/proc.ts';

const rate = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 15);

/** A pod the mutating webhook patches (no pull policy, no seccomp; a sidecar in the tenant namespace) and the validating one then admits. */
const defaultablePod = (index: number) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `bench-${index}`, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'app', image: 'registry.example/app:1', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

interface Result {
  latencies: number[];
  /** Answers showing the mutating webhook's defaults: proof the webhooks were on the path. */
  mutated: number;
  /** Answers carrying an injected TLS sidecar. */
  injected: number;
  failures: number;
  firstFailure?: string;
}

async function steadyLoad(config: KubeConfig, namespace: string): Promise<Result> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster');
  const url = new URL(`/api/v1/namespaces/${namespace}/pods?dryRun=All`, cluster.server);
  const options: https.RequestOptions = { method: 'POST', host: url.hostname, port: url.port, path: `${url.pathname}${url.search}` };
  await config.applyToHTTPSOptions(options);
  options.agent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(rate * seconds);
  const result: Result = { latencies: [], mutated: 0, injected: 0, failures: 0 };
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let index = 0; index < total; index++) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(new Promise<void>((resolve) => {
      const body = defaultablePod(index);
      const sent = performance.now();
      const request = https.request({ ...options, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode === 201) {
            result.latencies.push(performance.now() - sent);
            if (Buffer.concat(chunks).includes('RuntimeDefault')) result.mutated++;
            if (Buffer.concat(chunks).includes('landlord-sidecar-0')) result.injected++;
          }
          else {
            result.failures++;
            result.firstFailure ??= `${response.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`;
          }
          resolve();
        });
      });
      request.setTimeout(30_000, () => request.destroy(new Error('timed out')));
      request.on('error', (error) => {
        result.failures++;
        result.firstFailure ??= error.message;
        resolve();
      });
      request.end(body);
    }));
  }
  await Promise.all(inFlight);
  options.agent.destroy();
  return result;
}

/** The webhook's own review-duration buckets (its /metrics), summed over webhooks and outcomes: upper bound in seconds → cumulative count. */
async function webhookBuckets(port: string, ca: string): Promise<Map<string, number>> {
  const text = await new Promise<string>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/metrics', ca, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
  const buckets = new Map<string, number>();
  for (const match of text.matchAll(/^landlord_admission_review_seconds_bucket\{.*le="([^"]+)"\} (\d+)$/gm)) {
    buckets.set(match[1]!, (buckets.get(match[1]!) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/** The smallest bucket bound holding `p` percent of the reviews between two scrapes, as text. */
function bucketPercentile(before: Map<string, number>, after: Map<string, number>, p: number): string {
  const deltas = [...after].map(([bound, count]) => [bound, count - (before.get(bound) ?? 0)] as const);
  const total = deltas.find(([bound]) => bound === '+Inf')?.[1] ?? 0;
  const bound = deltas.find(([, count]) => count >= (p / 100) * total)?.[0];
  return bound === undefined || bound === '+Inf' ? `> the largest bound` : `≤ ${Number(bound) * 1000} ms`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(result: Result): { p50: number; p99: number } {
  const sorted = [...result.latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const cluster = await startCluster({ name: 'bench-admission', node: false });
try {
  const admin = cluster.kubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'plain' } } });
  await installCrds(admin);
  const tenant = await tenantFixture(cluster, 'benchacme');
  const custom = admin.makeApiClient(CustomObjectsApi);
  await custom.createClusterCustomObject({ group: 'landlord.dev', version: 'v1alpha1', plural: 'tenants', body: { apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'benchacme' }, spec: { owners: {}, domains: ['*.benchacme.example'] } } });
  await core.createNamespacedService({ namespace: tenant.namespace, body: { metadata: { name: 'bench' }, spec: { selector: { app: 'bench' }, ports: [{ port: 80, targetPort: 'http' }] } } });
  await custom.createNamespacedCustomObject({ group: 'landlord.dev', version: 'v1alpha1', namespace: tenant.namespace, plural: 'routes', body: { apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name: 'bench' }, spec: { hostname: 'bench.benchacme.example', protocol: 'tls', backend: { service: 'bench', port: 80 } } } });
  while (!(await core.readNamespacedServiceAccount({ namespace: 'plain', name: 'default' }).then(() => true, () => false))) await sleep(200);
  const certDir = await mkdtemp(path.join(tmpdir(), 'landlord-webhook-bench-'));
  const root = await createRootCa();
  const serving = await issuePlatformServingCertificate(await loadAuthority(root), { dns: [], ip: ['127.0.0.1'] });
  await writeFile(path.join(certDir, 'tls.crt'), serving.certificate);
  await writeFile(path.join(certDir, 'tls.key'), serving.privateKey ?? '');
  const main = path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  const webhook = spawn(process.execPath, [main, 'webhook', '--cert-dir', certDir, '--listen', '127.0.0.1:0'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let logged = '';
      webhook.stderr.on('data', (chunk: Buffer) => {
        logged += chunk.toString();
        const match = /"address":"127\.0\.0\.1:(\d+)"/.exec(logged);
        if (match?.[1]) resolve(match[1]);
      });
      webhook.once('exit', () => reject(new Error(`landlord webhook exited: ${logged}`)));
    });
    const { mutating, validating } = webhookConfigurations({ client: { url: `https://127.0.0.1:${port}`, caPem: root.certificate }, tenants: ['benchacme'] });
    const registrations = admin.makeApiClient(AdmissionregistrationV1Api);
    await registrations.createMutatingWebhookConfiguration({ body: mutating });
    await registrations.createValidatingWebhookConfiguration({ body: validating });
    await waitUntilCalled(cluster, tenant.namespace);
    const ofProcess = (pid: number) => () => cpuSeconds(pid);
    const processes = [
      ...cluster.daemons().filter((daemon) => daemon.name === 'kube-apiserver' || daemon.name === 'etcd').map((daemon) => ({ name: daemon.name, cpu: ofProcess(daemon.pid) })),
      { name: 'webhook', cpu: ofProcess(webhook.pid ?? 0) },
      // This process alone: the webhook is its child, so not its process tree.
      { name: 'load generator', cpu: () => { const usage = process.cpuUsage(); return (usage.user + usage.system) / 1e6; } },
    ];
    /** The load into `namespace` and the CPU seconds each process spent per 1,000 pod creates meanwhile. */
    const measured = async (namespace: string) => {
      const before = processes.map((measure) => measure.cpu());
      const result = await steadyLoad(admin, namespace);
      const per1000 = processes.map((measure, i) => `${measure.name} ${((measure.cpu() - (before[i] ?? 0)) * 1000 / (rate * seconds)).toFixed(2)} s`);
      return { ...result, cpu: per1000.join(', ') };
    };
    // Warm both paths (connections, caches) before measuring.
    await steadyLoad(admin, 'plain');
    const without = await measured('plain');
    await steadyLoad(admin, tenant.namespace);
    const reviewsBefore = await webhookBuckets(port, root.certificate);
    const withWebhook = await measured(tenant.namespace);
    const reviewsAfter = await webhookBuckets(port, root.certificate);
    const a = summary(without);
    const b = summary(withWebhook);
    console.log(`admission latency, ${rate} pod creates/s (dry run) for ${seconds} s each, ${availableParallelism()} CPUs, open loop, load average ${loadavg()[0]?.toFixed(1)} at the end`);
    console.log(`  API server alone      p50 ${a.p50.toFixed(2)} ms   p99 ${a.p99.toFixed(2)} ms   (${without.latencies.length} ok, ${without.mutated} mutated, ${without.failures} failed)`);
    console.log(`  with landlord webhooks p50 ${b.p50.toFixed(2)} ms   p99 ${b.p99.toFixed(2)} ms   (${withWebhook.latencies.length} ok, ${withWebhook.mutated} mutated, ${withWebhook.injected} with a sidecar, ${withWebhook.failures} failed)`);
    console.log(`  difference            p50 +${(b.p50 - a.p50).toFixed(2)} ms   p99 +${(b.p99 - a.p99).toFixed(2)} ms`);
    console.log(`  ratio                 p50 ×${(b.p50 / a.p50).toFixed(2)}   p99 ×${(b.p99 / a.p99).toFixed(2)}`);
    console.log(`  the webhook's own time per review, arrival to answer (its /metrics buckets): p50 ${bucketPercentile(reviewsBefore, reviewsAfter, 50)}, p99 ${bucketPercentile(reviewsBefore, reviewsAfter, 99)} (${(reviewsAfter.get('+Inf') ?? 0) - (reviewsBefore.get('+Inf') ?? 0)} reviews)`);
    console.log(`  CPU per 1,000 creates, API server alone: ${without.cpu}`);
    console.log(`  CPU per 1,000 creates, with webhooks:    ${withWebhook.cpu}`);
    for (const [label, result] of [['alone', without], ['webhooks', withWebhook]] as const) {
      if (result.firstFailure) console.log(`  first failure (${label}): ${result.firstFailure}`);
    }
  } finally {
    webhook.kill('SIGTERM');
    await rm(certDir, { recursive: true, force: true });
  }
} finally {
  await cluster.stop();
}
