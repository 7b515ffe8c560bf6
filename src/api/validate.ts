/**
 * Checks a value against a structural schema the way the API server does for landlord's CRDs:
 * types, required fields, enums, patterns, lengths, bounds, set uniqueness, and unknown fields
 * (which the API server would silently prune, so they count as errors here). Pure; used by tests
 * that keep the TypeScript types and the schemas in step, and by the CLI before it sends a Tenant.
 */
import type { JsonSchema } from './schema.ts';

/** One problem: where (`spec.domains[0]`) and what. */
export interface SchemaViolation {
  path: string;
  message: string;
}

export function validate(schema: JsonSchema, value: unknown, path = ''): SchemaViolation[] {
  const here = (message: string): SchemaViolation[] => [{ path: path || '.', message }];
  switch (schema.type) {
    case 'object':
      return isRecord(value) ? validateObject(schema, value, path) : here('must be an object');
    case 'array':
      return Array.isArray(value) ? validateArray(schema, value, path) : here('must be an array');
    case 'string':
      return typeof value === 'string' ? validateString(schema, value, path) : here('must be a string');
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? validateInteger(schema, value, path) : here('must be an integer');
    case 'boolean':
      return typeof value === 'boolean' ? [] : here('must be true or false');
    default:
      return [];
  }
}

function validateObject(schema: JsonSchema, value: Record<string, unknown>, path: string): SchemaViolation[] {
  const at = (key: string): string => (path ? `${path}.${key}` : key);
  const problems: SchemaViolation[] = [];
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) problems.push({ path: at(key), message: 'is required' });
  }
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue;
    const fieldSchema = schema.properties?.[key] ?? schema.additionalProperties;
    if (fieldSchema === undefined) problems.push({ path: at(key), message: 'is not a known field' });
    else problems.push(...validate(fieldSchema, field, at(key)));
  }
  return problems;
}

function validateArray(schema: JsonSchema, value: unknown[], path: string): SchemaViolation[] {
  const problems: SchemaViolation[] = [];
  if (schema.minItems !== undefined && value.length < schema.minItems) problems.push({ path, message: `must have at least ${schema.minItems} item(s)` });
  if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push({ path, message: `must have at most ${schema.maxItems} items` });
  if (schema['x-kubernetes-list-type'] === 'set' && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) {
    problems.push({ path, message: 'must not repeat an item' });
  }
  value.forEach((item, index) => {
    if (schema.items) problems.push(...validate(schema.items, item, `${path}[${index}]`));
  });
  return problems;
}

function validateInteger(schema: JsonSchema, value: number, path: string): SchemaViolation[] {
  if (schema.minimum !== undefined && value < schema.minimum) return [{ path, message: `must be at least ${schema.minimum}` }];
  if (schema.maximum !== undefined && value > schema.maximum) return [{ path, message: `must be at most ${schema.maximum}` }];
  return [];
}

function validateString(schema: JsonSchema, value: string, path: string): SchemaViolation[] {
  const here = (message: string): SchemaViolation[] => [{ path, message }];
  if (schema.enum && !schema.enum.includes(value)) return here(`must be one of ${schema.enum.join(', ')}`);
  if (schema.minLength !== undefined && value.length < schema.minLength) return here(`must have at least ${schema.minLength} character(s)`);
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return here(`must have at most ${schema.maxLength} characters`);
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return here(`must match ${schema.pattern}`);
  if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) return here('must be an RFC 3339 date-time');
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
