/**
 * Raw Kubernetes API calls for attack tests: any of the eight verbs on a plural resource path,
 * with the caller's own credentials, returning the HTTP status and the Status message.
 */
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;
export type Verb = (typeof verbs)[number];

export interface Outcome {
  status: number;
  message: string;
  /** The response body parsed as JSON, when it is JSON. */
  body?: unknown;
  /** The text of each `Warning` header (`299 - "text"`), e.g. from admission webhooks. */
  warnings: string[];
}

export class KubeHttp {
  readonly #config: KubeConfig;

  constructor(kubeconfigFile: string) {
    this.#config = new KubeConfig();
    this.#config.loadFromFile(kubeconfigFile);
  }

  /**
   * `collection` is a plural resource path (`/api/v1/namespaces/acme/resourcequotas`); `name`
   * the object for get/update/patch/delete; `body` the object for create/update.
   */
  async call(verb: Verb, collection: string, name: string, body: unknown = {}): Promise<Outcome> {
    const item = `${collection}/${name}`;
    const plan: Record<Verb, [string, string, unknown?, string?]> = {
      get: ['GET', item],
      list: ['GET', collection],
      watch: ['GET', `${collection}?watch=true&timeoutSeconds=1`],
      create: ['POST', collection, body, 'application/json'],
      update: ['PUT', item, body, 'application/json'],
      patch: ['PATCH', item, { metadata: { labels: { probe: 'patched' } } }, 'application/merge-patch+json'],
      delete: ['DELETE', item],
      deletecollection: ['DELETE', collection],
    };
    const [method, path, payload, contentType] = plan[verb];
    return this.request(method, path, payload, contentType);
  }

  async request(method: string, path: string, payload?: unknown, contentType = 'application/json'): Promise<Outcome> {
    const cluster = this.#config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(path, cluster.server);
    const options: https.RequestOptions = { method, host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: {} };
    await this.#config.applyToHTTPSOptions(options);
    const text = payload === undefined ? undefined : JSON.stringify(payload);
    if (text !== undefined) options.headers = { ...options.headers, 'content-type': contentType, 'content-length': Buffer.byteLength(text) };
    return new Promise((resolve, reject) => {
      const request = https.request(options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const raw = Buffer.concat(chunks).toString();
          let message = raw;
          let body: unknown;
          try {
            const parsed = JSON.parse(raw.split('\n')[0] ?? '') as { kind?: string; message?: string; object?: { message?: string } };
            body = parsed;
            message = parsed.message ?? parsed.object?.message ?? raw;
          } catch {
            // a watch stream or a non-JSON body: keep the raw text
          }
          const warnings = (response.headersDistinct.warning ?? []).map((header) => /^\d{3} \S+ "(.*)"$/.exec(header)?.[1]?.replace(/\\(.)/g, '$1') ?? header);
          resolve({ status: response.statusCode ?? 0, message, ...(body === undefined ? {} : { body }), warnings });
        });
      });
      request.setTimeout(15_000, () => request.destroy(new Error(`${method} ${path} timed out`)));
      request.on('error', reject);
      request.end(text);
    });
  }
}
