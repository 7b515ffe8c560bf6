/**
 * Test support for the admission webhooks: a real webhook server on 127.0.0.1 with a serving
 * certificate from the PKI, registered with a real API server, and tenant fixtures.
 *
 * Until the operator is merged, tenant namespaces and platform-managed objects are created here
 * directly with the admin client, labelled as the operator will label them, and tenant users are
 * bound to the built-in `admin` ClusterRole (the operator's `landlord-tenant-admin` replaces it).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdmissionregistrationV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { buildWebhookServer, webhookConfigurations, type WebhookServer, type WebhookServerDeps } from '../../src/admission/index.ts';
import { labels, managedByValue } from '../../src/api/meta.ts';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { createRootCa, issuePlatformServingCertificate, loadAuthority } from '../../src/pki/index.ts';
import { eventually } from './cluster.ts';
import { KubeHttp } from './kube-http.ts';

export interface RunningWebhook {
  readonly server: WebhookServer;
  readonly url: string;
  readonly configurationName: string;
  /** Stops the server, leaving the configurations registered (the webhook-down case). */
  stopServer(): Promise<void>;
  /** Removes the configurations, stops the server and deletes the certificates. */
  remove(): Promise<void>;
}

/**
 * Starts the webhook, registers it for `tenants` only (so other test files on a shared cluster are
 * never affected), and waits until the API server calls it.
 */
export async function startWebhook(
  cluster: DevCluster,
  options: { tenants: string[]; probeNamespace: string; deps?: Partial<WebhookServerDeps> },
): Promise<RunningWebhook> {
  const certDir = await mkdtemp(path.join(tmpdir(), 'landlord-webhook-'));
  const root = await createRootCa();
  const serving = await issuePlatformServingCertificate(await loadAuthority(root), { dns: ['landlord-webhook.landlord-system.svc'], ip: ['127.0.0.1'] });
  await writeFile(path.join(certDir, 'tls.key'), serving.privateKey ?? '', { mode: 0o600 });
  await writeFile(path.join(certDir, 'tls.crt'), serving.certificate);
  const server = await buildWebhookServer({ certDir, ...options.deps });
  const { port } = await server.listen(0, '127.0.0.1');
  const url = `https://127.0.0.1:${port}`;
  const configurationName = `landlord-admission-${options.tenants.join('-')}`;
  const { mutating, validating } = webhookConfigurations({ client: { url, caPem: root.certificate }, name: configurationName, tenants: options.tenants });
  const api = cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
  await api.createMutatingWebhookConfiguration({ body: mutating });
  await api.createValidatingWebhookConfiguration({ body: validating });
  let stopped = false;
  const stopServer = async (): Promise<void> => {
    if (!stopped) await server.close();
    stopped = true;
  };
  await waitUntilCalled(cluster, options.probeNamespace);
  return {
    server, url, configurationName, stopServer,
    async remove() {
      await api.deleteMutatingWebhookConfiguration({ name: configurationName }).catch(() => undefined);
      await api.deleteValidatingWebhookConfiguration({ name: configurationName }).catch(() => undefined);
      await stopServer();
      await rm(certDir, { recursive: true, force: true });
    },
  };
}

/** Webhook registration is asynchronous in the API server: wait until a hostPID pod is denied by it. */
export async function waitUntilCalled(cluster: DevCluster, namespace: string): Promise<void> {
  const admin = new KubeHttp(cluster.kubeconfigPath);
  await eventually('the API server to call the webhook', async () => {
    const outcome = await admin.request('POST', `/api/v1/namespaces/${namespace}/pods?dryRun=All`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'webhook-probe' }, spec: { hostPID: true, containers: [{ name: 'a', image: 'a' }] },
    });
    return outcome.message.includes('baseline/hostNamespaces') ? true : undefined;
  });
}

export interface TenantFixture {
  readonly tenant: string;
  readonly namespace: string;
  readonly user: string;
  readonly group: string;
  /** The tenant user's kubeconfig file (a client certificate in the tenant's group). */
  readonly kubeconfig: string;
}

/**
 * A tenant namespace as the operator will create it (labelled, with the tenant group bound to the
 * `admin` ClusterRole), and a user in the tenant's group.
 */
export async function tenantFixture(cluster: DevCluster, tenant: string, namespace = tenant): Promise<TenantFixture> {
  const admin = cluster.kubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const group = `tenant:${tenant}`;
  const user = `${tenant}-alice`;
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { [labels.tenant]: tenant, [labels.tier]: 'soft', [labels.managedBy]: managedByValue } } } });
  await admin.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'tenant-admin', labels: { [labels.managedBy]: managedByValue, [labels.tenant]: tenant } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
    },
  });
  // Pods are refused until the service account controller has created the namespace's `default`.
  await eventually(`the default service account of ${namespace}`, () => core.readNamespacedServiceAccount({ namespace, name: 'default' }));
  return { tenant, namespace, user, group, kubeconfig: await cluster.kubeconfigFor({ user, groups: [group] }) };
}

/** The labels the operator puts on what it manages in a tenant namespace. */
export function platformManaged(tenant: string): Record<string, string> {
  return { [labels.managedBy]: managedByValue, [labels.tenant]: tenant };
}
