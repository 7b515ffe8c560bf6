/**
 * serveIngress(options): the ingress as a standalone process component — reads the config file
 * and certificate directories (refusing to start when either is invalid), listens, and reloads
 * routes and certificates when the file or a directory changes (Kubernetes Secret volumes swap a
 * `..data` symlink, so directories are watched) or when `reload()` is called (SIGHUP).
 *
 * Build fully, then swap: a reload reads and validates everything aside; on any error it logs
 * (`LL_INGRESS_CONFIG_INVALID`, `LL_INGRESS_CERTIFICATE_*`), counts `reloads_total{result="invalid"}`
 * and the previous table and certificates keep serving. Listen addresses, trusted CIDRs, limits
 * and timeouts are read at start only.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type net from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { ListenAddress } from '../router/index.ts';
import { LandlordError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { buildCertificateSet, readCertificateDirectories } from './certificates.ts';
import { parseIngressConfig, type IngressFileConfig } from './config-file.ts';
import { buildIngress, type Ingress, type IngressConfiguration } from './ingress.ts';
import type { BackoffPolicy } from '../shared/kube-reflector.ts';
import { startKubernetesSource, type KubernetesSource } from './kubernetes-source.ts';
import { buildIngressTable } from './translate.ts';

export interface IngressServeOptions {
  readonly tenant: string;
  readonly configFile: string;
  readonly listen: ListenAddress;
  readonly status?: ListenAddress;
  readonly logger: Logger;
  readonly accessLog?: Writable;
  /** Coalesces the bursts of file events one change produces. */
  readonly debounceMs?: number;
}

export interface RunningIngress {
  readonly ingress: Ingress;
  /** Bound addresses (`ingress`, `status`). */
  readonly addresses: Readonly<Record<string, ListenAddress>>;
  /** Re-reads the config and certificates; resolves true when applied. */
  reload(): Promise<boolean>;
  shutdown(graceMs: number): Promise<void>;
}

async function readConfigFile(file: string, tenant: string): Promise<IngressFileConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new LandlordError('LL_INGRESS_CONFIG_UNREADABLE', `cannot read config file ${file}`, { cause, hint: 'check the path given to --config' });
  }
  const parsed = parseIngressConfig(text, path.dirname(path.resolve(file)));
  if (!parsed.ok) throw new LandlordError('LL_INGRESS_CONFIG_INVALID', `config file ${file} is invalid: ${parsed.issues.map((i) => `${i.source}: ${i.message}`).join('; ')}`, { hint: 'see docs/ingress.md for the format' });
  if (parsed.config.tenant !== undefined && parsed.config.tenant !== tenant) {
    throw new LandlordError('LL_INGRESS_CONFIG_INVALID', `config file ${file} is for tenant ${parsed.config.tenant}, not ${tenant}`, { hint: 'an ingress serves exactly one tenant' });
  }
  return parsed.config;
}

/** Reads and validates everything a configuration needs; throws a `LandlordError` on any problem. */
export async function loadIngressConfiguration(file: string, tenant: string): Promise<{ file: IngressFileConfig; configuration: IngressConfiguration }> {
  const config = await readConfigFile(file, tenant);
  const built = buildIngressTable(config.routes, config.domains);
  if (built.issues.length > 0) throw new LandlordError('LL_INGRESS_CONFIG_INVALID', `config file ${file} is invalid: ${built.issues.map((i) => `${i.source}: ${i.message}`).join('; ')}`);
  const certificates = buildCertificateSet(await readCertificateDirectories(config.certificateDirectories), config.domains);
  if (certificates.certificates.length === 0) throw new LandlordError('LL_INGRESS_CERTIFICATE_UNREADABLE', `no tls.crt found in ${config.certificateDirectories.join(', ')}`);
  return { file: config, configuration: { table: built.table, certificates } };
}

async function listenOn(server: net.Server, address: ListenAddress): Promise<ListenAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address.host, port: address.port }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  return { host: bound.address, port: bound.port };
}

