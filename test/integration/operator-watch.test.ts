/**
 * The informer's watch against a real kube-apiserver: bookmarks advance the resourceVersion, and a
 * watch whose resourceVersion the server no longer has (410 Gone) turns into a relist whose
 * differences reach the handler, deletions included. Uses a cluster of its own: the relist test
 * restarts kube-apiserver, whose fresh watch cache has no history older than its start.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type DevCluster } from '../../src/devcluster/index.ts';
import { KubeClient, resources, type KubeObject } from '../../src/operator/index.ts';
import { Informer, objectKey } from '../../src/operator/runtime/informer.ts';
import type { WatchEventType } from '../../src/operator/runtime/kube.ts';
import { Counter } from '../../src/operator/runtime/metrics.ts';
import { silentLogger } from '../../src/shared/log.ts';
import { apiServerPid, restartApiServer } from '../support/apiserver.ts';
import { eventually } from '../support/cluster.ts';
import { loadKubeconfigFile } from '../../src/shared/kubeconfig.ts';

const namespace = 'watch-test';

const configMap = (name: string, labels: Record<string, string>, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data,
});

describe('informer watches', () => {
  let cluster: DevCluster;
  let kube: KubeClient;

  before(async () => {
    cluster = await startCluster({ name: 'op-watch', node: false });
    kube = new KubeClient(loadKubeconfigFile(cluster.kubeconfigPath));
    await kube.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  });

  after(async () => {
    kube?.close();
    await cluster?.stop();
  });

  it('receives a bookmark carrying a newer resourceVersion before the server ends the watch', async () => {
    const selector = 'test=bookmark';
    const { resourceVersion } = await kube.list(resources.configMaps, { namespace, labelSelector: selector });
    await kube.create(resources.configMaps, configMap('unrelated', { test: 'other' }));
    const events: Array<{ type: WatchEventType; resourceVersion: string | undefined }> = [];
    const watching = kube.watch(resources.configMaps, { namespace, labelSelector: selector, resourceVersion, signal: AbortSignal.timeout(30_000), timeoutSeconds: 6 },
      (type, object) => events.push({ type, resourceVersion: object.metadata.resourceVersion }));
    // The server sends a bookmark only past an event it processed after the watch began: keep
    // changing an object the watch does not match until the server ends the watch.
    let ended = false;
    void watching.finally(() => (ended = true));
    for (let n = 0; !ended; n++) {
      await kube.mergePatch(resources.configMaps, 'unrelated', namespace, { data: { n: String(n) } });
      await sleep(500);
    }
    await watching;
    const bookmark = events.find((event) => event.type === 'BOOKMARK');
    assert.ok(bookmark?.resourceVersion, `a bookmark arrived (events: ${JSON.stringify(events)})`);
    assert.deepEqual(events.filter((event) => event.type !== 'BOOKMARK'), [], 'nothing the selector matches changed');
    assert.ok(BigInt(bookmark.resourceVersion) > BigInt(resourceVersion), 'the bookmark is past the version the watch started from');
  });

  it('lists again after 410 Gone and reports what changed while it was cut off, deletions included', async () => {
    const selector = 'test=relist';
    for (const name of ['a', 'b', 'c', 'd']) await kube.create(resources.configMaps, configMap(name, { test: 'relist' }, { v: '1' }));
    const relay = await tcpRelay(new URL(cluster.server));
    const client = new KubeClient({ ...loadKubeconfigFile(cluster.kubeconfigPath), server: relay.url });
    const restarts = new Counter('restarts', 'watch restarts', ['resource', 'reason']);
    const deleted: string[] = [];
    const informer = new Informer<KubeObject>({
      client, type: resources.configMaps, namespace, labelSelector: selector, logger: silentLogger, restarts,
      onChange: (current, previous) => {
        if (current === undefined && previous !== undefined) deleted.push(objectKey(previous));
      },
    });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    try {
      await informer.waitForSync();
      assert.deepEqual(names(informer), ['a', 'b', 'c', 'd']);

      relay.cut();
      await kube.delete(resources.configMaps, 'a', namespace);
      await kube.delete(resources.configMaps, 'b', namespace);
      await kube.mergePatch(resources.configMaps, 'c', namespace, { data: { v: '2' } });
      await kube.create(resources.configMaps, configMap('e', { test: 'relist' }));
      // A restarted API server's watch cache starts at the current resourceVersion: the informer's is now too old.
      await restartApiServer(cluster, apiServerPid(cluster), 500);
      await eventually('kube-apiserver to serve again', () => kube.list(resources.configMaps, { namespace, labelSelector: selector }), 60_000);
      relay.restore();

      await eventually('the informer to relist', () => Promise.resolve(restarts.labels({ resource: 'configmaps', reason: 'gone' }).value > 0 ? true : undefined), 60_000);
      await eventually('the cache to converge', () => Promise.resolve(names(informer).join() === 'c,d,e' ? true : undefined), 30_000);
      assert.deepEqual(informer.get(`${namespace}/c`)?.data, { v: '2' }, 'the change made while cut off is cached');
      assert.deepEqual(deleted.sort(), [`${namespace}/a`, `${namespace}/b`], 'the handler saw both deletions');
    } finally {
      stop.abort();
      await running;
      client.close();
      await relay.close();
    }
  });
});

function names(informer: Informer<KubeObject>): string[] {
  return informer.list().map((object) => object.metadata.name).sort();
}

/** The kubeconfig with its server replaced by `server` (same credentials; the certificate names 127.0.0.1). */
/** A TCP relay to the API server that can be cut (every connection dropped, new ones refused) and restored. */
async function tcpRelay(target: URL): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((downstream) => {
    track(downstream);
    if (!open) return void downstream.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    track(upstream);
    downstream.pipe(upstream).pipe(downstream);
    downstream.on('close', () => upstream.destroy());
    upstream.on('close', () => downstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    cut: () => {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore: () => void (open = true),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
