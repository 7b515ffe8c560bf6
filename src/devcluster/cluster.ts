/**
 * A throwaway local Kubernetes: etcd, kube-apiserver, controller-manager, scheduler and,
 * optionally, one node (containerd, kubelet, kube-proxy, a CNI bridge).
 *
 * Contract:
 * - every listener uses a port chosen at start and every file lives in the cluster's directory,
 *   so control-plane-only clusters run side by side; a node owns machine-wide state (a bridge,
 *   iptables chains, the kubepods cgroups), so only one node runs per machine and a second is
 *   refused with LL_DEVCLUSTER_NODE_BUSY;
 * - the API server authenticates clients by certificates from a CA made at start and authorizes
 *   with RBAC (and the Node authorizer); `kubeconfigFor` mints a kubeconfig for any user/groups;
 * - the daemons outlive the process that started them; `attachCluster(dir)` finds them again;
 * - `stop()` leaves no process, mount, bridge, iptables chain or cgroup of the cluster behind.
 */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { LandlordError } from '../shared/errors.ts';
import { locateBinaries, type Binaries } from './binaries.ts';
import {
  createClusterCa,
  createServiceAccountKeys,
  issueClientCertificate,
  issueServingCertificate,
  loadClusterCa,
  type ClusterCa,
  type Identity,
  type PemPair,
} from './certificates.ts';
import { apiServerArgs, controllerManagerArgs, etcdArgs, schedulerArgs, type ControlPlanePorts } from './controlplane-args.ts';
import {
  cleanupIptables,
  createBridge,
  deleteLink,
  processesOf,
  removeKubepodsCgroups,
  restoreSysctls,
  setSysctls,
  unmountBelow,
} from './host.ts';
import { buildPauseImage } from './image/images.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { clusterLayout, nodeNetwork, type ClusterLayout } from './layout.ts';
import { containerdConfig, cniConfig, kubeletArgs, kubeletConfig, kubeProxyConfig, pauseImage, runtimeWrapperScript, type NodePorts } from './node-config.ts';
import { freePorts } from './ports.ts';
import { isDaemonAlive, startDaemon, stopDaemon, type DaemonRecord, type DaemonSpec } from './processes.ts';
import { httpsJson, httpsStatus, waitUntil, type TlsClientMaterial } from './readiness.ts';

const run = promisify(execFile);

export interface ClusterOptions {
  /** Names the cluster in kubeconfigs and paths; default `local`. */
  name?: string;
  /** The cluster's directory; default a new one under the system's temp dir. Must be empty or absent. */
  dir?: string;
  /** Also start a node that runs pods. */
  node?: boolean;
  onProgress?: (message: string) => void;
}

export interface DevCluster {
  readonly name: string;
  readonly dir: string;
  readonly logsDir: string;
  /** The API server's URL as seen from this machine. */
  readonly server: string;
  /** A kubeconfig file for a cluster administrator (group system:masters). */
  readonly kubeconfigPath: string;
  readonly hasNode: boolean;
  /** A client configuration for the administrator. */
  kubeConfig(): KubeConfig;
  /** Writes (once) and returns a kubeconfig file authenticating as `identity`. */
  kubeconfigFor(identity: Identity): Promise<string>;
  /** Imports a docker-archive image into the node's containerd. */
  importImage(archiveFile: string): Promise<void>;
  /** Whether every daemon of the cluster is still running. */
  isRunning(): boolean;
  /** The cluster's daemons, in start order. */
  daemons(): ReadonlyArray<{ name: string; pid: number; alive: boolean }>;
  stop(): Promise<void>;
}

interface ClusterState {
  name: string;
  server: string;
  daemons: DaemonRecord[];
  node: { previousSysctls: Record<string, string> } | null;
}

const nodeLockFile = '/run/landlord/node.lock';

