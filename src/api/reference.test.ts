import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { constraintsOf, crdReferenceNotes, fieldRows, renderCrdReference, typeOf } from './reference.ts';
import { customResourceDefinitions, routeCrd, tenantCrd, type JsonSchema } from './schema.ts';

const types: Array<[string, JsonSchema, string]> = [
  ['names a plain string', { type: 'string' }, 'string'],
  ['adds the format of a formatted string', { type: 'string', format: 'date-time' }, 'string (date-time)'],
  ['names arrays by their items', { type: 'array', items: { type: 'string' } }, '[]string'],
  ['names arrays of objects', { type: 'array', items: { type: 'object', properties: {} } }, '[]object'],
  ['names maps by their values', { type: 'object', additionalProperties: { type: 'string' } }, 'map[string]string'],
];

describe('typeOf', () => {
  for (const [name, schema, expected] of types) it(name, () => assert.equal(typeOf(schema), expected));
});

const constraints: Array<[string, JsonSchema, string]> = [
  ['lists an enum', { type: 'string', enum: ['soft', 'hard'] }, 'one of `soft`, `hard`'],
  ['escapes the pipes of a pattern so the table keeps its columns', { type: 'string', pattern: '^(s|m)$' }, 'pattern `^(s\\|m)$`'],
  ['joins a minimum and a maximum into a range', { type: 'integer', minimum: 1, maximum: 65535 }, 'value 1–65535'],
  ['states a lone maximum length', { type: 'string', maxLength: 63 }, 'length ≤ 63'],
  ['states a lone minimum', { type: 'integer', minimum: 0 }, 'value ≥ 0'],
  ['prefixes the rules of scalar items with "each"', { type: 'array', maxItems: 32, 'x-kubernetes-list-type': 'set', items: { type: 'string', maxLength: 253 } }, 'items ≤ 32; no duplicates; each: length ≤ 253'],
  ['names the keys of a list map', { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], items: { type: 'object', properties: {} } }, 'one entry per `type`'],
  ['says nothing of an unconstrained field', { type: 'boolean' }, ''],
];

describe('constraintsOf', () => {
  for (const [name, schema, expected] of constraints) it(name, () => assert.equal(constraintsOf(schema), expected));
});

describe('fieldRows', () => {
  const schema: JsonSchema = {
    type: 'object', required: ['backend'], properties: {
      backend: { type: 'object', required: ['port'], properties: { service: { type: 'string' }, port: { type: 'integer' } } },
      tolerations: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' } } } },
      nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
    },
  };
  const rows = fieldRows(schema, 'spec');

  it('lists nested fields depth first under dotted paths', () => {
    assert.deepEqual(rows.map((row) => row.path), ['spec.backend', 'spec.backend.service', 'spec.backend.port', 'spec.tolerations', 'spec.tolerations[].key', 'spec.nodeSelector']);
  });
  it('marks a field required only where its parent requires it', () => {
    assert.deepEqual(rows.filter((row) => row.required).map((row) => row.path), ['spec.backend', 'spec.backend.port']);
  });
});

describe('renderCrdReference', () => {
  const page = renderCrdReference(customResourceDefinitions, crdReferenceNotes, '<!-- generated -->');

  it('starts with the generated marker it was given', () => assert.ok(page.startsWith('<!-- generated -->\n')));

  for (const crd of [tenantCrd, routeCrd]) {
    const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
    it(`has a row for every ${crd.spec.names.kind} spec and status field`, () => {
      const paths = [...fieldRows(root.properties.spec!, 'spec'), ...fieldRows(root.properties.status!, 'status')].map((row) => row.path);
      for (const path of paths) assert.ok(page.includes(`| \`${path}\` |`), path);
    });
    it(`lists every ${crd.spec.names.kind} printer column`, () => {
      for (const column of crd.spec.versions[0]!.additionalPrinterColumns) assert.ok(page.includes(`| ${column.name} | \`${column.jsonPath}\` |`), column.name);
    });
  }

  it('keeps every table row at the column count of its header', () => {
    const tables = page.split('\n\n').filter((block) => block.startsWith('|'));
    for (const block of tables) {
      const counts = new Set(block.trimEnd().split('\n').map((line) => line.split(/(?<!\\)\|/).length));
      assert.equal(counts.size, 1, block.slice(0, block.indexOf('\n')));
    }
  });

  it('shows the TLS mode default that effectiveTlsMode applies', () => {
    assert.match(page, /\| `spec\.tls\.mode` \|[^\n]*\| `ingress` for `http`, `sidecar` otherwise \|/);
  });

  it('refuses a default noted for a field the schema does not declare', () => {
    const notes = { ...crdReferenceNotes, Route: { ...crdReferenceNotes.Route!, defaults: { 'spec.tls.modes': '`sidecar`' } } };
    assert.throws(() => renderCrdReference([routeCrd], notes, ''), (error) => isLandlordError(error, 'LL_API_REFERENCE_NOTE_UNKNOWN'));
  });

  it('refuses a kind without notes', () => {
    assert.throws(() => renderCrdReference([routeCrd], {}, ''), (error) => isLandlordError(error, 'LL_API_REFERENCE_NOTE_UNKNOWN'));
  });
});
