/**
 * The Markdown reference of landlord's custom resources (docs/reference/crds.md), rendered from the
 * same CRD objects as deploy/crds, so the two cannot disagree (`npm run generate`; the drift check
 * in scripts/test.sh covers both).
 *
 * Pure: CRDs and notes in, Markdown out. What a schema cannot say is given as notes: the defaults
 * landlord's components apply when a field is unset (none is stored by the API server) and the
 * condition types each writer owns. A note naming a field the schema does not declare is refused
 * (`LL_API_REFERENCE_NOTE_UNKNOWN`), so a renamed field cannot leave a stale note behind.
 */
import { LandlordError } from '../shared/errors.ts';
import { effectiveTlsMode } from './route.ts';
import type { CustomResourceDefinition, JsonSchema } from './schema.ts';

export interface ConditionNote {
  readonly type: string;
  /** The component that owns (writes) the condition type. */
  readonly writer: string;
  readonly meaning: string;
  readonly trueReasons: readonly string[];
  /** False or Unknown reasons; empty when `meaning` explains them. */
  readonly otherReasons: readonly string[];
}

export interface KindNotes {
  /** By field path (`spec.tier`, `spec.quota.cpu`): what applies when the field is unset, and who applies it. */
  readonly defaults: Readonly<Record<string, string>>;
  readonly conditions: readonly ConditionNote[];
}

/** One row of a field table. */
export interface FieldRow {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly constraints: string;
  readonly description: string;
}

/**
 * Every property under `schema`, depth first in declaration order: objects by dotted path, array
 * items as `[]`, maps as `.*` (their values are not described further).
 */
export function fieldRows(schema: JsonSchema, prefix: string): FieldRow[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const row: FieldRow = {
      path, type: typeOf(child), required: schema.required?.includes(name) ?? false,
      constraints: constraintsOf(child), description: child.description ?? '',
    };
    const element = child.items?.type === 'object' ? child.items : child;
    const below = element === child.items ? `${path}[]` : path;
    return [row, ...fieldRows(element, below)];
  });
}

export function typeOf(schema: JsonSchema): string {
  if (schema.type === 'array') return `[]${schema.items ? typeOf(schema.items) : 'unknown'}`;
  if (schema.additionalProperties) return `map[string]${typeOf(schema.additionalProperties)}`;
  if (schema.format) return `${schema.type ?? 'unknown'} (${schema.format})`;
  return schema.type ?? 'unknown';
}

/** The validation the API server applies to one value; an array's item rules are prefixed "each". */
export function constraintsOf(schema: JsonSchema): string {
  const own = [
    schema.enum && `one of ${schema.enum.map(code).join(', ')}`,
    schema.pattern !== undefined && `pattern ${code(schema.pattern)}`,
    bounds('length', schema.minLength, schema.maxLength),
    bounds('value', schema.minimum, schema.maximum),
    bounds('items', schema.minItems, schema.maxItems),
    schema['x-kubernetes-list-type'] === 'set' && 'no duplicates',
    schema['x-kubernetes-list-type'] === 'map' && `one entry per ${(schema['x-kubernetes-list-map-keys'] ?? []).map(code).join(', ')}`,
  ].filter((text): text is string => typeof text === 'string');
  const items = schema.items && schema.items.type !== 'object' ? constraintsOf(schema.items) : '';
  return [...own, ...(items ? [`each: ${items}`] : [])].join('; ');
}

function bounds(what: string, min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && max !== undefined) return `${what} ${min}–${max}`;
  if (min !== undefined) return `${what} ≥ ${min}`;
  if (max !== undefined) return `${what} ≤ ${max}`;
  return undefined;
}

/** A code span that survives a Markdown table cell (GFM reads `\|` inside code spans as `|`). */
function code(text: string): string {
  return `\`${text.replaceAll('|', '\\|')}\``;
}

