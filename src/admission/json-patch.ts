/**
 * RFC 6902 patches from a before/after pair: mutators edit a copy, the diff is the patch. Objects
 * are compared key by key, arrays of equal length element by element; anything else is replaced.
 */
import type { JsonPatchOperation } from './review-types.ts';

export function diff(before: unknown, after: unknown, pointer = ''): JsonPatchOperation[] {
  if (Object.is(before, after)) return [];
  if (isObject(before) && isObject(after)) {
    const ops: JsonPatchOperation[] = [];
    for (const key of Object.keys(before)) {
      if (!(key in after)) ops.push({ op: 'remove', path: `${pointer}/${escape(key)}` });
    }
    for (const [key, value] of Object.entries(after)) {
      const at = `${pointer}/${escape(key)}`;
      ops.push(...(key in before ? diff(before[key], value, at) : [{ op: 'add' as const, path: at, value }]));
    }
    return ops;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item: unknown, index) => diff(item, after[index], `${pointer}/${index}`));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ op: 'replace', path: pointer, value: after }];
}

/** RFC 6901: `~` and `/` in a key (`kubernetes.io/os`) are escaped. */
export function escape(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
