/**
 * Hot reload of a mounted Secret directory. kubelet writes a new timestamped directory and swaps
 * the `..data` symlink atomically, so the watcher only learns "something changed"; the decision
 * is made on the content read back.
 *
 * Build fully, then swap (caddy's way): new files are read and validated aside; only a valid,
 * different set replaces the credentials in use. An invalid set (a half-written directory, a key
 * that does not match) keeps the old credentials serving and is counted and logged.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Credentials } from './credentials.ts';

export type ReloadDecision =
  | { readonly action: 'swap'; readonly credentials: Credentials }
  | { readonly action: 'unchanged' }
  | { readonly action: 'keep'; readonly error: unknown };

/** Pure: what to do with what was read back from the directory. */
export function reloadDecision(current: Credentials, candidate: { readonly ok: true; readonly credentials: Credentials } | { readonly ok: false; readonly error: unknown }): ReloadDecision {
  if (!candidate.ok) return { action: 'keep', error: candidate.error };
  if (candidate.credentials.digest === current.digest) return { action: 'unchanged' };
  return { action: 'swap', credentials: candidate.credentials };
}

export interface DirectoryWatch {
  close(): void;
}

/**
 * Calls `changed` (debounced by `settleMs`) after any change in `dir`, and every `pollMs` as a
 * safety net for filesystems without change events.
 */
export function watchDirectory(dir: string, changed: () => void, options: { settleMs: number; pollMs: number }): DirectoryWatch {
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(changed, options.settleMs);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, schedule);
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  const poll = setInterval(changed, options.pollMs);
  poll.unref();
  return {
    close() {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}
