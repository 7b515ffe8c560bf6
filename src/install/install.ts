/**
 * The act step of an installation: applies rendered objects with server-side apply, then waits
 * until the platform serves: every Deployment rolled out, the webhook configurations carrying the
 * operator's CA bundle and the API server reaching the webhook, and the router's listeners
 * accepting connections. Re-running with unchanged objects writes nothing new and returns as soon
 * as the checks pass.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { labels, platformNamespace } from '../api/meta.ts';
import { KubeClient, type KubeObject } from '../operator/index.ts';
import { LandlordError } from '../shared/errors.ts';
import { rootCaSecret, type DemoObjects } from './demo.ts';
import type { PlatformManifests } from './manifests.ts';
import { caBundleSet, deploymentProgress, podTrouble, type DeploymentProgress } from './readiness.ts';
import { resourceOf, resourceType } from './resources.ts';

export const installFieldManager = 'landlord-up';

export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

export interface InstallOptions {
  readonly kubeConfig: KubeConfig;
  readonly manifests: PlatformManifests;
  readonly onProgress: (message: string) => void;
  /** How long to wait for everything to be ready. Default 180 s. */
  readonly timeoutMs?: number;
  /** Addresses that must accept TCP connections: the router's host ports on the local cluster. */
  readonly routerAddresses?: readonly HostAddress[];
}

export async function installPlatform(options: InstallOptions): Promise<void> {
  const client = new KubeClient(options.kubeConfig);
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  try {
    const { manifests, onProgress } = options;
    onProgress(`applying ${manifests.customResourceDefinitions.length} CustomResourceDefinitions`);
    await applyAll(client, manifests.customResourceDefinitions);
    await waitForEstablished(client, manifests.customResourceDefinitions.map((crd) => crd.metadata.name), deadline);
    await waitForNamespaceNotTerminating(client, deadline, onProgress);
    onProgress(`applying RBAC, components and webhook configurations to ${platformNamespace}`);
    await applyAll(client, [manifests.namespace, ...manifests.rbac, ...manifests.components, ...manifests.webhooks.map(withoutCaBundle)]);
    const deployments = manifests.components.filter((object) => object.kind === 'Deployment').map((object) => object.metadata.name);
    await waitForDeployments(client, deployments, deadline, onProgress);
    await waitForWebhook(client, options.kubeConfig, manifests.webhooks, deadline, onProgress);
    for (const address of options.routerAddresses ?? []) {
      onProgress(`waiting for the router to listen on ${address.host}:${address.port}`);
      await until(deadline, () => accepts(address), () => routerStuck(address));
    }
  } finally {
    client.close();
  }
}

/**
 * Deletes what `installPlatform` applied, webhook configurations first so that no request waits
 * on a webhook being removed. CRDs are kept when asked (deleting them deletes every Tenant and Route).
 */
/**
 * A platform namespace still terminating from an earlier removal refuses new objects: wait until
 * it is gone rather than fail half-way through the apply.
 */
async function waitForNamespaceNotTerminating(client: KubeClient, deadline: number, onProgress: (message: string) => void): Promise<void> {
  const terminating = async (): Promise<boolean> => {
    const namespace = await client.get<KubeObject & { metadata: { deletionTimestamp?: string } }>(resourceType('Namespace'), platformNamespace);
    return namespace?.metadata.deletionTimestamp !== undefined;
  };
  if (!(await terminating())) return;
  onProgress(`waiting for the namespace ${platformNamespace} of an earlier installation to finish terminating`);
  await until(deadline, async () => !(await terminating()), () => new LandlordError('LL_INSTALL_TIMEOUT', `namespace ${platformNamespace} is still terminating`, {
    hint: `kubectl get namespace ${platformNamespace} -o yaml (status.conditions say what blocks it)`,
  }));
}

export async function removePlatform(kubeConfig: KubeConfig, manifests: PlatformManifests, options: { keepCustomResourceDefinitions: boolean }): Promise<void> {
  const client = new KubeClient(kubeConfig);
  try {
    const objects = [...manifests.webhooks, ...manifests.components, ...manifests.rbac, manifests.namespace];
    for (const object of options.keepCustomResourceDefinitions ? objects : [...objects, ...manifests.customResourceDefinitions]) {
      await client.delete(resourceOf(object), object.metadata.name, object.metadata.namespace);
    }
  } finally {
    client.close();
  }
}

/** Server-side applies each object in order with the installer's field manager. */
export async function applyAll(client: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const object of objects) await client.apply(resourceOf(object), object, installFieldManager);
}

/**
 * The operator keeps the webhook configurations' `caBundle` equal to the CA that signed the
 * webhook's certificate (ADR 0004). The installer leaves the field out so that it never owns it:
 * a re-run then never resets it.
 */