function cell(text: string): string {
  return text.replaceAll('\n', ' ').replace(/(?<!\\)\|/g, '\\|');
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function fieldTable(rows: readonly FieldRow[], defaults: Readonly<Record<string, string>>): string {
  return table(['field', 'type', 'required', 'default', 'constraints', 'description'], rows.map((row) => [
    code(row.path), code(row.type), row.required ? 'yes' : '', cell(defaults[row.path] ?? ''), row.constraints, cell(row.description),
  ]));
}

function kindSection(crd: CustomResourceDefinition, notes: KindNotes): string {
  const version = crd.spec.versions[0]!;
  const root = version.schema.openAPIV3Schema;
  const { names } = crd.spec;
  const nameSchema = root.properties.metadata?.properties?.name ?? {};
  const specRows = [{ path: 'metadata.name', type: typeOf(nameSchema), required: true, constraints: constraintsOf(nameSchema), description: 'The object\'s name.' },
    ...fieldRows(root.properties.spec ?? {}, 'spec')];
  const statusRows = fieldRows(root.properties.status ?? {}, 'status');
  const known = new Set([...specRows, ...statusRows].map((row) => row.path));
  const unknown = Object.keys(notes.defaults).filter((path) => !known.has(path));
  if (unknown.length > 0) {
    throw new LandlordError('LL_API_REFERENCE_NOTE_UNKNOWN', `${names.kind} notes name fields its schema does not declare: ${unknown.join(', ')}`, {
      hint: 'rename or remove the note in src/api/reference.ts to match src/api/schema.ts',
    });
  }
  const wide = (priority: number | undefined): string => (priority ? '`-o wide`' : 'always');
  return [
    `## ${names.kind}`,
    cell(root.description ?? ''),
    table(['property', 'value'], [
      ['apiVersion', code(`${crd.spec.group}/${version.name}`)],
      ['scope', crd.spec.scope],
      ['names', `${code(names.plural)}, singular ${code(names.singular)}, short ${(names.shortNames ?? []).map(code).join(', ') || '—'}, categories ${names.categories.map(code).join(', ')}`],
      ['subresources', Object.keys(version.subresources).map(code).join(', ')],
    ]),
    `### Printer columns (\`kubectl get ${names.plural}\`)`,
    table(['column', 'JSON path', 'type', 'shown'], version.additionalPrinterColumns.map((column) => [
      column.name, code(column.jsonPath), column.type, wide(column.priority),
    ])),
    '### Spec',
    fieldTable(specRows, notes.defaults),
    '### Status',
    'Written by landlord on the status subresource; users never set it.',
    fieldTable(statusRows, notes.defaults),
    '### Conditions',
    table(['type', 'written by', 'means', '`True` reason', 'other reasons'], notes.conditions.map((condition) => [
      code(condition.type), condition.writer, cell(condition.meaning), condition.trueReasons.map(code).join(', '), condition.otherReasons.map(code).join(', ') || '—',
    ])),
  ].join('\n\n');
}

/** The whole reference page; `notes` must have an entry for every CRD's kind. */
export function renderCrdReference(crds: readonly CustomResourceDefinition[], notes: Readonly<Record<string, KindNotes>>, header: string): string {
  const sections = crds.map((crd) => {
    const kindNotes = notes[crd.spec.names.kind];
    if (kindNotes === undefined) throw new LandlordError('LL_API_REFERENCE_NOTE_UNKNOWN', `no reference notes for kind ${crd.spec.names.kind}`, { hint: 'add them to crdReferenceNotes in src/api/reference.ts' });
    return kindSection(crd, kindNotes);
  });
  return [
    header.trimEnd(),
    '# Custom resource reference',
    [
      'landlord\'s API: group `landlord.dev`, version `v1alpha1`. The API server enforces every type and',
      'constraint below and prunes unknown fields. It stores no defaults: the **default** column says what',
      'landlord\'s components assume when a field is unset. Rules that relate fields to each other (a',
      'namespace prefixed by its tenant, zones that do not overlap, a hostname inside the tenant\'s zones)',
      'are checked by the operator, the admission webhooks and the router, and reported in conditions.',
      '**required** means: must be set whenever the object holding it is.',
    ].join('\n'),
    crds.map((crd) => `- [${crd.spec.names.kind}](#${crd.spec.names.kind.toLowerCase()})`).join('\n'),
    ...sections,
  ].join('\n\n') + '\n';
}

/** The notes of landlord's own kinds: what the operator, the router and src/api/route.ts do today. */
export const crdReferenceNotes: Readonly<Record<string, KindNotes>> = {
  Tenant: {
    defaults: {
      'spec.tier': '`soft`',
      'spec.namespaces': '`[<name>]`',
      'spec.quota.cpu': '`4`', 'spec.quota.memory': '`8Gi`', 'spec.quota.ephemeralStorage': '`20Gi`',
      'spec.quota.pods': '`50`', 'spec.quota.services': '`20`', 'spec.quota.secrets': '`100`',
      'spec.quota.configMaps': '`100`', 'spec.quota.persistentVolumeClaims': '`10`',
      'spec.limits.defaultRequest.cpu': '`100m`', 'spec.limits.defaultRequest.memory': '`128Mi`',
      'spec.limits.default.cpu': '`500m`', 'spec.limits.default.memory': '`512Mi`',
      'spec.limits.max.cpu': '`2`', 'spec.limits.max.memory': '`4Gi`',
      'spec.network.internetEgress': '`false`',
      'spec.network.allowFrom': '`[]`: no other tenant',
    },
    conditions: [
      { type: 'Namespaces', writer: 'operator', meaning: 'every tenant namespace exists and carries landlord\'s labels', trueReasons: ['Created'], otherReasons: ['Creating', 'NamespaceNameInvalid', 'NamespaceReserved', 'NamespaceTaken', 'SpecInvalid', 'Terminating'] },
      { type: 'Policies', writer: 'operator', meaning: 'owner RoleBindings, quotas, limit ranges and network policies are applied', trueReasons: ['Applied'], otherReasons: ['SpecInvalid', 'Terminating'] },
      { type: 'Certificates', writer: 'operator', meaning: 'the tenant CA is issued and its trust bundle published', trueReasons: ['Issued'], otherReasons: ['DomainInvalid', 'DomainClaimed', 'SpecInvalid', 'Terminating'] },
      { type: 'Ready', writer: 'operator', meaning: 'all of the above are True; otherwise False with the reason of the first False (else Unknown) condition above', trueReasons: ['Ready'], otherReasons: [] },
    ],
  },
  Route: {
    defaults: {
      'spec.tls.mode': `\`${effectiveTlsMode({ protocol: 'http' })}\` for \`http\`, \`${effectiveTlsMode({ protocol: 'tls' })}\` otherwise`,
      'spec.proxyProtocol': '`false`',
      'spec.tls.clientAuthentication': '`none`',
      'spec.tls.allowedClients': 'every workload of the tenant CA',
    },
    conditions: [
      { type: 'Accepted', writer: 'router', meaning: 'the Route may claim its hostname', trueReasons: ['Accepted'], otherReasons: ['InvalidSpec', 'NamespaceHasNoTenant', 'TenantNotFound', 'TenantDomainsConflict', 'HostnameNotInTenantDomains', 'HostnameConflict'] },
      { type: 'Ready', writer: 'router', meaning: 'the router forwards the hostname to ready endpoints now', trueReasons: ['Routed'], otherReasons: ['NotAccepted', 'ServiceNotFound', 'ServicePortNotFound', 'NoReadyEndpoints', 'SidecarServiceNotFound', 'NoSidecarEndpoints', 'TenantIngressNotReady'] },
      { type: 'CertificateIssued', writer: 'operator', meaning: 'the Route\'s certificate Secret `landlord-tls-<route>` holds a certificate from the tenant CA', trueReasons: ['Issued'], otherReasons: ['InvalidName', 'InvalidHostname', 'HostnameNotInTenantDomains', 'NamespaceHasNoTenant', 'TenantNotFound', 'TenantDomainsInvalid', 'TenantCaNotReady', 'OwnCertificate', 'SecretNameTaken'] },
      { type: 'SidecarServiceCreated', writer: 'operator', meaning: '(sidecar Routes) the headless Service `landlord-route-<route>` selects the backend\'s pods', trueReasons: ['Created'], otherReasons: ['BackendServiceNotFound', 'BackendServiceHasNoSelector', 'ServiceNameTaken'] },
    ],
  },
};
