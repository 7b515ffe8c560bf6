/**
 * The reflector against a scripted API server on 127.0.0.1: the real kube-apiserver cannot be made
 * to expire a watch (410) or fail on demand, so these cases use a server that speaks the watch
 * protocol (JSON lines) and lets each test decide what happens. The happy path runs against the
 * real API server in test/integration/router-kubernetes.test.ts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { LandlordError } from './errors.ts';
import { startReflector, type KubeObject, type ResourceList } from './kube-reflector.ts';

interface Thing extends KubeObject {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion: string };
  readonly data?: string;
}

const thing = (name: string, resourceVersion: string, data = ''): Thing => ({ metadata: { name, namespace: 'ns', resourceVersion }, data });

/** A watch endpoint whose open streams the test writes events to. */
class ScriptedApiServer {
  readonly server = http.createServer((request, response) => this.#serve(request, response));
  readonly watchRequests: URLSearchParams[] = [];
  streams: http.ServerResponse[] = [];
  /** Status code for the next watch requests (200 opens a stream). */
  watchStatus = 200;

  #serve(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    this.watchRequests.push(url.searchParams);
    if (this.watchStatus !== 200) return void response.writeHead(this.watchStatus).end();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.flushHeaders();
    this.streams.push(response);
  }

  send(type: string, object: object): void {
    for (const stream of this.streams) stream.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** What the API server does when the watched resourceVersion is compacted away. */
  expire(): void {
    this.send('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 });
    for (const stream of this.streams) stream.end();
    this.streams = [];
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
}

describe('reflector', () => {
  const api = new ScriptedApiServer();
  let kubeConfig: KubeConfig;
  let listed: ResourceList<Thing>[];
  let listFailures: number;
  let errors: LandlordError[];
  let changes: number;
  let stop: (() => void) | undefined;

  const start = (fieldSelector?: string) => {
    const reflector = startReflector<Thing>({
      errorCodePrefix: 'LL_ROUTER_KUBE',
      kubeConfig,
      resource: {
        name: 'things',
        watchPath: '/apis/example.test/v1/things',
        ...(fieldSelector ? { fieldSelector } : {}),
        list: () => {
          if (listFailures > 0) {
            listFailures -= 1;
            return Promise.reject(new Error('connection refused'));
          }
          return Promise.resolve(listed.shift() ?? { items: [], resourceVersion: '1' });
        },
      },
      onChange: () => (changes += 1),
      onError: (error) => errors.push(error),
      backoff: { initialMs: 5, maxMs: 20 },
    });
    stop = () => reflector.stop();
    return reflector;
  };
  const names = (items: Thing[]) => items.map((t) => `${t.metadata.name}${t.data ? `=${t.data}` : ''}`).sort();
  const until = async (what: string, check: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !check(); i += 1) await sleep(10);
    assert.ok(check(), `timed out waiting for ${what}`);
  };

  before(async () => {
    api.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => api.server.once('listening', resolve));
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'scripted', server: `http://127.0.0.1:${api.port}`, skipTLSVerify: true }],
      users: [{ name: 'anonymous' }],
      contexts: [{ name: 'scripted', cluster: 'scripted', user: 'anonymous' }],
      currentContext: 'scripted',
    });
  });
  beforeEach(() => {
    stop?.();
    for (const stream of api.streams) stream.end();
    api.streams = [];
    api.watchRequests.length = 0;
    api.watchStatus = 200;
    listed = [];
    listFailures = 0;
    errors = [];
    changes = 0;
  });
  after(async () => {
    stop?.();
    api.server.closeAllConnections();
    await new Promise((resolve) => api.server.close(resolve));
  });

  it('lists, then applies added, modified and deleted events from the list\u2019s resourceVersion', async () => {
    listed = [{ items: [thing('a', '10')], resourceVersion: '10' }];
    const reflector = start();
    await until('the watch', () => api.streams.length === 1);
    assert.equal(api.watchRequests[0]?.get('resourceVersion'), '10');
    assert.deepEqual(names(reflector.items()), ['a']);
    api.send('ADDED', thing('b', '11'));
    api.send('MODIFIED', thing('a', '12', 'new'));
    api.send('DELETED', thing('b', '13'));
    await until('three events', () => changes === 4);
    assert.deepEqual(names(reflector.items()), ['a=new']);
  });

  it('sends the resource\'s field selector with the watch', async () => {
    listed = [{ items: [], resourceVersion: '10' }];
    start('type=kubernetes.io/tls');
    await until('the watch', () => api.streams.length === 1);
    assert.equal(api.watchRequests[0]?.get('fieldSelector'), 'type=kubernetes.io/tls');
  });

  it('relists after a 410 and forgets objects deleted while it was not watching', async () => {
    listed = [
      { items: [thing('a', '10'), thing('b', '10')], resourceVersion: '10' },
      { items: [thing('b', '20'), thing('c', '20')], resourceVersion: '20' },
    ];
    const reflector = start();
    await until('the first watch', () => api.streams.length === 1);
    api.expire();
    await until('the second watch', () => api.streams.length === 1 && api.watchRequests.length === 2);
    assert.equal(reflector.lists, 2);
    assert.deepEqual(names(reflector.items()), ['b', 'c']);
    assert.equal(api.watchRequests[1]?.get('resourceVersion'), '20');
    assert.deepEqual(errors, []);
  });

  it('resumes from the last event\u2019s resourceVersion when a watch ends normally, without relisting', async () => {
    listed = [{ items: [], resourceVersion: '10' }];
    const reflector = start();
    await until('the first watch', () => api.streams.length === 1);
    api.send('ADDED', thing('a', '15'));
    api.send('BOOKMARK', { metadata: { resourceVersion: '17' } });
    await until('the event', () => reflector.items().length === 1);
    for (const stream of api.streams) stream.end();
    api.streams = [];
    await until('the second watch', () => api.watchRequests.length === 2);
    assert.equal(api.watchRequests[1]?.get('resourceVersion'), '17');
    assert.equal(reflector.lists, 1);
  });

  it('reports a failing list with its code and retries until it succeeds', async () => {
    listFailures = 2;
    listed = [{ items: [thing('a', '10')], resourceVersion: '10' }];
    const reflector = start();
    await until('the sync', () => reflector.synced);
    assert.deepEqual(errors.map((e) => e.code), ['LL_ROUTER_KUBE_LIST_FAILED', 'LL_ROUTER_KUBE_LIST_FAILED']);
    assert.deepEqual(names(reflector.items()), ['a']);
  });

  it('reports a refused watch and reconnects with backoff, keeping its cache', async () => {
    api.watchStatus = 500;
    listed = [{ items: [thing('a', '10')], resourceVersion: '10' }];
    const reflector = start();
    await until('two refused watches', () => errors.length >= 2);
    assert.equal(errors[0]?.code, 'LL_ROUTER_KUBE_WATCH_FAILED');
    api.watchStatus = 200;
    await until('a watch', () => api.streams.length === 1);
    assert.equal(reflector.lists, 1);
    assert.deepEqual(names(reflector.items()), ['a']);
  });
});