function withoutCaBundle(configuration: KubeObject): KubeObject {
  const webhooks = (configuration.webhooks ?? []) as Array<{ clientConfig?: Record<string, unknown> }>;
  return {
    ...configuration,
    webhooks: webhooks.map((webhook) => {
      const { caBundle: _owned, ...clientConfig } = webhook.clientConfig ?? {};
      return { ...webhook, clientConfig };
    }),
  };
}

async function waitForEstablished(client: KubeClient, names: readonly string[], deadline: number): Promise<void> {
  const crds = resourceType('CustomResourceDefinition');
  for (const name of names) {
    await until(deadline, async () => {
      const crd = await client.get(crds, name);
      const conditions = ((crd?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions) ?? [];
      return conditions.some((c) => c.type === 'Established' && c.status === 'True');
    }, () => new LandlordError('LL_INSTALL_TIMEOUT', `CustomResourceDefinition ${name} is not Established`, { hint: `kubectl describe crd ${name}` }));
  }
}

async function waitForDeployments(client: KubeClient, names: readonly string[], deadline: number, onProgress: (message: string) => void): Promise<void> {
  const reported = new Map<string, string>();
  let pending: DeploymentProgress[] = [];
  await until(deadline, async () => {
    pending = [];
    for (const name of names) {
      const object = await client.get(resourceType('Deployment'), name, platformNamespace);
      const progress = object ? deploymentProgress(object) : { name, ready: 0, desired: 1, done: false };
      const line = `${progress.done ? 'ready' : 'waiting for'} ${name} (${progress.ready}/${progress.desired} ready)`;
      if (reported.get(name) !== line) {
        onProgress(line);
        reported.set(name, line);
      }
      if (!progress.done) pending.push(progress);
    }
    return pending.length === 0;
  }, async () => {
    const stuck = pending[0]!;
    const pods = await client.list(resourceType('Pod'), { namespace: platformNamespace, labelSelector: `app.kubernetes.io/name=${stuck.name}` });
    const events = await client.list(resourceType('Event'), { namespace: platformNamespace });
    return new LandlordError('LL_INSTALL_TIMEOUT', `${stuck.name} is not ready (${stuck.ready}/${stuck.desired}): ${podTrouble(pods.items, events.items)}`, {
      hint: `see its logs with: kubectl -n ${platformNamespace} logs deploy/${stuck.name}  (and: kubectl -n ${platformNamespace} describe pods -l app.kubernetes.io/name=${stuck.name})`,
    });
  });
}

async function waitForWebhook(client: KubeClient, kubeConfig: KubeConfig, configurations: readonly KubeObject[], deadline: number, onProgress: (message: string) => void): Promise<void> {
  onProgress('waiting for the operator to set the webhook configurations\' caBundle');
  await until(deadline, async () => {
    for (const configuration of configurations) {
      const live = await client.get(resourceOf(configuration), configuration.metadata.name);
      if (!live || !caBundleSet(live)) return false;
    }
    return true;
  }, () => new LandlordError('LL_INSTALL_TIMEOUT', 'the webhook configurations have no caBundle: the operator has not issued the webhook\'s certificate', {
    hint: `see the operator's logs: kubectl -n ${platformNamespace} logs deploy/landlord-controller`,
  }));
  onProgress('waiting for the API server to reach the webhook');
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let last = '';
  await until(deadline, async () => {
    last = await webhookAnswer(core);
    return last === '';
  }, () => new LandlordError('LL_INSTALL_TIMEOUT', `the API server cannot reach the admission webhook: ${last}`, {
    hint: `see its logs: kubectl -n ${platformNamespace} logs deploy/landlord-webhook`,
  }));
}

/**
 * Asks the API server to create (dry run) a namespace the webhooks select. The webhook answered
 * when the request succeeds or the webhook itself denied it; '' then, else the API server's error.
 */
async function webhookAnswer(core: CoreV1Api): Promise<string> {
  try {
    await core.createNamespace({ body: { metadata: { name: 'landlord-install-probe', labels: { [labels.tenant]: 'landlord-install-probe' } } }, dryRun: 'All' });
    return '';
  } catch (error) {
    const body = (error as { body?: unknown }).body;
    const message = typeof body === 'string' ? body : JSON.stringify(body ?? (error as Error).message);
    return /denied the request/.test(message) ? '' : message;
  }
}

/** Whether a TCP connection to `address` succeeds within a second. */
export function accepts(address: HostAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.host, port: address.port, timeout: 1_000 });
    const done = (ok: boolean) => () => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', done(true));
    socket.once('timeout', done(false));
    socket.once('error', done(false));
  });
}

