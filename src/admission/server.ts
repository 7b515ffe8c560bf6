/**
 * The HTTPS shell around the pure decisions: `POST /validate`, `POST /mutate` (AdmissionReview
 * admission.k8s.io/v1) and `GET /healthz`.
 *
 * - TLS from `tls.crt`/`tls.key` in a certificate directory, re-read when the files change: a new
 *   pair is loaded aside and swapped in only when it parses, so a half-written rotation keeps the
 *   old certificate serving.
 * - Bodies are capped (3 MiB by default: an UPDATE review carries the object twice, and objects
 *   can reach the API server's 1.5 MiB limit) and answered 413 with a code beyond that.
 * - Fails closed: a review that cannot be decided (a gather step failing, a bug) is answered
 *   `allowed: false` with the reason, never allowed by default.
 * - `GET /metrics` (Prometheus text): how long each review took from its first byte to its answer,
 *   by webhook and outcome, and denials by rule. What the API server adds on top shows in its own
 *   `apiserver_admission_webhook_admission_duration_seconds`.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { LandlordError } from '../shared/errors.ts';
import { silentLogger, type Logger } from '../shared/log.ts';
import { MetricsRegistry, prometheusContentType } from '../shared/metrics.ts';
import type { MutationContext } from './defaults.ts';
import type { MutationNeeds } from './gather.ts';
import { carriesHostnames, type HostnameFacts } from './hostnames.ts';
import { mutate, validate } from './review.ts';
import { denialMessage, type AdmissionRequest, type Decision } from './review-types.ts';
import type { SidecarSettings } from './sidecar-injection.ts';

export interface WebhookServerDeps {
  /** Holds `tls.crt` (certificate and chain) and `tls.key`, as the PKI writes them. */
  readonly certDir: string;
  readonly logger?: Logger;
  /** Facts about the tenant owning `namespace` that mutators need (hard-tier placement; Routes for pod creates). */
  readonly mutationContext?: (namespace: string, needs: MutationNeeds) => Promise<MutationContext>;
  /** The injected TLS sidecar's image, pull policy and trusted router CIDR; default `defaultSidecarSettings`. */
  readonly sidecar?: SidecarSettings;
  /** The tenant's domains and every Route, for requests carrying hostnames (see gather.ts). */
  readonly hostnameFacts?: (namespace: string) => Promise<HostnameFacts>;
  /** How often the certificate files are compared with the loaded ones. Default 5 s. */
  readonly certificateCheckIntervalMs?: number;
  readonly maxBodyBytes?: number;
  /** Whole-request deadline; the API server's own webhook timeout is shorter. Default 10 s. */
  readonly requestTimeoutMs?: number;
}

export interface WebhookServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** What `GET /metrics` renders. */
  readonly metrics: MetricsRegistry;
  /** Re-reads the certificate files now; true when a new pair was swapped in. */
  reloadCertificates(): Promise<boolean>;
  close(): Promise<void>;
}

export const defaultMaxBodyBytes = 3 * 1024 * 1024;

/** Review durations in seconds: fine below 10 ms, where the goal for the added admission latency lies. */
const reviewSecondsBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

interface CertificateFiles {
  cert: string;
  key: string;
}

