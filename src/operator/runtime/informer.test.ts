import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { watchStep, withoutManagedFields, type WatchStep } from './informer.ts';
import type { KubeObject, WatchEventType } from './kube.ts';

const configMap = (name: string, resourceVersion?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'acme', ...(resourceVersion ? { resourceVersion } : {}) }, data: { a: '1' },
});

const steps: Array<[string, WatchEventType, KubeObject, string, WatchStep<KubeObject>]> = [
  ['a bookmark advances the resourceVersion and changes nothing', 'BOOKMARK', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '', resourceVersion: '120' } }, '100',
    { resourceVersion: '120' }],
  ['an added object is recorded under namespace/name', 'ADDED', configMap('trust', '101'), '100',
    { resourceVersion: '101', change: { key: 'acme/trust', current: configMap('trust', '101') } }],
  ['a modified object replaces the cached one', 'MODIFIED', configMap('trust', '102'), '101',
    { resourceVersion: '102', change: { key: 'acme/trust', current: configMap('trust', '102') } }],
  ['a deleted object is recorded as gone', 'DELETED', configMap('trust', '103'), '102',
    { resourceVersion: '103', change: { key: 'acme/trust', current: undefined } }],
  ['an event without a resourceVersion keeps the one to resume from', 'BOOKMARK', configMap(''), '103',
    { resourceVersion: '103' }],
];

describe('watchStep', () => {
  for (const [name, event, object, from, expected] of steps) {
    it(name, () => assert.deepEqual(watchStep(event, object, from), expected));
  }
});

describe('withoutManagedFields', () => {
  it('drops metadata.managedFields and keeps every other field', () => {
    const object: KubeObject = {
      apiVersion: 'v1', kind: 'Namespace', spec: { finalizers: ['kubernetes'] },
      metadata: { name: 'acme', labels: { a: 'b' }, resourceVersion: '7', managedFields: [{ manager: 'landlord-operator', fieldsV1: { 'f:metadata': {} } }] },
    };
    assert.deepEqual(withoutManagedFields(object), {
      apiVersion: 'v1', kind: 'Namespace', spec: { finalizers: ['kubernetes'] }, metadata: { name: 'acme', labels: { a: 'b' }, resourceVersion: '7' },
    });
    assert.ok(object.metadata.managedFields, 'the input is not modified');
  });

  it('returns an object without managedFields as it is', () => {
    const object = configMap('trust', '1');
    assert.equal(withoutManagedFields(object), object);
  });
});
