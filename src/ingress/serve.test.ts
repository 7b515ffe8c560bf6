import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../shared/log.ts';
import type { CertificatePem } from './certificates.ts';
import { serveIngress, type RunningIngress } from './serve.ts';
import { startEchoBackend, tenantPki, type EchoBackend, type TenantCertificates } from './testing.ts';

function get(port: number, ca: string, servername: string): Promise<{ status: number; backend: string | undefined; serial: string }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & tls.ConnectionOptions = { host: '127.0.0.1', port, ca, servername, headers: { host: servername }, agent: false };
    const req = https.get(options, (res) => {
      const serial = (res.socket as tls.TLSSocket).getPeerCertificate().serialNumber;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: res.headers['x-backend'] as string | undefined, serial }));
    });
    req.on('error', reject);
  });
}

/** Polls (bounded) until the ingress reached `generation`. */
async function generationReached(running: RunningIngress, generation: number): Promise<void> {
  for (let i = 0; i < 100 && running.ingress.generation < generation; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(running.ingress.generation >= generation, `still at generation ${running.ingress.generation}`);
}

describe('serveIngress (config file, hot reload)', () => {
  let dir: string;
  let pki: TenantCertificates;
  let web: EchoBackend;
  let api: EchoBackend;
  let running: RunningIngress;
  const configFile = (): string => path.join(dir, 'ingress.yaml');
  const writeCertificate = (name: string, pem: CertificatePem): void => {
    mkdirSync(path.join(dir, 'certs', name), { recursive: true });
    writeFileSync(path.join(dir, 'certs', name, 'tls.key'), pem.privateKey);
    writeFileSync(path.join(dir, 'certs', name, 'tls.crt'), pem.certificate);
  };
  const writeConfig = (routes: string): void => writeFileSync(configFile(), `tenant: acme\ndomains: ["*.acme.example"]\ncertificates: [certs]\nroutes:\n${routes}`);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'landlord-ingress-serve-'));
    pki = await tenantPki('acme', ['*.acme.example']);
    [web, api] = await Promise.all([startEchoBackend('web'), startEchoBackend('api')]);
    writeCertificate('app', await pki.leaf('app.acme.example'));
    writeConfig(`  - { host: app.acme.example, backend: "127.0.0.1:${web.port}" }\n`);
    running = await serveIngress({ tenant: 'acme', configFile: configFile(), listen: { host: '127.0.0.1', port: 0 }, status: { host: '127.0.0.1', port: 0 }, logger: silentLogger, debounceMs: 20 });
  });
  after(async () => {
    await running.shutdown(0);
    await Promise.all([web.close(), api.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the routes of the file', async () => {
    assert.equal((await get(running.addresses.ingress?.port ?? 0, pki.rootCa, 'app.acme.example')).backend, 'web');
  });

  it('picks up a new route and its certificate when the files change', async () => {
    const generation = running.ingress.generation;
    writeCertificate('api', await pki.leaf('api.acme.example'));
    writeConfig(`  - { host: app.acme.example, backend: "127.0.0.1:${web.port}" }\n  - { host: api.acme.example, backend: "127.0.0.1:${api.port}" }\n`);
    await generationReached(running, generation + 1);
    await running.reload(); // settle: both files are certainly read by now
    assert.equal((await get(running.addresses.ingress?.port ?? 0, pki.rootCa, 'api.acme.example')).backend, 'api');
  });

  it('serves a rotated certificate to new connections', async () => {
    const before = await get(running.addresses.ingress?.port ?? 0, pki.rootCa, 'app.acme.example');
    writeCertificate('app', await pki.leaf('app.acme.example'));
    assert.equal(await running.reload(), true);
    const afterRotation = await get(running.addresses.ingress?.port ?? 0, pki.rootCa, 'app.acme.example');
    assert.notEqual(afterRotation.serial, before.serial);
    assert.equal(afterRotation.status, 200);
  });

  it('keeps serving the previous configuration after an invalid edit', async () => {
    writeFileSync(configFile(), 'certificates: [certs]\nroutes: [{ host: app.acme.example, backend: nope }]\n');
    assert.equal(await running.reload(), false);
    assert.equal((await get(running.addresses.ingress?.port ?? 0, pki.rootCa, 'app.acme.example')).backend, 'web');
    const metrics = await (await fetch(`http://127.0.0.1:${running.addresses.status?.port ?? 0}/metrics`)).text();
    assert.match(metrics, /landlord_ingress_reloads_total\{result="invalid"\} [1-9]/);
  });

  it('refuses a certificate outside the tenant domains on reload', async () => {
    const globex = await tenantPki('globex', ['*.globex.example']);
    writeConfig(`  - { host: app.acme.example, backend: "127.0.0.1:${web.port}" }\n`);
    writeCertificate('stolen', await globex.leaf('app.globex.example'));
    assert.equal(await running.reload(), false);
    rmSync(path.join(dir, 'certs', 'stolen'), { recursive: true });
    assert.equal(await running.reload(), true);
  });
});
