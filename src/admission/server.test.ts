import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, it, before, after } from 'node:test';
import { createRootCa, issuePlatformServingCertificate, loadAuthority, type PemBundle } from '../pki/index.ts';
import { buildWebhookServer, type WebhookServer } from './server.ts';
import { compliantPodSpec, pod, request } from './testing.ts';

interface Reply {
  status: number;
  body: Record<string, unknown>;
  serial: string;
}

function call(port: number, ca: string, method: string, route: string, body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: route, ca, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>, serial: res.socket && 'getPeerCertificate' in res.socket ? (res.socket as TLSSocket).getPeerCertificate().serialNumber : '' }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function metricsText(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/metrics', ca, agent: false }, (res) => {
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

/** The value of one sample line (`name{labels}`), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const review = (object: ReturnType<typeof request>) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: object });

describe('webhook server', () => {
  let dir: string;
  let root: PemBundle;
  let server: WebhookServer;
  let port: number;
  const issue = async (): Promise<PemBundle> => issuePlatformServingCertificate(await loadAuthority(root), { dns: ['localhost'], ip: ['127.0.0.1'] });
  const install = async (bundle: PemBundle): Promise<void> => {
    await writeFile(path.join(dir, 'tls.key'), bundle.privateKey ?? '');
    await writeFile(path.join(dir, 'tls.crt'), bundle.certificate);
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'landlord-webhook-'));
    root = await createRootCa();
    await install(await issue());
    server = await buildWebhookServer({ certDir: dir, certificateCheckIntervalMs: 3_600_000 });
    port = (await server.listen(0, '127.0.0.1')).port;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /healthz', async () => {
    assert.deepEqual((await call(port, root.certificate, 'GET', '/healthz')).body, { status: 'ok' });
  });

  it('denies a non-compliant pod with a 403 status naming the rule and the field', async () => {
    const reply = await call(port, root.certificate, 'POST', '/validate', review(request('CREATE', pod({ ...compliantPodSpec(), hostIPC: true }))));
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body.response, {
      uid: '00000000-0000-0000-0000-000000000001', allowed: false,
      status: { code: 403, reason: 'Forbidden', message: 'baseline/hostNamespaces: spec.hostIPC must be false or unset: tenant pods never share the node\'s namespaces' },
    });
  });

  it('answers a mutation with a base64 JSON patch', async () => {
    const reply = await call(port, root.certificate, 'POST', '/mutate', review(request('CREATE', pod({ containers: [{ name: 'a', image: 'a', imagePullPolicy: 'Never' }] }))));
    const response = reply.body.response as { allowed: boolean; patchType: string; patch: string };
    assert.equal(response.allowed, true);
    assert.equal(response.patchType, 'JSONPatch');
    const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as Array<{ path: string }>;
    assert.deepEqual(ops.map((op) => op.path).sort(), ['/spec/containers/0/securityContext', '/spec/securityContext']);
  });

  it('serves /metrics: review durations by webhook and outcome, denials by rule', async () => {
    const before = await metricsText(port, root.certificate);
    await call(port, root.certificate, 'POST', '/validate', review(request('CREATE', pod({ ...compliantPodSpec(), hostIPC: true }))));
    await call(port, root.certificate, 'POST', '/mutate', review(request('CREATE', pod({ containers: [{ name: 'a', image: 'a', imagePullPolicy: 'Never' }] }))));
    const after = await metricsText(port, root.certificate);
    const delta = (series: string) => sample(after, series) - sample(before, series);
    assert.equal(delta('landlord_admission_review_seconds_count{webhook="validate",allowed="false"}'), 1);
    assert.equal(delta('landlord_admission_review_seconds_count{webhook="mutate",allowed="true"}'), 1);
    assert.equal(delta('landlord_admission_review_seconds_bucket{webhook="mutate",allowed="true",le="+Inf"}'), 1);
    assert.ok(sample(after, 'landlord_admission_review_seconds_sum{webhook="mutate",allowed="true"}') > 0);
    assert.equal(delta('landlord_admission_denials_total{rule="baseline/hostNamespaces"}'), 1);
  });

  it('refuses a body that is not an AdmissionReview v1 with a coded 400', async () => {
    const reply = await call(port, root.certificate, 'POST', '/validate', JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }));
    assert.equal(reply.status, 400);
    assert.equal(reply.body.code, 'LL_ADMISSION_REVIEW_INVALID');
  });

  it('refuses a body larger than 3 MiB with a coded 413', async () => {
    const reply = await call(port, root.certificate, 'POST', '/validate', Buffer.alloc(3 * 1024 * 1024 + 1, 0x20));
    assert.equal(reply.status, 413);
    assert.equal(reply.body.code, 'LL_ADMISSION_REVIEW_TOO_LARGE');
  });

  it('accepts an UPDATE review just under the limit', async () => {
    const big = pod({ ...compliantPodSpec() }, { blob: 'x'.repeat(1_400_000) });
    const reply = await call(port, root.certificate, 'POST', '/validate', review(request('UPDATE', big, { oldObject: big })));
    assert.equal((reply.body.response as { allowed: boolean }).allowed, true);
  });

  it('serves a rotated certificate without a restart, and keeps the old one when the new files are broken', async () => {
    const before = (await call(port, root.certificate, 'GET', '/healthz')).serial;
    await install(await issue());
    assert.equal(await server.reloadCertificates(), true);
    const rotated = (await call(port, root.certificate, 'GET', '/healthz')).serial;
    assert.notEqual(rotated, before);
    await writeFile(path.join(dir, 'tls.key'), 'not a key');
    assert.equal(await server.reloadCertificates(), false);
    assert.equal((await call(port, root.certificate, 'GET', '/healthz')).serial, rotated);
  });
});
