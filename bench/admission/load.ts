/**
 * The admission bench's load generator, run in a worker thread of its own: an open loop of
 * dry-run pod creates (a request leaves on schedule whether or not earlier ones have answered),
 * each timed from send to the end of its answer.
 *
 * Why a worker: latency measured by a client includes the client's own pauses. In the bench's
 * main thread, whose heap holds the Kubernetes client and the cluster handle, major garbage
 * collections of 5–11 ms delayed the handling of answers and showed up as slow creates. A worker
 * has a heap of its own with only this loop in it. It also reports every create it sent more than
 * `latenessThresholdMs` after its due time: a pause of its own event loop (a collection, a burst of
 * answers to read) delays the next send, so a reader can tell the generator's pauses from the
 * system's without a timer of its own waking the machine.
 */
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

export interface LoadPlan {
  /** `https://host:port/api/v1/namespaces/NS/pods?dryRun=All` */
  readonly url: string;
  /** The client's TLS credentials and the API server's CA, as the kubeconfig gives them. */
  readonly tls: Pick<https.RequestOptions, 'ca' | 'cert' | 'key'>;
  readonly requestsPerSecond: number;
  readonly seconds: number;
  /** The pods' `app` label: `bench` is selected by the tenant's sidecar Route, any other value by none. */
  readonly app: string;
}

export interface LoadResult {
  /** Milliseconds from send to the end of each 201 answer, in completion order. */
  readonly latencies: number[];
  /** Answers showing the mutating webhook's defaults: proof the webhooks were on the path. */
  readonly mutated: number;
  /** Answers carrying an injected TLS sidecar. */
  readonly injected: number;
  readonly failures: number;
  readonly firstFailure: string | undefined;
  /** Creates sent more than the threshold after their due time: [ms after start, ms late]. */
  readonly lateSends: Array<[number, number]>;
}

const latenessThresholdMs = 5;

/** A pod the mutating webhook patches (no pull policy, no seccomp; a sidecar where a Route selects `app`) and the validating one then admits. */
function defaultablePod(index: number, app: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `bench-${index}`, labels: { app } },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  });
}

/** One worker thread, kept for all the rounds of a run so that every round meets warm code. */
export class LoadGenerator {
  readonly #worker = new Worker(new URL(import.meta.url));

  /** Runs `plan` (one at a time) and resolves with what the worker measured. */
  run(plan: LoadPlan): Promise<LoadResult> {
    return new Promise<LoadResult>((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`the load generator exited with ${code} before reporting`));
      this.#worker.once('error', reject);
      this.#worker.once('exit', onExit);
      this.#worker.once('message', (result: LoadResult) => {
        this.#worker.off('error', reject);
        this.#worker.off('exit', onExit);
        resolve(result);
      });
      this.#worker.postMessage(plan);
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

async function generate(plan: LoadPlan): Promise<LoadResult> {
  const url = new URL(plan.url);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  const base: https.RequestOptions = { ...plan.tls, method: 'POST', host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, agent };
  const total = Math.round(plan.requestsPerSecond * plan.seconds);
  const latencies: number[] = [];
  const lateSends: Array<[number, number]> = [];
  let mutated = 0;
  let injected = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const fail = (reason: string): void => {
    failures += 1;
    firstFailure ??= reason;
  };
  const inFlight: Array<Promise<void>> = [];
  for (let index = 0; index < total; index += 1) {
    const due = started + (index * 1000) / plan.requestsPerSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    else if (-wait > latenessThresholdMs) lateSends.push([Math.round(due - started), Math.round(-wait)]);
    const body = defaultablePod(index, plan.app);
    inFlight.push(new Promise<void>((resolve) => {
      const sent = performance.now();
      const request = https.request({ ...base, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const elapsed = performance.now() - sent;
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode === 201) {
            latencies.push(elapsed);
            if (text.includes('RuntimeDefault')) mutated += 1;
            if (text.includes('landlord-sidecar-0')) injected += 1;
          } else {
            fail(`${response.statusCode}: ${text.slice(0, 300)}`);
          }
          resolve();
        });
      });
      request.setTimeout(30_000, () => request.destroy(new Error('timed out')));
      request.on('error', (error) => {
        fail(error.message);
        resolve();
      });
      request.end(body);
    }));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { latencies, mutated, injected, failures, firstFailure, lateSends };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (plan: LoadPlan) => void generate(plan).then((result) => port.postMessage(result)));
}
