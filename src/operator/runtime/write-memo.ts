/**
 * What a reconciler last wrote per object, so it does not write the same intent twice while its
 * watch cache lags behind its own writes (the rule the tenant reconciler applies inline).
 *
 * A write is remembered with a digest of the intent and the resourceVersion the server answered.
 * The intent counts as already written while the cache shows no newer version of the object: a
 * change by anyone else has a newer resourceVersion, and `forget` (called when a cache sees the
 * object deleted) drops the memo, so drift is still repaired.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from './kube.ts';

export class WriteMemo {
  readonly #written = new Map<string, { digest: string; resourceVersion: string }>();

  /** Whether `intent` was written to `key` and `observed` (the cached object) is not newer than that write. */
  isCurrent(key: string, intent: unknown, observed: KubeObject | undefined): boolean {
    const memo = this.#written.get(key);
    if (memo === undefined || memo.digest !== digestOf(intent)) return false;
    return observed === undefined || !isNewer(observed.metadata.resourceVersion, memo.resourceVersion);
  }

  remember(key: string, intent: unknown, written: KubeObject): void {
    this.#written.set(key, { digest: digestOf(intent), resourceVersion: written.metadata.resourceVersion ?? '' });
  }

  forget(key: string): void {
    this.#written.delete(key);
  }
}

/** `Kind/namespace/name`: the memo key of an object. */
export function objectIdentity(object: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64');
}

/** resourceVersions are opaque, but etcd's are integers: compare them as such when they are. */
export function isNewer(observed: string | undefined, written: string): boolean {
  if (observed === undefined) return false;
  if (/^\d+$/.test(observed) && /^\d+$/.test(written)) return BigInt(observed) > BigInt(written);
  return observed !== written;
}
