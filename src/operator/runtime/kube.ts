/**
 * A small Kubernetes REST client for controllers: list, watch, get, create, server-side apply,
 * merge patch, replace and delete of any resource, over one keep-alive connection pool.
 *
 * Every HTTP request it sends is counted by verb and resource (`requestCounts`), so "no writes
 * when nothing changed" is measured on the wire rather than inferred. Credentials come from
 * src/shared/kubeconfig (file, KUBECONFIG or in-cluster), or from a `KubeConfig` of
 * @kubernetes/client-node for callers that already hold one; the operator itself never loads
 * client-node (its import alone costs about 50 MiB of RSS).
 */
import http from 'node:http';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { LandlordError } from '../../shared/errors.ts';
import type { KubeCredentials } from '../../shared/kubeconfig.ts';

/** Where a resource lives in the API. */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface KubeMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any Kubernetes object, as plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeMetadata;
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** A failed request: `status` is the HTTP status (0 when the server could not be reached). */
export class KubeApiError extends LandlordError {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string, cause?: unknown) {
    super(status === 0 ? 'LL_OPERATOR_API_UNREACHABLE' : 'LL_OPERATOR_API_ERROR', message, cause === undefined ? {} : { cause });
    this.status = status;
    this.reason = reason;
  }
}

export function isApiStatus(error: unknown, status: number): boolean {
  return error instanceof KubeApiError && error.status === status;
}

const writeVerbs = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Longest a non-watch request may take, connection and response body included. */
const requestDeadlineMs = 90_000;

export interface RequestCount {
  verb: string;
  resource: string;
  count: number;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  /** e.g. `metadata.name=landlord-admission`: with it, RBAC rules limited by resourceNames authorize list and watch. */
  fieldSelector?: string;
}

export interface ListCallOptions extends ListOptions {
  /** Serve from the API server's watch cache (resourceVersion=0): cheaper, possibly slightly stale. */
  fromCache?: boolean;
}

export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  signal: AbortSignal;
  timeoutSeconds?: number;
}

export class KubeClient {
  readonly #server: URL;
  readonly #agent: http.Agent;
  readonly #source: KubeCredentials | KubeConfig;
  #tls: https.RequestOptions = {};
  #tlsLoadedAt = 0;
  readonly #counts = new Map<string, RequestCount>();