export async function serveIngress(options: IngressServeOptions): Promise<RunningIngress> {
  const { logger, tenant, configFile } = options;
  const first = await loadIngressConfiguration(configFile, tenant);
  const ingress = buildIngress({
    tenant,
    logger,
    trustedProxies: first.file.trustedProxies,
    trustedForwarders: first.file.trustedForwarders,
    limits: first.file.limits,
    timeouts: first.file.timeouts,
    ...(options.accessLog ? { accessLog: options.accessLog } : {}),
  });
  ingress.apply(first.configuration);

  const reload = async (): Promise<boolean> => {
    try {
      ingress.apply((await loadIngressConfiguration(configFile, tenant)).configuration);
      ingress.metrics.reloads.inc({ result: 'applied' });
      return true;
    } catch (error) {
      ingress.metrics.reloads.inc({ result: 'invalid' });
      logger.error('configuration not applied; keeping the previous one', { code: error instanceof LandlordError ? error.code : 'LL_INGRESS_CONFIG_INVALID', error });
      return false;
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), options.debounceMs ?? 100);
  };
  const watchers: FSWatcher[] = [];
  const configName = path.basename(configFile);
  watchers.push(watch(path.dirname(path.resolve(configFile)), (_event, name) => (name === null || name === configName ? schedule() : undefined)));
  for (const dir of first.file.certificateDirectories) watchers.push(watch(dir, { recursive: true }, schedule));
  for (const watcher of watchers) watcher.on('error', (error) => logger.warn('cannot watch for changes; reload with SIGHUP', { code: 'LL_INGRESS_WATCH_FAILED', error }));

  const addresses: Record<string, ListenAddress> = {};
  const stopWatching = (): void => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
  try {
    addresses.ingress = await listenOn(ingress.server, options.listen);
    if (options.status) addresses.status = await listenOn(ingress.statusServer, options.status);
  } catch (cause) {
    stopWatching();
    await ingress.drain(0);
    throw new LandlordError('LL_INGRESS_LISTEN_FAILED', `cannot listen: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  logger.info('ingress listening', { tenant, addresses });
  return {
    ingress,
    addresses,
    reload,
    async shutdown(graceMs) {
      stopWatching();
      await ingress.drain(graceMs);
    },
  };
}

export interface KubernetesIngressOptions {
  readonly tenant: string;
  readonly kubeConfig: KubeConfig;
  readonly namespaces: readonly string[];
  readonly domains: readonly string[];
  readonly ingressClassName?: string;
  readonly trustedProxies?: readonly string[];
  readonly listen: ListenAddress;
  readonly status?: ListenAddress;
  readonly logger: Logger;
  readonly accessLog?: Writable;
  readonly debounceMs?: number;
  /** Reconnect backoff of the watches. */
  readonly backoff?: BackoffPolicy;
}

/**
 * The ingress fed by the Kubernetes source: listens at once (`/healthz` answers 503 and every
 * handshake is refused until the first table is applied), then follows the tenant's Routes,
 * Ingresses, Services and TLS Secrets. `reload()` rebuilds from the caches.
 */
export async function serveKubernetesIngress(options: KubernetesIngressOptions): Promise<RunningIngress & { readonly source: KubernetesSource }> {
  const { logger, tenant } = options;
  if (options.namespaces.length === 0) throw new LandlordError('LL_INGRESS_BAD_FLAG', 'no namespace to watch', { hint: 'give the tenant namespaces with --namespaces a,b' });
  if (options.domains.length === 0) throw new LandlordError('LL_INGRESS_BAD_FLAG', 'no tenant domain given', { hint: 'give the tenant domains with --domains "*.acme.example"' });
  const ingress = buildIngress({
    tenant,
    logger,
    ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    ...(options.accessLog ? { accessLog: options.accessLog } : {}),
  });
  const addresses: Record<string, ListenAddress> = {};
  try {
    if (options.status) addresses.status = await listenOn(ingress.statusServer, options.status);
    addresses.ingress = await listenOn(ingress.server, options.listen);
  } catch (cause) {
    await ingress.drain(0);
    throw new LandlordError('LL_INGRESS_LISTEN_FAILED', `cannot listen: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const source = startKubernetesSource({
    kubeConfig: options.kubeConfig,
    tenant,
    namespaces: options.namespaces,
    domains: options.domains,
    logger,
    apply: (configuration) => {
      ingress.apply(configuration);
      ingress.metrics.reloads.inc({ result: 'applied' });
    },
    rejected: () => ingress.metrics.reloads.inc({ result: 'invalid' }),
    ...(options.ingressClassName ? { ingressClassName: options.ingressClassName } : {}),
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
  logger.info('ingress listening', { tenant, addresses, namespaces: options.namespaces });
  return {
    ingress,
    addresses,
    source,
    reload: () => Promise.resolve(source.rebuild()),
    async shutdown(graceMs) {
      source.stop();
      await ingress.drain(graceMs);
    },
  };
}
