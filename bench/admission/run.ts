/**
 * Admission latency through the real API server: pod creates (server-side dry run, so nothing
 * accumulates) sent at a steady rate for a bounded duration, open loop (a request is sent on
 * schedule whether or not earlier ones have answered), p50/p99 of the client-observed latency.
 *
 * Side by side in the same run, the same requests into three namespaces:
 *   - one no webhook selects: the API server alone;
 *   - one selected by a reference webhook that admits everything unchanged (reference-webhook.ts),
 *     called as landlord's are (a mutating and a validating call per pod): what any webhook costs;
 *   - a tenant namespace, where landlord's mutating and validating webhooks are called, twice:
 *     with pods that no Route selects (defaults and checks only), and with pods that its sidecar
 *     Route's Service selects, so every create also gets a TLS sidecar injected (the heaviest
 *     mutation path; the API server's work grows with the pod it carries).
 * The four take turns in rounds (each configuration gets `seconds` in all), so a pause of the
 * shared machine falls on each of them alike rather than on whichever happened to be running.
 * Both webhooks run as processes of their own (`landlord webhook`, as in production), and the
 * load generator runs in a worker thread (load.ts), so none shares another's event loop or heap.
 * A plain script, not a test:
 *   node bench/admission/run.ts [requestsPerSecond=200] [seconds=15]
 */
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import https from 'node:https';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { webhookConfigurations } from '../../src/admission/index.ts';
import { startCluster } from '../../src/devcluster/index.ts';
import { createRootCa, issuePlatformServingCertificate, loadAuthority } from '../../src/pki/index.ts';
import { tenantFixture, waitUntilCalled } from '../../test/support/admission.ts';
import { installCrds } from '../../test/support/tenants.ts';
import { stopOnInterrupt } from '../support/interrupt.ts';
import { cpuSeconds } from '../support/proc.ts';
import { LoadGenerator, type LoadPlan, type LoadResult } from './load.ts';
import { probePodName, probeWarning } from './reference-webhook.ts';

const rate = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 15);
const rounds = 3;

/** The plan for one round of creates of `app` pods into `namespace`, with the admin's credentials. */
async function planFor(config: KubeConfig, namespace: string, app = 'bench'): Promise<LoadPlan> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster');
  const options: https.RequestOptions = {};
  await config.applyToHTTPSOptions(options);
  const url = new URL(`/api/v1/namespaces/${namespace}/pods?dryRun=All`, cluster.server).href;
  return { url, tls: { ca: options.ca, cert: options.cert, key: options.key }, requestsPerSecond: rate, seconds: seconds / rounds, app };
}

/** Starts a webhook process and resolves with its port, read from the `"address"` it logs on stderr. */
function startWebhook(argv: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; port: Promise<string> } {
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const port = new Promise<string>((resolve, reject) => {
    let logged = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      logged += chunk.toString();
      const match = /"address":"127\.0\.0\.1:(\d+)"/.exec(logged);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', () => reject(new Error(`${argv.join(' ')} exited: ${logged}`)));
  });
  return { child, port };
}

/** Webhook registration is asynchronous in the API server: waits until a probe pod's create comes back with the reference webhook's warning. */
async function waitUntilReferenceCalled(plan: LoadPlan): Promise<void> {
  const url = new URL(plan.url);
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: probePodName }, spec: { containers: [{ name: 'a', image: 'a' }] } });
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const warning = await new Promise<string>((resolve, reject) => {
      https.request({ ...plan.tls, method: 'POST', host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: { 'content-type': 'application/json' } }, (response) => {
        response.resume();
        resolve(String(response.headers.warning ?? ''));
      }).on('error', reject).end(body);
    });
    if (warning.includes(probeWarning)) return;
    await sleep(100);
  }
  throw new Error('the API server did not call the reference webhook within 100 tries');
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

/** One configuration's rounds pooled, and the CPU seconds each process spent meanwhile. */
interface Pooled {
  readonly name: string;
  readonly namespace: string;
  readonly app: string;
  latencies: number[];
  mutated: number;
  injected: number;
  failures: number;
  firstFailure: string | undefined;
  lateSends: LoadResult['lateSends'];
  readonly cpu: number[];
}

