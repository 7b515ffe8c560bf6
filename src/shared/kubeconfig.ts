/**
 * Kubernetes credentials from a kubeconfig file or a pod's service account, without
 * @kubernetes/client-node (whose import alone costs a long-running process about 50 MiB).
 *
 * Supported: client certificates, bearer tokens (inline or `tokenFile`) and CA bundles, inline or
 * as files relative to the kubeconfig's directory. Not supported: `exec` and `auth-provider`
 * plugins and basic auth; those fail with LL_KUBECONFIG_AUTH_UNSUPPORTED.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { LandlordError } from './errors.ts';

/** What a client needs to reach one API server. PEM texts, never file names, except `tokenFile`. */
export interface KubeCredentials {
  readonly server: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
  /** Read on use and re-read periodically: bound service account tokens rotate. */
  readonly tokenFile?: string;
  readonly insecureSkipTlsVerify?: boolean;
}

/** One context of a kubeconfig, with every file name made absolute and not yet read. */
export interface KubeconfigEntry {
  readonly server: string;
  readonly ca?: string;
  readonly caFile?: string;
  readonly cert?: string;
  readonly certFile?: string;
  readonly key?: string;
  readonly keyFile?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly insecureSkipTlsVerify?: boolean;
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

const useInstead = 'use a client certificate or a bearer token (e.g. `kubectl create token <service-account>`) in the kubeconfig';

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(source: string, message: string, cause?: unknown): LandlordError {
  return new LandlordError('LL_KUBECONFIG_INVALID', `${source}: ${message}`, {
    hint: 'check the file with `kubectl config view --kubeconfig <file>`',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The `name`d entry's inner mapping (`cluster`, `user` or `context`) in one of the kubeconfig's lists. */
function named(document: Mapping, list: string, inner: string, name: string, source: string): Mapping {
  const entries = document[list] ?? [];
  if (!Array.isArray(entries)) throw invalid(source, `${list} must be a list`);
  const entry: unknown = entries.find((e: unknown) => isMapping(e) && e.name === name);
  if (!isMapping(entry)) throw invalid(source, `no ${inner} named ${JSON.stringify(name)} in ${list}`);
  const value = entry[inner] ?? {};
  if (!isMapping(value)) throw invalid(source, `${list} entry ${JSON.stringify(name)} has no ${inner} mapping`);
  return value;
}

function optionalString(map: Mapping, field: string, where: string, source: string): string | undefined {
  const value = map[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(source, `${where}.${field} must be a string`);
  return value;
}

function decoded(map: Mapping, field: string, where: string, source: string): string | undefined {
  const value = optionalString(map, field, where, source);
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/**
 * Parses a kubeconfig document into the entry of `context` (default: its current-context). Pure:
 * `source` names the document in errors and `baseDir` is where relative file names start.
 */
export function parseKubeconfig(text: string, options: { source: string; baseDir: string; context?: string }): KubeconfigEntry {
  const { source } = options;
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw invalid(source, `not valid YAML (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`, error);
  }
  if (!isMapping(document)) throw invalid(source, 'not a kubeconfig: expected a mapping with clusters, users and contexts');
  const contextName = options.context ?? optionalString(document, 'current-context', 'kubeconfig', source);
  if (contextName === undefined) throw invalid(source, 'no current-context is set');
  const context = named(document, 'contexts', 'context', contextName, source);
  const clusterName = optionalString(context, 'cluster', `context ${contextName}`, source);
  if (clusterName === undefined) throw invalid(source, `context ${JSON.stringify(contextName)} names no cluster`);
  const cluster = named(document, 'clusters', 'cluster', clusterName, source);
  const userName = optionalString(context, 'user', `context ${contextName}`, source);
  const user = userName === undefined ? {} : named(document, 'users', 'user', userName, source);

  return { ...clusterEntry(cluster, clusterName, options), ...userEntry(user, `user ${JSON.stringify(userName)}`, options) };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function clusterEntry(cluster: Mapping, name: string, options: { source: string; baseDir: string }): Mutable<KubeconfigEntry> {
  const { source, baseDir } = options;
  const where = `cluster ${JSON.stringify(name)}`;
  const server = optionalString(cluster, 'server', where, source);
  if (server === undefined) throw invalid(source, `${where} has no server`);
  if (!/^https?:$/.test(URL.parse(server)?.protocol ?? '')) throw invalid(source, `${where} has a server that is not an http(s) URL: ${JSON.stringify(server)}`);
  const insecure = cluster['insecure-skip-tls-verify'];
  if (insecure !== undefined && typeof insecure !== 'boolean') throw invalid(source, `${where}: insecure-skip-tls-verify must be true or false`);
  const ca = decoded(cluster, 'certificate-authority-data', where, source);
  const caFile = optionalString(cluster, 'certificate-authority', where, source);
  return {
    server,
    ...(ca === undefined ? {} : { ca }),
    ...(caFile === undefined ? {} : { caFile: path.resolve(baseDir, caFile) }),
    ...(insecure === true ? { insecureSkipTlsVerify: true } : {}),
  };
}

function userEntry(user: Mapping, who: string, options: { source: string; baseDir: string }): Omit<KubeconfigEntry, 'server'> {
  const { source, baseDir } = options;
  if (user.exec !== undefined) throw unsupported(source, who, 'an exec credential plugin');
  if (user['auth-provider'] !== undefined) throw unsupported(source, who, 'an auth-provider plugin');
  if (user.username !== undefined || user.password !== undefined) throw unsupported(source, who, 'basic auth (username and password)');
  const entry: Mutable<Omit<KubeconfigEntry, 'server'>> = {};
  const fields = [
    ['cert', 'client-certificate-data', 'data'], ['certFile', 'client-certificate', 'file'],
    ['key', 'client-key-data', 'data'], ['keyFile', 'client-key', 'file'],
    ['token', 'token', 'text'], ['tokenFile', 'tokenFile', 'file'],
  ] as const;
  for (const [field, key, kind] of fields) {
    const value = kind === 'data' ? decoded(user, key, who, source) : optionalString(user, key, who, source);
    if (value !== undefined) entry[field] = kind === 'file' ? path.resolve(baseDir, value) : value;
  }
  return entry;
}

function unsupported(source: string, who: string, what: string): LandlordError {
  return new LandlordError('LL_KUBECONFIG_AUTH_UNSUPPORTED', `${source}: ${who} authenticates with ${what}, which landlord does not support`, { hint: useInstead });
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new LandlordError('LL_KUBECONFIG_NOT_FOUND', `cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      hint: 'pass --kubeconfig FILE, set KUBECONFIG, or run inside a pod with a service account',
      cause: error,
    });
  }
}

/** Reads the kubeconfig `file` and the certificate files it names (relative to its directory). */
export function loadKubeconfigFile(file: string, options: { context?: string } = {}): KubeCredentials {
  const absolute = path.resolve(file);
  const entry = parseKubeconfig(readText(absolute, 'kubeconfig'), {
    source: absolute, baseDir: path.dirname(absolute), ...(options.context === undefined ? {} : { context: options.context }),
  });
  const { caFile, certFile, keyFile, ...rest } = entry;
  return {
    ...rest,
    ...(caFile === undefined ? {} : { ca: readText(caFile, 'certificate authority') }),
    ...(certFile === undefined ? {} : { cert: readText(certFile, 'client certificate') }),
    ...(keyFile === undefined ? {} : { key: readText(keyFile, 'client key') }),
  };
}

/** A pod's own service account: the API server from the environment, the token file re-read on use. */
export function inClusterCredentials(env: NodeJS.ProcessEnv = process.env, dir = serviceAccountDir): KubeCredentials {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new LandlordError('LL_KUBECONFIG_NOT_FOUND', 'not inside a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set', { hint: 'pass --kubeconfig FILE' });
  const tokenFile = path.join(dir, 'token');
  readText(tokenFile, 'service account token');
  return { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, ca: readText(path.join(dir, 'ca.crt'), 'service account CA'), tokenFile };
}

/**
 * `file` when given; otherwise the pod's service account (when `inCluster` is allowed and
 * KUBERNETES_SERVICE_HOST is set), else the first file of KUBECONFIG, else ~/.kube/config.
 */
export function loadCredentials(file: string | undefined, options: { inCluster: boolean; env?: NodeJS.ProcessEnv }): KubeCredentials {
  const env = options.env ?? process.env;
  if (file) return loadKubeconfigFile(file);
  if (options.inCluster && env.KUBERNETES_SERVICE_HOST) return inClusterCredentials(env);
  const first = env.KUBECONFIG?.split(path.delimiter).find((f) => f !== '');
  return loadKubeconfigFile(first ?? path.join(env.HOME ?? homedir(), '.kube', 'config'));
}