export async function buildWebhookServer(deps: WebhookServerDeps): Promise<WebhookServer> {
  const logger = deps.logger ?? silentLogger;
  const maxBodyBytes = deps.maxBodyBytes ?? defaultMaxBodyBytes;
  const metrics = new MetricsRegistry();
  const reviewSeconds = metrics.histogram('landlord_admission_review_seconds', 'Time from a review\'s arrival to its answer, by webhook and outcome.', ['webhook', 'allowed'], reviewSecondsBounds);
  const denials = metrics.counter('landlord_admission_denials_total', 'Violations in denied reviews, by rule.', ['rule']);
  let loaded = await readCertificateFiles(deps.certDir);
  const server = https.createServer({ ...loaded, minVersion: 'TLSv1.2' }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error('admission request failed', { error });
      if (!response.headersSent) sendJson(response, 500, { code: 'LL_ADMISSION_INTERNAL', message: 'internal error' });
    });
  });
  server.requestTimeout = deps.requestTimeoutMs ?? 10_000;
  server.headersTimeout = Math.min(server.requestTimeout, 5_000);
  server.keepAliveTimeout = 60_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const route = `${request.method ?? ''} ${new URL(request.url ?? '/', 'https://webhook').pathname}`;
    if (route === 'GET /healthz') return sendJson(response, 200, { status: 'ok' });
    if (route === 'GET /metrics') {
      response.writeHead(200, { 'content-type': prometheusContentType }).end(metrics.render());
      return;
    }
    if (route !== 'POST /validate' && route !== 'POST /mutate') return sendJson(response, 404, { code: 'LL_ADMISSION_NOT_FOUND', message: `no route ${route}` });
    const body = await readBody(request, maxBodyBytes);
    if (body === undefined) {
      return sendJson(response, 413, { code: 'LL_ADMISSION_REVIEW_TOO_LARGE', message: `an AdmissionReview must be at most ${maxBodyBytes} bytes` });
    }
    const review = parseReview(body);
    if (review instanceof LandlordError) return sendJson(response, 400, { code: review.code, message: review.message });
    const webhook = route === 'POST /mutate' ? 'mutate' : 'validate';
    const decision = await decide(webhook, review);
    logger.debug('admission', { uid: review.uid, operation: review.operation, resource: review.resource.resource, namespace: review.namespace, allowed: decision.allowed });
    sendJson(response, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: encodeDecision(review.uid, decision) });
    reviewSeconds.observe({ webhook, allowed: String(decision.allowed) }, (performance.now() - arrived) / 1000);
    if (!decision.allowed) for (const violation of decision.violations) denials.labels({ rule: violation.rule }).inc();
  }

  async function decide(kind: 'mutate' | 'validate', review: AdmissionRequest): Promise<Decision> {
    try {
      if (kind === 'validate') {
        const hostnames = deps.hostnameFacts && review.namespace && carriesHostnames(review) ? await deps.hostnameFacts(review.namespace) : undefined;
        return validate(review, hostnames ? { hostnames } : {});
      }
      const needs = { routes: review.kind.kind === 'Pod' && review.operation === 'CREATE' && !review.subResource };
      const gathered = deps.mutationContext && review.namespace ? await deps.mutationContext(review.namespace, needs) : {};
      return mutate(review, deps.sidecar ? { ...gathered, sidecar: deps.sidecar } : gathered);
    } catch (error) {
      logger.error('admission decision failed', { error, uid: review.uid });
      const reason = error instanceof LandlordError ? `${error.code}: ${error.message}` : 'LL_ADMISSION_INTERNAL: the webhook could not decide';
      return { allowed: false, violations: [{ rule: 'landlord/failClosed', path: '', message: `${reason}; retry, and ask the platform team if it persists` }] };
    }
  }

  async function reloadCertificates(): Promise<boolean> {
    let next: CertificateFiles;
    try {
      next = await readCertificateFiles(deps.certDir);
      if (next.cert === loaded.cert && next.key === loaded.key) return false;
      createSecureContext(next);
    } catch (error) {
      logger.warn('certificate reload skipped: keeping the loaded certificate', { error });
      return false;
    }
    server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
    loaded = next;
    logger.info('serving certificate reloaded', { certDir: deps.certDir });
    return true;
  }

  const timer = setInterval(() => void reloadCertificates(), deps.certificateCheckIntervalMs ?? 5_000);
  timer.unref();

  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    metrics,
    reloadCertificates,
    close: () =>
      new Promise((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function encodeDecision(uid: string, decision: Decision): Record<string, unknown> {
  if (!decision.allowed) {
    return { uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: denialMessage(decision.violations) } };
  }
  const response: Record<string, unknown> = { uid, allowed: true };
  if (decision.patch && decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  if (decision.warnings && decision.warnings.length > 0) response.warnings = decision.warnings;
  return response;
}

/** The request of an AdmissionReview v1, or a LandlordError saying what is wrong with it. */
export function parseReview(body: Buffer): AdmissionRequest | LandlordError {
  let review: unknown;
  try {
    review = JSON.parse(body.toString('utf8'));
  } catch {
    return new LandlordError('LL_ADMISSION_REVIEW_INVALID', 'the body is not JSON');
  }
  const { apiVersion, kind, request } = (review ?? {}) as { apiVersion?: unknown; kind?: unknown; request?: Partial<AdmissionRequest> };
  if (apiVersion !== 'admission.k8s.io/v1' || kind !== 'AdmissionReview') {
    return new LandlordError('LL_ADMISSION_REVIEW_INVALID', 'expected an AdmissionReview of admission.k8s.io/v1 (set admissionReviewVersions: [v1])');
  }
  if (typeof request?.uid !== 'string' || typeof request.operation !== 'string' || typeof request.kind !== 'object' || typeof request.resource !== 'object' || request.userInfo === undefined) {
    return new LandlordError('LL_ADMISSION_REVIEW_INVALID', 'the AdmissionReview has no complete request (uid, kind, resource, operation, userInfo)');
  }
  return request as AdmissionRequest;
}

async function readCertificateFiles(dir: string): Promise<CertificateFiles> {
  const [cert, key] = await Promise.all([readFile(path.join(dir, 'tls.crt'), 'utf8'), readFile(path.join(dir, 'tls.key'), 'utf8')]);
  return { cert, key };
}

/** The body, or undefined once it grows past `limit` (the rest is drained, not buffered). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