function pool(into: Pooled, round: LoadResult): void {
  into.latencies.push(...round.latencies);
  into.mutated += round.mutated;
  into.injected += round.injected;
  into.failures += round.failures;
  into.firstFailure ??= round.firstFailure;
  into.lateSends.push(...round.lateSends);
}

function summary(pooled: Pooled): { p50: number; p99: number } {
  const sorted = [...pooled.latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;
const added = (value: number, base: number): string => `${value >= base ? '+' : '−'}${Math.abs(value - base).toFixed(2)} ms`;

const cluster = await startCluster({ name: 'bench-admission', node: false });
const webhooks: ChildProcess[] = [];
const load = new LoadGenerator();
const certDir = await mkdtemp(path.join(tmpdir(), 'landlord-webhook-bench-'));
const stopAll = stopOnInterrupt(async () => {
  await load.close();
  for (const webhook of webhooks) webhook.kill('SIGTERM');
  await rm(certDir, { recursive: true, force: true });
  await cluster.stop();
});
try {
  const admin = cluster.kubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'plain' } } });
  await installCrds(admin);
  const tenant = await tenantFixture(cluster, 'benchacme');
  const reference = await tenantFixture(cluster, 'benchref');
  const custom = admin.makeApiClient(CustomObjectsApi);
  await custom.createClusterCustomObject({ group: 'landlord.dev', version: 'v1alpha1', plural: 'tenants', body: { apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'benchacme' }, spec: { owners: {}, domains: ['*.benchacme.example'] } } });
  await core.createNamespacedService({ namespace: tenant.namespace, body: { metadata: { name: 'bench' }, spec: { selector: { app: 'bench' }, ports: [{ port: 80, targetPort: 'http' }] } } });
  await custom.createNamespacedCustomObject({ group: 'landlord.dev', version: 'v1alpha1', namespace: tenant.namespace, plural: 'routes', body: { apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name: 'bench' }, spec: { hostname: 'bench.benchacme.example', protocol: 'tls', backend: { service: 'bench', port: 80 } } } });
  while (!(await core.readNamespacedServiceAccount({ namespace: 'plain', name: 'default' }).then(() => true, () => false))) await sleep(200);
  const root = await createRootCa();
  const serving = await issuePlatformServingCertificate(await loadAuthority(root), { dns: [], ip: ['127.0.0.1'] });
  await writeFile(path.join(certDir, 'tls.crt'), serving.certificate);
  await writeFile(path.join(certDir, 'tls.key'), serving.privateKey ?? '');
  const main = path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  const landlord = startWebhook([main, 'webhook', '--cert-dir', certDir, '--listen', '127.0.0.1:0'], { ...process.env, KUBECONFIG: cluster.kubeconfigPath });
  const referenceWebhook = startWebhook([path.join(import.meta.dirname, 'reference-webhook.ts'), certDir], process.env);
  webhooks.push(landlord.child, referenceWebhook.child);
  const [port, referencePort] = await Promise.all([landlord.port, referenceWebhook.port]);
  const registrations = admin.makeApiClient(AdmissionregistrationV1Api);
  for (const [url, name, tenants] of [[`https://127.0.0.1:${port}`, 'landlord-admission', ['benchacme']], [`https://127.0.0.1:${referencePort}`, 'bench-reference', ['benchref']]] as const) {
    const { mutating, validating } = webhookConfigurations({ name, client: { url, caPem: root.certificate }, tenants });
    await registrations.createMutatingWebhookConfiguration({ body: mutating });
    await registrations.createValidatingWebhookConfiguration({ body: validating });
  }
  await waitUntilCalled(cluster, tenant.namespace);
  await waitUntilReferenceCalled(await planFor(admin, reference.namespace));
  const ofProcess = (pid: number) => () => cpuSeconds(pid);
  const processes = [
    ...cluster.daemons().filter((daemon) => daemon.name === 'kube-apiserver' || daemon.name === 'etcd').map((daemon) => ({ name: daemon.name, cpu: ofProcess(daemon.pid) })),
    { name: 'landlord webhook', cpu: ofProcess(landlord.child.pid ?? 0) },
    { name: 'reference webhook', cpu: ofProcess(referenceWebhook.child.pid ?? 0) },
    // This process (its worker included): the webhooks are its children, so not its process tree.
    { name: 'load generator', cpu: () => { const usage = process.cpuUsage(); return (usage.user + usage.system) / 1e6; } },
  ];
  const configurations: Pooled[] = [
    ['API server alone', 'plain', 'bench'],
    ['reference webhooks (admit all)', reference.namespace, 'bench'],
    ['landlord, no Route selects', tenant.namespace, 'worker'],
    ['landlord, with a sidecar', tenant.namespace, 'bench'],
  ].map(([name, namespace, app]) => ({ name: name!, namespace: namespace!, app: app!, latencies: [], mutated: 0, injected: 0, failures: 0, firstFailure: undefined, lateSends: [], cpu: processes.map(() => 0) }));
  // Warm every path (connections, caches) before measuring.
  for (const configuration of configurations) await load.run(await planFor(admin, configuration.namespace, configuration.app));
  const reviewsBefore = await webhookBuckets(port, root.certificate);
  for (let round = 0; round < rounds; round += 1) {
    for (const configuration of configurations) {
      const before = processes.map((measure) => measure.cpu());
      pool(configuration, await load.run(await planFor(admin, configuration.namespace, configuration.app)));
      processes.forEach((measure, i) => (configuration.cpu[i]! += measure.cpu() - before[i]!));
    }
  }
  const reviewsAfter = await webhookBuckets(port, root.certificate);

  const summaries = configurations.map(summary);
  const [alone, admitAll] = summaries as [ReturnType<typeof summary>, ReturnType<typeof summary>];
  console.log(`admission latency, ${rate} pod creates/s (dry run), ${seconds} s per configuration in ${rounds} interleaved rounds, ${availableParallelism()} CPUs, open loop, load average ${loadavg()[0]?.toFixed(1)} at the end`);
  console.log('  configuration                     p50         p99         added to the API server alone (p50 / p99)');
  configurations.forEach((configuration, i) => {
    const { p50, p99 } = summaries[i]!;
    const addedText = i === 0 ? '' : `${added(p50, alone.p50)} / ${added(p99, alone.p99)}`;
    console.log(`  ${configuration.name.padEnd(32)}  ${ms(p50).padEnd(10)}  ${ms(p99).padEnd(10)}  ${addedText}`);
  });
  configurations.forEach((configuration, i) => {
    if (configuration.namespace !== tenant.namespace) return;
    const { p50, p99 } = summaries[i]!;
    console.log(`  ${configuration.name} over the reference: p50 ${added(p50, admitAll.p50)}, p99 ${added(p99, admitAll.p99)}`);
  });
  for (const configuration of configurations) {
    const extra = configuration.namespace === tenant.namespace ? `, ${configuration.mutated} mutated, ${configuration.injected} with a sidecar` : '';
    console.log(`  ${configuration.name}: ${configuration.latencies.length} ok${extra}, ${configuration.failures} failed; creates the load generator sent over 5 ms late (its own pauses, which count as latency): ${configuration.lateSends.length}, latest by ${Math.max(0, ...configuration.lateSends.map(([, late]) => late))} ms`);
  }
  console.log(`  landlord's own time per review, arrival to answer (its /metrics buckets): p50 ${bucketPercentile(reviewsBefore, reviewsAfter, 50)}, p99 ${bucketPercentile(reviewsBefore, reviewsAfter, 99)} (${(reviewsAfter.get('+Inf') ?? 0) - (reviewsBefore.get('+Inf') ?? 0)} reviews)`);
  console.log('  CPU seconds per 1,000 creates:');
  for (const configuration of configurations) {
    console.log(`    ${configuration.name.padEnd(32)}  ${processes.map((measure, i) => `${measure.name} ${(configuration.cpu[i]! * 1000 / (rate * seconds)).toFixed(2)}`).join(', ')}`);
  }
  for (const configuration of configurations) {
    if (configuration.firstFailure) console.log(`  first failure (${configuration.name}): ${configuration.firstFailure}`);
  }
} finally {
  await stopAll();
}
