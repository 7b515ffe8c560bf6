/**
 * The tenant ingress end to end on the local node: the operator deploys acme's ingress (landlord's
 * own image, restricted pod, its ServiceAccount's namespaced Roles), an acme app and Route get a
 * certificate Secret, and an HTTPS request with SNI to the ingress pod, sent as the edge router
 * sends it (PROXY v2 from the router source CIDR), reaches the app through its Service ClusterIP.
 * Another tenant's hostname is refused at the handshake. Admission webhooks are not installed here.
 *
 * Run alone: flock /tmp/landlord-node.lock node --test test/e2e/tenant-ingress.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { buildLandlordImage, buildTestAppImage, landlordImage, nodeNetwork, testAppImage } from '../../src/devcluster/index.ts';
import { buildOperator, KubeClient, readApiServerEndpoints, resources, rootCaSecretName, type ApiServerEndpoint, type KubeObject, type Operator } from '../../src/operator/index.ts';
import { bundleFromSecret, issueLeafCertificate, loadAuthority, tlsSecret } from '../../src/pki/index.ts';
import { encodeProxyV2 } from '../../src/shared/proxy-protocol.ts';
import { eventually, testCluster } from '../support/cluster.ts';
import { installCrds, tenant, untilReady } from '../support/tenants.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const run = Math.random().toString(36).slice(2, 6);
const acme = `acme${run}`;
const globex = `globex${run}`;
const routeType = { group: 'landlord.dev', version: 'v1alpha1', plural: 'routes', kind: 'Route', namespaced: true } as const;

const cluster = await testCluster({ node: true });

function testAppPod(name: string): V1Pod {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'main',
        image: testAppImage,
        imagePullPolicy: 'Never',
        ports: [{ containerPort: 8080 }],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
      }],
    },
  };
}

/** One HTTP/1.1 GET over TLS to `address:8443`, preceded by a PROXY v2 header as the edge router sends it. */
function httpsThroughProxyHeader(address: string, servername: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: address, port: 8443 }, () => {
      raw.write(encodeProxyV2({ address: '198.51.100.7', port: 40000 }, { address, port: 8443 }));
      const secure = tls.connect({ socket: raw, servername, ca, ALPNProtocols: ['http/1.1'] }, () => {
        secure.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      secure.setEncoding('utf8');
      secure.on('data', (chunk: string) => (text += chunk));
      secure.on('end', () => {
        const [head = '', body = ''] = text.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), body: body.trim() });
      });
      secure.on('error', reject);
    });
    raw.on('error', reject);
    raw.setTimeout(10_000, () => raw.destroy(new Error('timed out')));
  });
}

describe('tenant ingress on the node', () => {
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  let kube: KubeClient;
  let operator: Operator;
  let apiServer: ApiServerEndpoint[];
  let work: string;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'landlord-e2e-ingress-'));
    await cluster.importImage(buildLandlordImage(path.join(work, 'landlord.tar'), projectRoot).file);
    await cluster.importImage(buildTestAppImage(path.join(work, 'test-app.tar')).file);
    await installCrds(cluster.kubeConfig());
    kube = new KubeClient(cluster.kubeConfig());
    await eventually('the Route API', () => kube.list(routeType).then(() => true));
    apiServer = await readApiServerEndpoints(kube);
    operator = buildOperator({ client: new KubeClient(cluster.kubeConfig()), workers: 2, ingress: { image: landlordImage, routerSourceCidr: `${nodeNetwork.nodeIP}/32`, apiServer } });
    void operator.run();
    await operator.started();
  });

  after(async () => {
    await operator?.stop();
    kube?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("routes an http Route through the tenant's own ingress pod, and refuses another tenant's hostname", async () => {
    const created = Date.now();
    await kube.create(resources.tenants, tenant(acme));
    await kube.create(resources.tenants, tenant(globex));
    await untilReady(kube, acme);
    const ingressPod = await eventually('the landlord-ingress pod to be Ready', async () => {
      const pods = await core.listNamespacedPod({ namespace: acme, labelSelector: 'app.kubernetes.io/name=landlord-ingress' });
      return pods.items.find((pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, 180_000);
    const readyMs = Date.now() - created;
    const readySince = ingressPod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
    const podCreated = ingressPod.metadata?.creationTimestamp;
    const podToReady = readySince && podCreated ? new Date(readySince).getTime() - new Date(podCreated).getTime() : NaN;
    console.log(`# landlord-ingress pod Ready ${readyMs} ms after the Tenant was created (pod created → Ready: ${podToReady} ms, second resolution)`);
    const podIP = ingressPod.status?.podIP ?? '';

    await core.createNamespacedPod({ namespace: acme, body: testAppPod('web') });
    await core.createNamespacedService({ namespace: acme, body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } });
    await kube.create(routeType, {
      apiVersion: 'landlord.dev/v1alpha1', kind: 'Route', metadata: { name: 'web', namespace: acme },
      spec: { hostname: `web.${acme}.example`, protocol: 'http', backend: { service: 'web', port: 80 } },
    });
    const caSecret = await kube.get<KubeObject & { type: string; data: Record<string, string> }>(resources.secrets, `tenant-${acme}-ca`, 'landlord-system');
    const rootSecret = await kube.get<KubeObject & { type: string; data: Record<string, string> }>(resources.secrets, rootCaSecretName, 'landlord-system');
    assert.ok(caSecret && rootSecret);
    const rootCa = bundleFromSecret(rootSecret).certificate;
    const leaf = await issueLeafCertificate(await loadAuthority(bundleFromSecret(caSecret)), { dns: [`web.${acme}.example`], uri: [] });
    await kube.apply(resources.secrets, tlsSecret({ name: 'landlord-tls-web', namespace: acme, labels: {} }, leaf) as unknown as KubeObject, 'test');
    await eventually('pod web to run', async () => ((await core.readNamespacedPod({ namespace: acme, name: 'web' })).status?.phase === 'Running' ? true : undefined), 60_000);

    const answer = await eventually('an answer from test-app through the ingress', async () => {
      const response = await httpsThroughProxyHeader(podIP, `web.${acme}.example`, rootCa);
      return response.status === 200 ? response : undefined;
    }, 60_000);
    assert.equal(answer.body, 'test-app web');

    await assert.rejects(httpsThroughProxyHeader(podIP, `web.${globex}.example`, rootCa), /unrecognized name/i);
    const log = await core.readNamespacedPodLog({ namespace: acme, name: ingressPod.metadata?.name ?? '' });
    assert.match(log, /"client":"198\.51\.100\.7:40000"/, 'the access log names the client from the PROXY header');
  });

  it('lets the tenant ingress reach the API server the cluster lists, from its namespace', async () => {
    // With a node, the API server advertises the node's address in default/kubernetes.
    assert.deepEqual(apiServer.map((endpoint) => endpoint.ip), [nodeNetwork.nodeIP]);
    const policy = await kube.get<KubeObject & { spec: Record<string, unknown> }>(resources.networkPolicies, 'landlord-allow-ingress-to-apiserver', acme);
    assert.deepEqual(policy?.spec, {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'landlord-ingress' } },
      policyTypes: ['Egress'],
      egress: apiServer.map(({ ip, port }) => ({ to: [{ ipBlock: { cidr: `${ip}/32` } }], ports: [{ protocol: 'TCP', port }] })),
    });
  });
});
