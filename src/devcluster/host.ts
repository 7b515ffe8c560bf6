/**
 * Host-level state the node creates and must remove: mounts under the cluster directory, the
 * pod bridge, kube-proxy's iptables chains, the kubepods cgroups, leftover container processes.
 * Everything here is idempotent and safe to run after a crash.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Mount points at or below `dir`, deepest first (so they unmount in a valid order). */
export function mountsBelow(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map(unescapeMountPath)
    .filter((point) => point === dir || point.startsWith(prefix))
    .sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

export async function unmountBelow(dir: string): Promise<void> {
  for (const point of mountsBelow(dir)) {
    await run('umount', ['--lazy', point]).catch(() => {});
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export async function linkExists(name: string): Promise<boolean> {
  return run('ip', ['link', 'show', 'dev', name]).then(() => true, () => false);
}

/** Creates the pod bridge with the node's address on it (the CNI bridge plugin then reuses it). */
export async function createBridge(name: string, addressCidr: string): Promise<void> {
  await deleteLink(name);
  await run('ip', ['link', 'add', 'name', name, 'type', 'bridge']);
  await run('ip', ['addr', 'add', addressCidr, 'dev', name]);
  await run('ip', ['link', 'set', name, 'up']);
}

export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await run('ip', ['link', 'delete', name]);
}

/** Chains kubelet creates for itself, which `kube-proxy --cleanup` leaves in place. */
const kubeletChains = ['KUBE-FIREWALL', 'KUBE-MARK-DROP', 'KUBE-MARK-MASQ', 'KUBE-KUBELET-CANARY', 'KUBE-PROXY-CANARY'];

/**
 * Removes the node's iptables state: kube-proxy's chains (`kube-proxy --cleanup`), then kubelet's
 * own chains and the rules that jump to them, in every table, for IPv4 and IPv6.
 */
export async function cleanupIptables(kubeProxy: string): Promise<void> {
  await run(kubeProxy, ['--cleanup']).catch(() => {});
  for (const command of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle']) {
      const rules = await run(command, ['-t', table, '-S']).then((r) => r.stdout, () => '');
      for (const rule of jumpsTo(rules, kubeletChains)) {
        await run(command, ['-t', table, '-D', ...rule]).catch(() => {});
      }
      for (const chain of kubeletChains.filter((c) => rules.includes(`-N ${c}\n`))) {
        await run(command, ['-t', table, '-F', chain]).catch(() => {});
        await run(command, ['-t', table, '-X', chain]).catch(() => {});
      }
    }
  }
}

/** The `-A` rules of an `iptables -S` listing that jump to one of `chains`, as argument lists for -D. */
export function jumpsTo(listing: string, chains: readonly string[]): string[][] {
  return listing
    .split('\n')
    .filter((line) => line.startsWith('-A ') && chains.some((chain) => line.endsWith(` -j ${chain}`)))
    .map((line) => line.slice(3).split(' '));
}

/** Sets sysctls, returning their previous values so they can be restored. */
export function setSysctls(values: Record<string, string>): Record<string, string> {
  const previous: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const file = path.join('/proc/sys', ...key.split('.'));
    try {
      previous[key] = readFileSync(file, 'utf8').trim();
      writeFileSync(file, value);
    } catch {
      // Not settable here (module not loaded): pods on one bridge still reach each other directly.
    }
  }
  return previous;
}

export function restoreSysctls(previous: Record<string, string>): void {
  setSysctls(previous);
}

/** Removes the kubepods cgroup trees kubelet created (cgroup v1: one per controller). */
export function removeKubepodsCgroups(root = '/sys/fs/cgroup'): string[] {
  const leftovers: string[] = [];
  let controllers: string[];
  try {
    controllers = readdirSync(root);
  } catch {
    return leftovers;
  }
  for (const controller of controllers) {
    const tree = path.join(root, controller, 'kubepods');
    for (const dir of directoriesDeepestFirst(tree)) {
      try {
        rmdirSync(dir);
      } catch {
        leftovers.push(dir);
      }
    }
  }
  return leftovers;
}

function directoriesDeepestFirst(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return [...entries.filter((e) => e.isDirectory()).flatMap((e) => directoriesDeepestFirst(path.join(dir, e.name))), dir];
}

/**
 * Pids of every process whose command line mentions `marker` (the cluster's directory), plus all
 * their descendants: containerd's shims name their containerd socket, and containers are their
 * children.
 */
export function processesOf(marker: string): number[] {
  const table = new Map<number, { ppid: number; cmdline: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      table.set(Number(entry), { ppid, cmdline });
    } catch {
      // exited while we looked
    }
  }
  const found = new Set([...table].filter(([pid, p]) => pid !== process.pid && p.cmdline.includes(marker)).map(([pid]) => pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of table) {
      if (!found.has(pid) && found.has(p.ppid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}
