/**
 * landlord installed on the e2e cluster's node as `landlord up` installs it (the same
 * installPlatform, minus starting the cluster): controller, webhook and edge router run as pods
 * from the image built from this checkout, and the router answers on its host loopback ports.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, describe, it } from 'node:test';
import { buildLandlordImage, landlordImage } from '../../src/devcluster/index.ts';
import { caBundleSet, componentNames, installPlatform, removePlatform, platformManifests, type PlatformManifests, type RouterHostPorts } from '../../src/install/index.ts';
import { KubeClient } from '../../src/operator/index.ts';
import { testCluster } from '../support/cluster.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const cluster = await testCluster({ node: true });

/** Loopback ports free right now (the router binds them moments later). */
async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function httpStatus(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).once('error', reject);
  });
}

function tlsAlert(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('handshake completed');
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

describe('landlord installed as pods on the local node', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'landlord-e2e-platform-'));
  const client = new KubeClient(cluster.kubeConfig());
  let manifests: PlatformManifests | undefined;
  after(async () => {
    // The shared cluster outlives this file: take the webhooks (Fail policy on tenant namespaces) and the components away.
    if (manifests) await removePlatform(cluster.kubeConfig(), manifests, { keepCustomResourceDefinitions: true });
    client.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('brings controller, webhook and router to Ready; the router serves its host ports; a re-run changes nothing', async () => {
    const image = buildLandlordImage(path.join(work, 'landlord.tar'), projectRoot);
    await cluster.importImage(image.file);
    const [tlsPort, httpPort, postgresPort, metricsPort] = await freeLoopbackPorts(4);
    const ports: RouterHostPorts = { tls: tlsPort!, http: httpPort!, postgres: postgresPort!, metrics: metricsPort! };
    manifests = platformManifests({ image: landlordImage, imagePullPolicy: 'Never', router: { kind: 'host-loopback', ports }, replicas: 1, imageId: image.id });
    const progress: string[] = [];
    const routerAddresses = [ports.tls, ports.http, ports.postgres].map((port) => ({ host: '127.0.0.1', port }));
    await installPlatform({ kubeConfig: cluster.kubeConfig(), manifests, onProgress: (line) => progress.push(line), routerAddresses, timeoutMs: 240_000 });

    for (const name of Object.values(componentNames)) {
      assert.ok(progress.includes(`ready ${name} (1/1 ready)`), `${name} reported ready in ${JSON.stringify(progress)}`);
    }
    assert.match(await tlsAlert(ports.tls, 'nobody.example'), /unrecognized name|alert number 112/i);
    assert.equal(await httpStatus(ports.http, 'nobody.example'), 404, 'the router answers unknown hosts on its HTTP port');

    const generations = await Promise.all(Object.values(componentNames).map(async (name) => (await client.get(deploymentType, name, 'landlord-system'))?.metadata.generation));
    await installPlatform({ kubeConfig: cluster.kubeConfig(), manifests, onProgress: () => {}, routerAddresses, timeoutMs: 60_000 });
    const after = await Promise.all(Object.values(componentNames).map(async (name) => (await client.get(deploymentType, name, 'landlord-system'))?.metadata.generation));
    assert.deepEqual(after, generations, 'a re-run with the same image rolls nothing out');
    for (const configuration of manifests.webhooks) {
      const live = await client.get({ group: 'admissionregistration.k8s.io', version: 'v1', plural: `${configuration.kind.toLowerCase()}s`, kind: configuration.kind, namespaced: false }, configuration.metadata.name);
      assert.ok(live && caBundleSet(live), `a re-run leaves the operator's caBundle of ${configuration.kind} in place`);
    }
  });
});

const deploymentType = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true } as const;
