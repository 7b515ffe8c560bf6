/**
 * The namespaced reflector against a scripted API server on 127.0.0.1: the real kube-apiserver
 * cannot be made to expire a watch (410) or refuse one on demand. The happy path runs against the
 * real API server in test/integration/tenant-ingress.test.ts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { LandlordError } from '../shared/errors.ts';
import { startNamespacedReflector, type ListPage, type NamespacedReflector } from './kube-watch.ts';

interface Thing {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion: string };
}

const thing = (name: string, resourceVersion: string): Thing => ({ metadata: { name, namespace: 'acme', resourceVersion } });

class ScriptedApiServer {
  readonly server = http.createServer((request, response) => this.#serve(request, response));
  readonly watchRequests: URL[] = [];
  streams: http.ServerResponse[] = [];
  watchStatus = 200;

  #serve(request: http.IncomingMessage, response: http.ServerResponse): void {
    this.watchRequests.push(new URL(request.url ?? '/', 'http://localhost'));
    if (this.watchStatus !== 200) return void response.writeHead(this.watchStatus).end();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.flushHeaders();
    this.streams.push(response);
  }

  send(type: string, object: object): void {
    for (const stream of this.streams) stream.write(`${JSON.stringify({ type, object })}\n`);
  }

  expire(): void {
    this.send('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 });
    for (const stream of this.streams) stream.end();
    this.streams = [];
  }
}

describe('namespaced reflector', () => {
  const api = new ScriptedApiServer();
  let kubeConfig: KubeConfig;
  let pages: ListPage<Thing>[];
  let errors: LandlordError[];
  let reflector: NamespacedReflector<Thing> | undefined;

  const start = (): NamespacedReflector<Thing> => {
    reflector = startNamespacedReflector<Thing>({
      kubeConfig,
      resource: { name: 'secrets in acme', watchPath: '/api/v1/namespaces/acme/secrets', fieldSelector: 'type=kubernetes.io/tls', list: () => Promise.resolve(pages.shift() ?? { items: [], resourceVersion: '1' }) },
      onChange: () => undefined,
      onError: (error) => errors.push(error),
      backoff: { initialMs: 5, maxMs: 20 },
    });
    return reflector;
  };
  const until = async (what: string, check: () => boolean): Promise<void> => {
    for (let i = 0; i < 300 && !check(); i += 1) await sleep(10);
    assert.ok(check(), `timed out waiting for ${what}`);
  };
  const names = (items: Thing[]): string[] => items.map((t) => t.metadata.name).sort();

  before(async () => {
    api.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => api.server.once('listening', resolve));
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'scripted', server: `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'anonymous' }],
      contexts: [{ name: 'scripted', cluster: 'scripted', user: 'anonymous' }],
      currentContext: 'scripted',
    });
  });
  beforeEach(() => {
    reflector?.stop();
    for (const stream of api.streams) stream.end();
    api.streams = [];
    api.watchRequests.length = 0;
    api.watchStatus = 200;
    pages = [];
    errors = [];
  });
  after(async () => {
    reflector?.stop();
    api.server.closeAllConnections();
    await new Promise((resolve) => api.server.close(resolve));
  });

  it('watches one namespace with the field selector, from the list’s resourceVersion', async () => {
    pages = [{ items: [thing('a', '10')], resourceVersion: '10' }];
    const cache = start();
    await until('the watch', () => api.streams.length === 1);
    const request = api.watchRequests[0];
    assert.equal(request?.pathname, '/api/v1/namespaces/acme/secrets');
    assert.equal(request?.searchParams.get('fieldSelector'), 'type=kubernetes.io/tls');
    assert.equal(request?.searchParams.get('resourceVersion'), '10');
    api.send('ADDED', thing('b', '11'));
    api.send('DELETED', thing('a', '12'));
    await until('the events', () => names(cache.items()).join() === 'b');
  });

  it('relists after a 410 and forgets objects deleted while it was not watching', async () => {
    pages = [{ items: [thing('a', '10'), thing('b', '10')], resourceVersion: '10' }, { items: [thing('b', '20'), thing('c', '20')], resourceVersion: '20' }];
    const cache = start();
    await until('the first watch', () => api.streams.length === 1);
    api.expire();
    await until('the second watch', () => api.streams.length === 1 && api.watchRequests.length === 2);
    assert.equal(cache.lists, 2);
    assert.deepEqual(names(cache.items()), ['b', 'c']);
    assert.equal(api.watchRequests[1]?.searchParams.get('resourceVersion'), '20');
    assert.deepEqual(errors, []);
  });

  it('reports a refused watch and reconnects with backoff, keeping its cache', async () => {
    api.watchStatus = 403;
    pages = [{ items: [thing('a', '10')], resourceVersion: '10' }];
    const cache = start();
    await until('two refused watches', () => errors.length >= 2);
    assert.equal(errors[0]?.code, 'LL_INGRESS_KUBE_WATCH_FAILED');
    api.watchStatus = 200;
    await until('a watch', () => api.streams.length === 1);
    assert.equal(cache.lists, 1);
    assert.deepEqual(names(cache.items()), ['a']);
  });
});