  constructor(source: KubeCredentials | KubeConfig, options: { maxSockets?: number } = {}) {
    const server = 'server' in source ? source.server : source.getCurrentCluster()?.server;
    if (server === undefined) throw new LandlordError('LL_OPERATOR_KUBECONFIG_INVALID', 'the kubeconfig has no current cluster');
    this.#source = source;
    this.#server = new URL(server);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32 };
    this.#agent = this.#server.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** Requests sent so far, by verb and resource plural. */
  requestCounts(): RequestCount[] {
    return [...this.#counts.values()].map((c) => ({ ...c }));
  }

  /** Write requests (POST, PUT, PATCH, DELETE) sent so far. */
  writeCount(): number {
    return this.requestCounts().filter((c) => writeVerbs.has(c.verb)).reduce((sum, c) => sum + c.count, 0);
  }

  requestCount(): number {
    return this.requestCounts().reduce((sum, c) => sum + c.count, 0);
  }

  async get<T extends KubeObject>(type: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.#json<T>('GET', type, objectPath(type, namespace, name));
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Lists every object (paging through `continue`), with the list's resourceVersion. */
  async list<T extends KubeObject>(type: ResourceType, options: ListCallOptions = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let resourceVersion = '';
    for await (const page of this.listPages<T>(type, options)) {
      items.push(...page.items);
      resourceVersion = page.resourceVersion;
    }
    return { items, resourceVersion };
  }

  /**
   * Lists page by page (at most `pageSize` objects each), so a caller that keeps less than the
   * whole objects never holds more than one page of them. Every page carries the resourceVersion
   * of the one consistent snapshot the pages come from.
   */
  async *listPages<T extends KubeObject>(type: ResourceType, options: ListCallOptions & { pageSize?: number } = {}): AsyncGenerator<{ items: T[]; resourceVersion: string }> {
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(options.pageSize ?? 500) });
      if (options.labelSelector) query.set('labelSelector', options.labelSelector);
      if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
      if (token) query.set('continue', token);
      if (options.fromCache) query.set('resourceVersion', '0');
      const page = await this.#json<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }>(
        'GET', type, `${collectionPath(type, options.namespace)}?${query.toString()}`);
      token = page.metadata.continue || undefined;
      yield { items: page.items.map((item) => ({ ...item, apiVersion: apiVersionOf(type), kind: type.kind })), resourceVersion: page.metadata.resourceVersion };
    } while (token);
  }

  /**
   * Streams watch events from `resourceVersion` until the server ends the stream or `signal` aborts.
   * An `ERROR` event (e.g. 410 Gone: the version is too old) rejects with its status.
   */
  async watch<T extends KubeObject>(type: ResourceType, options: WatchOptions, onEvent: (type: WatchEventType, object: T) => void): Promise<void> {
    const query = new URLSearchParams({
      watch: '1', resourceVersion: options.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(options.timeoutSeconds ?? 300),
    });
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    const response = await this.#send('GET', type, `${collectionPath(type, options.namespace)}?${query.toString()}`, undefined, undefined, options.signal);
    if (response.statusCode !== 200) throw await errorOf(response);
    let buffered = '';
    response.setEncoding('utf8');
    // The server ends a watch after timeoutSeconds; a connection to a server that vanished without
    // closing it would otherwise hang for as long as TCP keep-alive takes to notice.
    const deadline = setTimeout(() => response.destroy(), ((options.timeoutSeconds ?? 300) + 30) * 1000);
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: string): void => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() === '') continue;
          const event = JSON.parse(line) as { type: WatchEventType | 'ERROR'; object: T & { code?: number; reason?: string; message?: string } };
          if (event.type === 'ERROR') {
            response.destroy();
            reject(new KubeApiError(event.object.code ?? 500, event.object.reason ?? 'Unknown', `watch ${type.plural}: ${event.object.message ?? 'error'}`));
            return;
          }
          onEvent(event.type, { ...event.object, apiVersion: apiVersionOf(type), kind: type.kind });
        }
      };
      response.on('data', onData);
      response.on('end', resolve);
      response.on('error', (error) => reject(unreachable(error)));
      response.on('close', resolve);
    }).finally(() => clearTimeout(deadline));
  }

  async create<T extends KubeObject>(type: ResourceType, object: KubeObject): Promise<T> {
    return this.#json<T>('POST', type, collectionPath(type, object.metadata.namespace), object);
  }

  /** Replaces the object; fails with 409 when `metadata.resourceVersion` is stale. */
  async replace<T extends KubeObject>(type: ResourceType, object: KubeObject): Promise<T> {
    return this.#json<T>('PUT', type, objectPath(type, object.metadata.namespace, object.metadata.name), object);
  }

  /** Server-side apply: `object` is the complete intent of `fieldManager`; fields it no longer sets are removed. */
  async apply<T extends KubeObject>(type: ResourceType, object: KubeObject, fieldManager: string, subresource?: 'status'): Promise<T> {
    const query = new URLSearchParams({ fieldManager, force: 'true' });
    const path = `${objectPath(type, object.metadata.namespace, object.metadata.name)}${subresource ? `/${subresource}` : ''}?${query.toString()}`;
    return this.#json<T>('PATCH', type, path, object, 'application/apply-patch+yaml');
  }

  /** JSON merge patch; include `metadata.resourceVersion` in `patch` for an optimistic lock (409 when stale). */
  async mergePatch<T extends KubeObject>(type: ResourceType, name: string, namespace: string | undefined, patch: object, subresource?: 'status'): Promise<T> {
    const path = `${objectPath(type, namespace, name)}${subresource ? `/${subresource}` : ''}`;
    return this.#json<T>('PATCH', type, path, patch, 'application/merge-patch+json');
  }

  /** Deletes in the background; an object already gone counts as deleted. */
  async delete(type: ResourceType, name: string, namespace?: string): Promise<void> {
    try {
      await this.#json('DELETE', type, objectPath(type, namespace, name), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error;
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #json<T>(method: string, type: ResourceType, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const response = await this.#send(method, type, path, body, contentType);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw await errorOf(response);
    return JSON.parse(await readBody(response)) as T;
  }

  async #send(method: string, type: ResourceType, path: string, body?: unknown, contentType?: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
    this.#count(method, type.plural);
    const tls = await this.#credentials();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const transport = this.#server.protocol === 'https:' ? https : http;
    const basePath = this.#server.pathname.replace(/\/$/, '');
    // Requests other than watches have an overall deadline, not only an idle timeout: a reconcile
    // must never wait forever on one response.
    const deadline = signal ? undefined : new AbortController();
    const timer = deadline ? setTimeout(() => deadline.abort(new Error(`${method} ${path} took longer than ${requestDeadlineMs} ms`)), requestDeadlineMs) : undefined;
    return new Promise((resolve, reject) => {
      const request = transport.request({
        ...tls,
        agent: this.#agent,
        host: this.#server.hostname,
        port: this.#server.port,
        method,
        path: basePath + path,
        headers: {
          ...(tls.headers as Record<string, string> | undefined),
          accept: 'application/json',
          ...(payload ? { 'content-type': contentType ?? 'application/json', 'content-length': payload.length } : {}),
        },
        signal: signal ?? deadline!.signal,
      }, (response) => {
        response.once('close', () => clearTimeout(timer));
        resolve(response);
      });
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(unreachable(error));
      });
      request.end(payload);
    });
  }

  async #credentials(): Promise<https.RequestOptions> {
    // Re-read at most once a minute: in-cluster service account tokens rotate.
    if (Date.now() - this.#tlsLoadedAt > 60_000) {
      const source = this.#source;
      if ('server' in source) {
        this.#tls = await httpsOptionsOf(source);
      } else {
        const options: https.RequestOptions = {};
        await source.applyToHTTPSOptions(options);
        const { agent: _ignored, ...rest } = options;
        this.#tls = rest;
      }
      this.#tlsLoadedAt = Date.now();
    }
    return this.#tls;
  }

  #count(verb: string, resource: string): void {
    const key = `${verb} ${resource}`;
    const entry = this.#counts.get(key) ?? { verb, resource, count: 0 };
    entry.count += 1;
    this.#counts.set(key, entry);
  }
}

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

