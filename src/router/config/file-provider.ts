/**
 * The file provider: reads the routes file, hands a `RoutingSnapshot` to its consumer, and does so
 * again whenever the file changes (editors and `kubectl cp` replace files by rename, so the
 * directory is watched) or `reload()` is called (SIGHUP). A file that cannot be read or parsed
 * produces a `LandlordError` for the consumer to log; the consumer keeps its current table.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LandlordError } from '../../shared/errors.ts';
import { formatIssues, type RoutingSnapshot } from './ir.ts';
import { parseRoutesFile } from './routes-file.ts';

export interface RoutingProvider {
  /** Reads the source now; resolves once the consumer has been called. */
  reload(): Promise<void>;
  close(): void;
}

export interface FileProviderOptions {
  readonly file: string;
  readonly onSnapshot: (snapshot: RoutingSnapshot) => void;
  readonly onError: (error: LandlordError) => void;
  /** Coalesces the bursts of events one save produces. */
  readonly debounceMs?: number;
}

/** Reads and parses the routes file once; throws `LL_ROUTER_ROUTES_UNREADABLE` or `LL_ROUTER_ROUTES_INVALID`. */
export async function loadRoutesFile(file: string): Promise<RoutingSnapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new LandlordError('LL_ROUTER_ROUTES_UNREADABLE', `cannot read routes file ${file}`, { cause, hint: 'check the path given to --routes' });
  }
  const parsed = parseRoutesFile(text);
  if (!parsed.ok) {
    throw new LandlordError('LL_ROUTER_ROUTES_INVALID', `routes file ${file} is invalid: ${formatIssues(parsed.issues)}`, { hint: 'see docs/router.md for the format' });
  }
  return parsed.snapshot;
}

export function createFileProvider(options: FileProviderOptions): RoutingProvider {
  const absolute = path.resolve(options.file);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;

  const reload = async (): Promise<void> => {
    try {
      options.onSnapshot(await loadRoutesFile(absolute));
    } catch (error) {
      options.onError(error instanceof LandlordError ? error : new LandlordError('LL_ROUTER_ROUTES_INVALID', String(error)));
    }
  };

  watcher = watch(path.dirname(absolute), (_event, name) => {
    if (name !== null && name !== path.basename(absolute)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), options.debounceMs ?? 50);
  });
  watcher.on('error', (cause) => options.onError(new LandlordError('LL_ROUTER_ROUTES_UNREADABLE', `cannot watch ${absolute}`, { cause })));

  return {
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}