function routerStuck(address: HostAddress): LandlordError {
  return new LandlordError('LL_INSTALL_TIMEOUT', `nothing accepts connections on ${address.host}:${address.port}, the router's port`, {
    hint: `see the router's logs: kubectl -n ${platformNamespace} logs deploy/landlord-router (another program may hold the port: ss -ltnp 'sport = :${address.port}')`,
  });
}

/** Polls `check` until it returns true; past `deadline`, throws what `stuck` builds. Read errors are retried. */
export async function until(deadline: number, check: () => Promise<boolean>, stuck: () => LandlordError | Promise<LandlordError>): Promise<void> {
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline) throw await stuck();
    await sleep(500);
  }
}

export interface DemoInstallOptions {
  readonly kubeConfig: KubeConfig;
  readonly demo: DemoObjects;
  readonly onProgress: (message: string) => void;
  readonly timeoutMs?: number;
}

/**
 * Creates the demo tenant, waits until the operator made it Ready, applies its Routes, Services
 * and Deployments, and waits until the Deployments are available and the router reports every
 * Route Ready.
 */
export async function installDemo(options: DemoInstallOptions): Promise<void> {
  const client = new KubeClient(options.kubeConfig);
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  const { demo, onProgress } = options;
  const tenant = demo.tenant.metadata.name;
  try {
    onProgress(`creating tenant ${tenant}`);
    await applyAll(client, [demo.tenant]);
    let phase = '';
    await until(deadline, async () => {
      const live = await client.get(resourceType('Tenant'), tenant);
      phase = (live?.status as { phase?: string } | undefined)?.phase ?? 'Pending';
      return phase === 'Ready';
    }, () => new LandlordError('LL_INSTALL_TIMEOUT', `tenant ${tenant} is ${phase}, not Ready`, { hint: `landlord tenant get ${tenant}` }));
    onProgress(`applying the demo's Routes, Services and Deployments in namespace ${tenant}`);
    await applyAll(client, demo.workloads);
    for (const object of demo.workloads.filter((o) => o.kind === 'Deployment')) {
      const namespace = object.metadata.namespace ?? tenant;
      onProgress(`waiting for ${namespace}/${object.metadata.name}`);
      await until(deadline, async () => {
        const live = await client.get(resourceType('Deployment'), object.metadata.name, namespace);
        return live !== undefined && deploymentProgress(live).done;
      }, async () => {
        const pods = await client.list(resourceType('Pod'), { namespace, labelSelector: `app=${object.metadata.name}` });
        const events = await client.list(resourceType('Event'), { namespace });
        return new LandlordError('LL_INSTALL_TIMEOUT', `${namespace}/${object.metadata.name} is not available: ${podTrouble(pods.items, events.items)}`, {
          hint: `kubectl -n ${namespace} describe pods -l app=${object.metadata.name}; kubectl -n ${namespace} get events`,
        });
      });
    }
    for (const route of demo.workloads.filter((o) => o.kind === 'Route')) {
      const namespace = route.metadata.namespace ?? tenant;
      onProgress(`waiting for Route ${namespace}/${route.metadata.name} to be Ready`);
      let ready: RouteCondition | undefined;
      await until(deadline, async () => {
        const live = await client.get(resourceType('Route'), route.metadata.name, namespace);
        ready = ((live?.status as { conditions?: RouteCondition[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
        return ready?.status === 'True';
      }, () => new LandlordError('LL_INSTALL_TIMEOUT', `Route ${namespace}/${route.metadata.name} is not Ready: ${ready ? `${ready.reason}: ${ready.message}` : 'the router has not reported on it'}`, {
        hint: `kubectl -n ${namespace} get route ${route.metadata.name} -o yaml; kubectl -n ${platformNamespace} logs deploy/landlord-router`,
      }));
    }
  } finally {
    client.close();
  }
}

interface RouteCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The platform root CA certificate (PEM) from the Secret the operator creates at its first start. */
export async function readRootCertificate(kubeConfig: KubeConfig, timeoutMs = 60_000): Promise<string> {
  const client = new KubeClient(kubeConfig);
  let pem = '';
  try {
    await until(Date.now() + timeoutMs, async () => {
      const secret = await client.get(resourceType('Secret'), rootCaSecret.name, rootCaSecret.namespace);
      pem = Buffer.from(((secret?.data as Record<string, string> | undefined) ?? {})['tls.crt'] ?? '', 'base64').toString('utf8');
      return pem.includes('BEGIN CERTIFICATE');
    }, () => new LandlordError('LL_INSTALL_TIMEOUT', `Secret ${rootCaSecret.namespace}/${rootCaSecret.name} holds no root certificate`, {
      hint: `the operator creates it at start: kubectl -n ${platformNamespace} logs deploy/landlord-controller`,
    }));
    return pem;
  } finally {
    client.close();
  }
}
