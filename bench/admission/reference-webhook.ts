/**
 * The admission bench's reference: a webhook that admits every review unchanged, so its figures
 * are what any webhook costs on this machine (the API server's two HTTPS round trips per pod and
 * a minimal Node HTTPS server answering them), measured next to landlord's.
 *
 * It reads the review (it must echo its uid) and does nothing else, except for a pod named
 * `webhook-probe`: that one gets a warning back, which the API server passes to the client as a
 * `Warning` header, so the bench can tell when the API server has started calling it.
 *   node bench/admission/reference-webhook.ts CERT_DIR
 * Prints `{"address":"127.0.0.1:PORT"}` on stderr once it listens; exits on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export const probePodName = 'webhook-probe';
export const probeWarning = 'reference webhook called';

interface Review {
  readonly request: { readonly uid: string; readonly name?: string };
}

function serve(certDir: string): void {
  const server = https.createServer({ cert: readFileSync(path.join(certDir, 'tls.crt')), key: readFileSync(path.join(certDir, 'tls.key')), minVersion: 'TLSv1.2' }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { uid, name } = (JSON.parse(Buffer.concat(chunks).toString()) as Review).request;
      const answer = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, ...(name === probePodName ? { warnings: [probeWarning] } : {}) } });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stderr.write(`${JSON.stringify({ address: `127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`));
  process.once('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
}

if (import.meta.main) {
  const certDir = process.argv[2];
  if (!certDir) throw new Error('usage: reference-webhook.ts CERT_DIR');
  serve(certDir);
}