export async function startCluster(options: ClusterOptions = {}): Promise<DevCluster> {
  const name = options.name ?? 'local';
  if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) {
    throw new LandlordError('LL_DEVCLUSTER_BAD_NAME', `cluster name ${JSON.stringify(name)} must be a DNS label of at most 32 characters`);
  }
  const progress = options.onProgress ?? (() => {});
  const binaries = locateBinaries();
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), `landlord-${name}-`));
  const layout = clusterLayout(path.resolve(dir), name);
  if (existsSync(layout.stateFile)) {
    throw new LandlordError('LL_DEVCLUSTER_DIR_IN_USE', `${layout.dir} already holds a cluster`, { hint: 'attach to it, stop it, or choose another directory' });
  }
  if (options.node) {
    try {
      acquireNodeLock(layout);
    } catch (error) {
      if (options.dir === undefined) rmSync(layout.dir, { recursive: true, force: true });
      throw error;
    }
  }
  const cluster = new LocalCluster(layout, binaries, { name, server: '', daemons: [], node: null });
  try {
    await cluster.boot(options.node === true, progress);
    return cluster;
  } catch (error) {
    progress(`start failed; stopping what was started (logs kept in ${layout.logsDir})`);
    await cluster.teardown({ removeDir: false });
    throw error;
  }
}

/** The cluster whose directory is `dir`, started earlier, possibly by another process. */
export function attachCluster(dir: string): DevCluster {
  const stateFile = path.join(dir, 'state.json');
  if (!existsSync(stateFile)) {
    throw new LandlordError('LL_DEVCLUSTER_NOT_FOUND', `no cluster in ${dir}`, { hint: 'start one with `landlord cluster up`' });
  }
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
  return new LocalCluster(clusterLayout(path.resolve(dir), state.name), locateBinaries(), state);
}

class LocalCluster implements DevCluster {
  readonly #layout: ClusterLayout;
  readonly #binaries: Binaries;
  readonly #state: ClusterState;
  #ca: ClusterCa | undefined;

  constructor(layout: ClusterLayout, binaries: Binaries, state: ClusterState) {
    this.#layout = layout;
    this.#binaries = binaries;
    this.#state = state;
  }

  get name(): string {
    return this.#state.name;
  }
  get dir(): string {
    return this.#layout.dir;
  }
  get logsDir(): string {
    return this.#layout.logsDir;
  }
  get server(): string {
    return this.#state.server;
  }
  get kubeconfigPath(): string {
    return path.join(this.#layout.kubeconfigsDir, 'admin.kubeconfig');
  }
  get hasNode(): boolean {
    return this.#state.node !== null;
  }

  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromFile(this.kubeconfigPath);
    return config;
  }

