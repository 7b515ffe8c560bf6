import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contains } from './contains.ts';

const cases: Array<[string, unknown, unknown, boolean]> = [
  ['matches when the server added fields', { a: 1, b: { c: 2, d: 3 }, e: 'x' }, { a: 1, b: { c: 2 } }, true],
  ['differs on a changed value', { a: 1 }, { a: 2 }, false],
  ['differs on a missing field', { a: 1 }, { a: 1, b: 1 }, false],
  ['differs when an array lost an item', { s: [1, 2] }, { s: [1, 2, 3] }, false],
  ['differs when an array gained an item', { s: [1, 2, 3] }, { s: [1, 2] }, false],
  ['matches array items that gained defaults', { s: [{ port: 53, protocol: 'UDP', x: 1 }] }, { s: [{ port: 53, protocol: 'UDP' }] }, true],
  ['differs on type: string versus number', { n: '1' }, { n: 1 }, false],
  ['treats an empty desired object as present only when observed is an object', { p: {} }, { p: {} }, true],
  ['differs when an object is expected and missing', {}, { p: {} }, false],
];

describe('contains', () => {
  for (const [name, observed, desired, expected] of cases) {
    it(name, () => assert.equal(contains(observed, desired), expected));
  }
});