function collectionPath(type: ResourceType, namespace: string | undefined): string {
  const prefix = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  return type.namespaced && namespace ? `${prefix}/namespaces/${namespace}/${type.plural}` : `${prefix}/${type.plural}`;
}

async function httpsOptionsOf(credentials: KubeCredentials): Promise<https.RequestOptions> {
  const token = credentials.tokenFile === undefined ? credentials.token : await readToken(credentials.tokenFile);
  return {
    ...(credentials.ca === undefined ? {} : { ca: credentials.ca }),
    ...(credentials.cert === undefined ? {} : { cert: credentials.cert }),
    ...(credentials.key === undefined ? {} : { key: credentials.key }),
    ...(credentials.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
    ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
  };
}

async function readToken(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new LandlordError('LL_KUBECONFIG_NOT_FOUND', `cannot read the token file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

function objectPath(type: ResourceType, namespace: string | undefined, name: string): string {
  if (type.namespaced && !namespace) throw new LandlordError('LL_OPERATOR_NAMESPACE_MISSING', `${type.kind} ${name} needs a namespace`);
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
}

/**
 * The response body as a string, decoded chunk by chunk: no chunk outlives its 'data' event and
 * no concatenated copy is made, so a burst of responses holds little memory outside the V8 heap.
 */
function readBody(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (body += chunk));
    response.on('end', () => resolve(body));
    response.on('error', (error) => reject(unreachable(error)));
    response.on('close', () => {
      if (!response.complete) reject(unreachable(new Error('the response ended early')));
    });
  });
}

async function errorOf(response: http.IncomingMessage): Promise<KubeApiError> {
  const text = await readBody(response).catch(() => '');
  let status: { reason?: string; message?: string } = {};
  try {
    status = JSON.parse(text) as typeof status;
  } catch {
    status = { message: text.slice(0, 200) };
  }
  return new KubeApiError(response.statusCode ?? 0, status.reason ?? 'Unknown', status.message ?? `HTTP ${response.statusCode}`);
}

function unreachable(error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  return new KubeApiError(0, 'Unreachable', `the API server is unreachable: ${error instanceof Error ? error.message : String(error)}`, error);
}