  async kubeconfigFor(identity: Identity): Promise<string> {
    const safe = [identity.user, ...(identity.groups ?? [])].join('+').replace(/[^A-Za-z0-9_.+-]/g, '_');
    const file = path.join(this.#layout.usersDir, `${safe}.kubeconfig`);
    if (!existsSync(file)) {
      const credentials = await issueClientCertificate(await this.#loadCa(), identity);
      this.#writeKubeconfig(file, identity.user, credentials);
    }
    return file;
  }

  async importImage(archiveFile: string): Promise<void> {
    if (!this.hasNode) throw new LandlordError('LL_DEVCLUSTER_NO_NODE', 'this cluster has no node to import images into');
    try {
      await run(this.#binaries.ctr, ['--address', this.#layout.node.containerdSocket, '-n', 'k8s.io', 'images', 'import', '--no-unpack=false', archiveFile], {
        maxBuffer: 16 << 20,
      });
    } catch (error) {
      throw new LandlordError('LL_DEVCLUSTER_IMAGE_IMPORT_FAILED', `could not import ${archiveFile}: ${(error as { stderr?: string }).stderr ?? String(error)}`);
    }
  }

  isRunning(): boolean {
    return this.#state.daemons.length > 0 && this.#state.daemons.every(isDaemonAlive);
  }

  daemons(): ReadonlyArray<{ name: string; pid: number; alive: boolean }> {
    return this.#state.daemons.map((d) => ({ name: d.name, pid: d.pid, alive: isDaemonAlive(d) }));
  }

  async stop(): Promise<void> {
    await this.teardown({ removeDir: true });
  }

  /** Starts every daemon in order, waiting for each to be ready; records state as it goes. */
  async boot(withNode: boolean, progress: (message: string) => void): Promise<void> {
    const layout = this.#layout;
    for (const dir of [layout.pkiDir, layout.logsDir, layout.usersDir, layout.etcdDataDir, layout.controllerManagerCertDir, layout.schedulerCertDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const [etcdClient, etcdPeer, apiServer, controllerManager, scheduler] = await freePorts(5);
    const ports: ControlPlanePorts = { etcdClient: etcdClient!, etcdPeer: etcdPeer!, apiServer: apiServer!, controllerManager: controllerManager!, scheduler: scheduler! };
    this.#state.server = `https://127.0.0.1:${ports.apiServer}`;

    progress('generating cluster certificates');
    await this.#writeCertificates(withNode);
    const kube = this.#binaries.kubernetes;

    progress('starting etcd');
    const etcd = this.#start({ name: 'etcd', command: this.#binaries.etcd, args: etcdArgs(layout, ports) });
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${ports.etcdClient}/health`)).ok, { what: 'etcd to be healthy', timeoutMs: 20_000, daemon: etcd });

    progress('starting kube-apiserver');
    const apiserver = this.#start({ name: 'kube-apiserver', command: kube['kube-apiserver'], args: apiServerArgs(layout, ports, withNode ? nodeNetwork.nodeIP : undefined) });
    const admin = this.#adminTls();
    await waitUntil(async () => (await httpsStatus(`${this.server}/readyz`, admin)) === 200, { what: 'kube-apiserver to be ready', timeoutMs: 60_000, daemon: apiserver });

    progress('starting kube-controller-manager and kube-scheduler');
    const cm = this.#start({ name: 'kube-controller-manager', command: kube['kube-controller-manager'], args: controllerManagerArgs(layout, ports) });
    const sched = this.#start({ name: 'kube-scheduler', command: kube['kube-scheduler'], args: schedulerArgs(layout, ports) });
    await Promise.all([
      waitUntil(async () => (await httpsStatus(`https://127.0.0.1:${ports.controllerManager}/healthz`, { insecure: true })) === 200, { what: 'kube-controller-manager to be healthy', timeoutMs: 30_000, daemon: cm }),
      waitUntil(async () => (await httpsStatus(`https://127.0.0.1:${ports.scheduler}/healthz`, { insecure: true })) === 200, { what: 'kube-scheduler to be healthy', timeoutMs: 30_000, daemon: sched }),
    ]);
    this.#saveState();

    if (withNode) await this.#bootNode(progress);
  }

  async #bootNode(progress: (message: string) => void): Promise<void> {
    const layout = this.#layout;
    const node = layout.node;
    for (const dir of [node.containerdRoot, node.containerdState, node.cniConfDir, node.cniDataDir, node.kubeletRoot, node.imagesDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const [kubelet, kubeletHealthz, kubeProxyHealthz, kubeProxyMetrics] = await freePorts(4);
    const ports: NodePorts = { kubelet: kubelet!, kubeletHealthz: kubeletHealthz!, kubeProxyHealthz: kubeProxyHealthz!, kubeProxyMetrics: kubeProxyMetrics! };

    progress('preparing the node network');
    await this.#cleanHostState(); // a previous node that crashed may have left some behind
    await createBridge(nodeNetwork.bridge, `${nodeNetwork.nodeIP}/24`);
    this.#state.node = {
      previousSysctls: setSysctls({ 'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': '1' }),
    };
    this.#saveState();

    writeFileSync(node.containerdConfig, containerdConfig(layout));
    writeFileSync(node.runtimeWrapper, runtimeWrapperScript(), { mode: 0o755 });
    writeFileSync(path.join(node.cniConfDir, '10-landlord.conflist'), cniConfig(layout));
    writeFileSync(node.kubeletConfig, kubeletConfig(layout, ports));
    writeFileSync(node.kubeProxyConfig, kubeProxyConfig(layout, ports));

    progress('starting containerd');
    const containerd = this.#start({ name: 'containerd', command: this.#binaries.containerd, args: ['--config', node.containerdConfig] });
    await waitUntil(async () => {
      await run(this.#binaries.ctr, ['--address', node.containerdSocket, 'version']);
      return true;
    }, { what: 'containerd to answer', timeoutMs: 20_000, daemon: containerd });

    progress('importing the pause image');
    const pause = buildPauseImage(path.join(node.imagesDir, 'pause.tar'), this.#binaries.kubernetes.pause, pauseImage);
    await this.importImage(pause.file);

    progress('starting kubelet and kube-proxy');
    const kubeletDaemon = this.#start({ name: 'kubelet', command: this.#binaries.kubernetes.kubelet, args: kubeletArgs(layout) });
    const proxy = this.#start({ name: 'kube-proxy', command: this.#binaries.kubernetes['kube-proxy'], args: [`--config=${node.kubeProxyConfig}`, '--v=1'] });
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${ports.kubeProxyHealthz}/healthz`)).status < 600, { what: 'kube-proxy to serve', timeoutMs: 30_000, daemon: proxy });
    await waitUntil(async () => nodeIsReady(await httpsJson(`${this.server}/api/v1/nodes/${nodeNetwork.nodeName}`, this.#adminTls())), {
      what: `node ${nodeNetwork.nodeName} to be Ready`,
      timeoutMs: 60_000,
      daemon: kubeletDaemon,
      intervalMs: 250,
    });
    this.#saveState();
  }

  /** Stops every daemon, then removes what the node left on the machine. Idempotent. */
  async teardown(options: { removeDir: boolean }): Promise<void> {
    const daemons = [...this.#state.daemons].reverse(); // reverse start order: node first, etcd last
    for (const daemon of daemons) await stopDaemon(daemon);
    if (this.#state.node !== null || existsSync(this.#layout.node.containerdConfig)) {
      await this.#cleanHostState();
      if (this.#state.node) restoreSysctls(this.#state.node.previousSysctls);
      releaseNodeLock(this.#layout);
    }
    await killProcessesOf(this.#layout.dir);
    await unmountBelow(this.#layout.dir);
    rmSync(this.#layout.etcdDataDir, { recursive: true, force: true });
    this.#state.daemons = [];
    if (options.removeDir) rmSync(this.#layout.dir, { recursive: true, force: true });
    else if (existsSync(this.#layout.dir)) rmSync(this.#layout.stateFile, { force: true });
  }

  /** Machine-wide state a node creates: container processes, mounts, iptables, bridge, cgroups. */
  async #cleanHostState(): Promise<void> {
    await killProcessesOf(path.join(this.#layout.dir, 'node'));
    await unmountBelow(this.#layout.dir);
    await cleanupIptables(this.#binaries.kubernetes['kube-proxy']);
    await deleteLink(nodeNetwork.bridge);
    removeKubepodsCgroups();
  }

  #start(spec: Omit<DaemonSpec, 'logFile'>): DaemonRecord {
    const record = startDaemon({ ...spec, logFile: path.join(this.#layout.logsDir, `${spec.name}.log`) });
    this.#state.daemons.push(record);
    this.#saveState();
    return record;
  }

  #saveState(): void {
    writeFileSync(this.#layout.stateFile, `${JSON.stringify(this.#state, null, 2)}\n`);
  }

  #adminTls(): TlsClientMaterial {
    const pki = (file: string): string => readFileSync(path.join(this.#layout.pkiDir, file), 'utf8');
    return { ca: pki('ca.crt'), cert: pki('admin.crt'), key: pki('admin.key') };
  }

  async #loadCa(): Promise<ClusterCa> {
    if (this.#ca) return this.#ca;
    this.#ca = await loadClusterCa(path.join(this.#layout.pkiDir, 'ca.crt'), path.join(this.#layout.pkiDir, 'ca.key'));
    return this.#ca;
  }

  async #writeCertificates(withNode: boolean): Promise<void> {
    const layout = this.#layout;
    const write = (base: string, pair: PemPair): void => {
      writeFileSync(path.join(layout.pkiDir, `${base}.crt`), pair.cert);
      writeFileSync(path.join(layout.pkiDir, `${base}.key`), pair.key, { mode: 0o600 });
    };
    const ca = await createClusterCa(`landlord-${this.name}-ca`);
    this.#ca = ca;
    write('ca', ca);
    write('apiserver', await issueServingCertificate(ca, 'kube-apiserver', {
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ipAddresses: ['127.0.0.1', nodeNetwork.apiServiceIP, ...(withNode ? [nodeNetwork.nodeIP] : [])],
    }));
    write('apiserver-kubelet-client', await issueClientCertificate(ca, { user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] }));
    const sa = await createServiceAccountKeys();
    writeFileSync(path.join(layout.pkiDir, 'sa.pub'), sa.publicKey);
    writeFileSync(path.join(layout.pkiDir, 'sa.key'), sa.privateKey, { mode: 0o600 });

    const admin = await issueClientCertificate(ca, { user: 'landlord-admin', groups: ['system:masters'] });
    write('admin', admin);
    const kubeconfigs: Array<[string, Identity]> = [
      ['controller-manager', { user: 'system:kube-controller-manager' }],
      ['scheduler', { user: 'system:kube-scheduler' }],
    ];
    if (withNode) {
      write('kubelet', await issueServingCertificate(ca, `system:node:${nodeNetwork.nodeName}`, { dnsNames: [nodeNetwork.nodeName], ipAddresses: [nodeNetwork.nodeIP] }));
      kubeconfigs.push(['kubelet', { user: `system:node:${nodeNetwork.nodeName}`, groups: ['system:nodes'] }], ['kube-proxy', { user: 'system:kube-proxy' }]);
    }
    mkdirSync(layout.kubeconfigsDir, { recursive: true });
    this.#writeKubeconfig(this.kubeconfigPath, 'landlord-admin', admin);
    for (const [file, identity] of kubeconfigs) {
      this.#writeKubeconfig(path.join(layout.kubeconfigsDir, `${file}.kubeconfig`), identity.user, await issueClientCertificate(ca, identity));
    }
  }

  #writeKubeconfig(file: string, user: string, credentials: PemPair): void {
    const caCert = readFileSync(path.join(this.#layout.pkiDir, 'ca.crt'), 'utf8');
    writeFileSync(file, renderKubeconfig({ clusterName: `landlord-${this.name}`, server: this.server, caCert, user, credentials }), { mode: 0o600 });
  }
}

function nodeIsReady(node: unknown): boolean {
  const conditions = (node as { status?: { conditions?: Array<{ type: string; status: string }> } } | undefined)?.status?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** SIGKILLs every process that belongs to the cluster's directory, then waits for them to go. */
async function killProcessesOf(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = processesOf(dir);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
  throw new LandlordError('LL_DEVCLUSTER_STOP_FAILED', `processes of ${dir} survived SIGKILL: ${processesOf(dir).join(', ')}`);
}

/**
 * Takes the machine's one node slot for `layout`. A slot whose holder is no longer running is
 * stale (a crashed run) and is taken over; its leftovers are cleaned by the new node's start.
 */
function acquireNodeLock(layout: ClusterLayout): void {
  mkdirSync(path.dirname(nodeLockFile), { recursive: true });
  if (existsSync(nodeLockFile)) {
    const holder = readFileSync(nodeLockFile, 'utf8').trim();
    if (holderIsRunning(holder)) {
      throw new LandlordError('LL_DEVCLUSTER_NODE_BUSY', `a local cluster with a node is already running in ${holder}; only one node can run on a machine`, {
        hint: holder.includes('test-') ? 'wait for that test run to finish' : 'stop it with `landlord cluster down` (or `landlord down`)',
      });
    }
    rmSync(nodeLockFile, { force: true });
  }
  try {
    closeSync(openSync(nodeLockFile, 'wx'));
  } catch {
    throw new LandlordError('LL_DEVCLUSTER_NODE_BUSY', 'another local cluster took the node slot at the same moment');
  }
  writeFileSync(nodeLockFile, `${layout.dir}\n`);
}

function releaseNodeLock(layout: ClusterLayout): void {
  if (existsSync(nodeLockFile) && readFileSync(nodeLockFile, 'utf8').trim() === layout.dir) rmSync(nodeLockFile, { force: true });
}

function holderIsRunning(dir: string): boolean {
  try {
    const state = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as ClusterState;
    return state.daemons.some(isDaemonAlive);
  } catch {
    return false;
  }
}
