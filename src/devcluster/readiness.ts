/** Waiting for daemons to become ready, failing fast when the daemon died instead. */
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { LandlordError } from '../shared/errors.ts';
import { isDaemonAlive, tailLog, type DaemonRecord } from './processes.ts';

export interface WaitOptions {
  /** What is awaited, for messages: "kube-apiserver to be ready". */
  what: string;
  timeoutMs: number;
  /** The daemon whose death ends the wait at once, with its log in the error. */
  daemon?: DaemonRecord;
  intervalMs?: number;
}

export async function waitUntil(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    const daemon = options.daemon;
    if (daemon && !isDaemonAlive(daemon)) {
      throw new LandlordError('LL_DEVCLUSTER_DAEMON_EXITED', `${daemon.name} exited while waiting for ${options.what}:\n${tailLog(daemon.logFile)}`, {
        hint: `full log: ${daemon.logFile}`,
      });
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const log = daemon ? `\n${tailLog(daemon.logFile)}` : '';
      throw new LandlordError('LL_DEVCLUSTER_START_TIMEOUT', `timed out after ${options.timeoutMs / 1000}s waiting for ${options.what}${detail}${log}`, {
        ...(daemon ? { hint: `full log: ${daemon.logFile}` } : {}),
      });
    }
    await sleep(options.intervalMs ?? 100);
  }
}

export interface TlsClientMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  /** Serving certificates that components generate for themselves are not verifiable; health only. */
  insecure?: boolean;
}

/** The HTTP status and body of a GET over TLS, or an exception if no answer came. */
function httpsGet(url: string, tls: TlsClientMaterial, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ...tls, rejectUnauthorized: !tls.insecure, timeout: timeoutMs, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

export async function httpsStatus(url: string, tls: TlsClientMaterial, timeoutMs = 2000): Promise<number> {
  return (await httpsGet(url, tls, timeoutMs)).status;
}

/** GET a JSON document over TLS; undefined on any non-200 answer. */
export async function httpsJson(url: string, tls: TlsClientMaterial, timeoutMs = 2000): Promise<unknown> {
  const { status, body } = await httpsGet(url, tls, timeoutMs);
  return status === 200 ? (JSON.parse(body) as unknown) : undefined;
}
