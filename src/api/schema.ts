/**
 * The OpenAPI v3 structural schemas of landlord's custom resources and the CRDs built from them:
 * the single source of deploy/crds (`npm run generate`). The schemas describe exactly the types in
 * tenant.ts and route.ts; src/api/schema.test.ts fails when the two diverge (a fully populated,
 * type-checked fixture must validate and must cover every schema property).
 *
 * Kubernetes 1.20 has no CEL, so rules that relate fields to each other (a namespace is prefixed by
 * its tenant's name, domains do not overlap between tenants) are checked by the operator, which
 * reports them in a status condition.
 */
import { apiGroup, apiVersionName } from './meta.ts';
import { routeKind, routePlural } from './route.ts';
import { tenantKind, tenantPlural } from './tenant.ts';

/** The subset of OpenAPI v3 that structural CRD schemas use (and that `validate` understands). */
export interface JsonSchema {
  type?: 'object' | 'string' | 'integer' | 'boolean' | 'array';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema;
  items?: JsonSchema;
  enum?: string[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

/** An RFC 1123 label: namespace names, tenant names, service names. */
export const dnsLabelPattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** `*.acme.example` or `acme.example`: lowercase, at least two labels, wildcard only as the whole first label. */
export const tenantDomainPattern = '^(\\*\\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$';
/** A hostname inside a tenant domain, optionally with a one-label wildcard (`*.x.acme.example`). */
export const hostnamePattern = '^(\\*\\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$';
/**
 * A client identity: a SPIFFE ID (`spiffe://` trust domain, then one or more path segments of the
 * SPIFFE ID specification's characters) or a lowercase DNS name.
 */
export const clientIdentityPattern = '^(spiffe://[a-z0-9._-]+(/[A-Za-z0-9._-]+)+|([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$';
/** A Kubernetes quantity in the forms users write for cpu, memory and storage. */
export const quantityPattern = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$';
/** Tenant names leave room for `-<suffix>` in 63-character namespace names. */
export const tenantNameMaxLength = 40;

const string = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: 'string', description, ...extra });
const quantity = (description: string): JsonSchema => string(description, { pattern: quantityPattern, maxLength: 32 });
const count = (description: string): JsonSchema => ({ type: 'integer', description, minimum: 0, maximum: 1_000_000 });
const setOf = (items: JsonSchema, description: string, maxItems: number): JsonSchema => ({
  type: 'array', description, items, maxItems, 'x-kubernetes-list-type': 'set',
});
const object = (description: string, properties: Record<string, JsonSchema>, required?: string[]): JsonSchema => ({
  type: 'object', description, properties, ...(required ? { required } : {}),
});
const cpuMemory = (description: string): JsonSchema => object(description, { cpu: quantity('CPU, e.g. 500m.'), memory: quantity('Memory, e.g. 256Mi.') });

/** `metav1.Condition`. */
export const conditionSchema: JsonSchema = object('A Kubernetes-style condition.', {
  type: string('The concern this condition reports, e.g. Ready (each resource documents its types).', { maxLength: 316 }),
  status: string('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
  observedGeneration: { type: 'integer', description: 'The generation this condition was computed from.', minimum: 0 },
  lastTransitionTime: string('When status last changed.', { format: 'date-time' }),
  reason: string('CamelCase, stable: what a program matches on.', { maxLength: 1024 }),
  message: string('For people: what is wrong and how to fix it.', { maxLength: 32768 }),
}, ['type', 'status', 'lastTransitionTime', 'reason', 'message']);

const conditions: JsonSchema = {
  type: 'array', description: 'One condition per concern.', items: conditionSchema,
  'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'],
};

export const tenantSpecSchema: JsonSchema = object('What the platform provides to the tenant.', {
  owners: object('Who administers the tenant: bound to landlord-tenant-admin in every tenant namespace.', {
    users: setOf(string('A user name.', { minLength: 1, maxLength: 253 }), 'Users.', 64),
    groups: setOf(string('A group name.', { minLength: 1, maxLength: 253 }), 'Groups.', 64),
    serviceAccounts: setOf(
      string('namespace/name of a service account.', { pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$', maxLength: 317 }),
      'Service accounts.', 64),
  }),
  tier: string('soft: shared nodes and runtime; hard: the placement below.', { enum: ['soft', 'hard'] }),
  domains: { ...setOf(string('*.acme.example or acme.example.', { pattern: tenantDomainPattern, maxLength: 253 }), 'DNS zones the tenant may use.', 32), minItems: 1 },
  namespaces: setOf(string('<tenant> or <tenant>-<suffix>.', { pattern: dnsLabelPattern, maxLength: 63 }), 'Namespaces to create; default [<tenant>].', 32),
  quota: object('Per-namespace quota.', {
    cpu: quantity('requests.cpu and limits.cpu.'),
    memory: quantity('requests.memory and limits.memory.'),
    ephemeralStorage: quantity('requests.ephemeral-storage and limits.ephemeral-storage.'),
    pods: count('Pods.'),
    services: count('Services.'),
    secrets: count('Secrets.'),
    configMaps: count('ConfigMaps.'),
    persistentVolumeClaims: count('PersistentVolumeClaims.'),
  }),
  limits: object('Container defaults and bounds (a LimitRange per namespace).', {
    defaultRequest: cpuMemory('Requests for containers that state none.'),
    default: cpuMemory('Limits for containers that state none.'),
    max: cpuMemory('The most one container may ask for.'),
  }),
  network: object('Network options.', {
    internetEgress: { type: 'boolean', description: 'Allow egress to 0.0.0.0/0 except private ranges and metadata.' },
    allowFrom: setOf(string('A tenant name.', { pattern: dnsLabelPattern, maxLength: tenantNameMaxLength }), 'Tenants whose namespaces may reach this tenant.', 64),
  }),
  placement: object('Where hard-tier pods run.', {
    runtimeClassName: string('A RuntimeClass.', { pattern: dnsLabelPattern, maxLength: 63 }),
    nodeSelector: { type: 'object', description: 'Node labels.', additionalProperties: { type: 'string' } },
    tolerations: {
      type: 'array', description: 'Tolerations.', maxItems: 16, items: object('A toleration.', {
        key: string('Taint key.'),
        operator: string('Exists or Equal.', { enum: ['Exists', 'Equal'] }),
        value: string('Taint value.'),
        effect: string('Taint effect.', { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
      }),
    },
  }),
  idle: object('Idle policy.', { after: string('Scale to zero after this long without connections, e.g. 30m.', { pattern: '^[0-9]+(s|m|h)$' }) }),
}, ['owners', 'domains']);

export const tenantStatusSchema: JsonSchema = object('What the operator observed and did.', {
  phase: string('Pending, Ready, Degraded or Terminating.', { enum: ['Pending', 'Ready', 'Degraded', 'Terminating'] }),
  observedGeneration: { type: 'integer', description: 'The generation last reconciled.', minimum: 0 },
  conditions,
  namespaces: setOf(string('A namespace.'), 'The tenant namespaces that exist.', 32),
  ca: object('The tenant CA.', { fingerprint: string('SHA-256 of the certificate.'), notAfter: string('Expiry.', { format: 'date-time' }) }, ['fingerprint', 'notAfter']),
  activity: string('Active or Sleeping.', { enum: ['Active', 'Sleeping'] }),
});

export const routeSpecSchema: JsonSchema = object('One hostname of a tenant service on the edge.', {
  hostname: string('A name inside one of the tenant\'s domains.', { pattern: hostnamePattern, maxLength: 253 }),
  protocol: string('tls, http or postgres.', { enum: ['tls', 'http', 'postgres'] }),
  backend: object('The Service and port to forward to.', {
    service: string('A Service in the Route\'s namespace.', { pattern: dnsLabelPattern, maxLength: 63 }),
    port: { type: 'integer', description: 'The Service port.', minimum: 1, maximum: 65535 },
  }, ['service', 'port']),
  tls: object('Where TLS ends and how clients authenticate.', {
    mode: string('sidecar, ingress or passthrough.', { enum: ['sidecar', 'ingress', 'passthrough'] }),
    clientAuthentication: string('none, optional or required.', { enum: ['none', 'optional', 'required'] }),
    secretName: string('A kubernetes.io/tls Secret in the Route\'s namespace to serve instead of a certificate issued from the tenant CA.', { pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 }),
    allowedClients: { ...setOf(
      string('A SPIFFE ID (spiffe://<tenant>.<trust domain>/ns/<namespace>/sa/<service account>) or a DNS name of a client certificate.', { pattern: clientIdentityPattern, maxLength: 2048 }),
      'With clientAuthentication required, the only client identities the sidecar admits; unset, every workload of the tenant CA.',
      64,
    ), minItems: 1 },
  }),
  proxyProtocol: { type: 'boolean', description: 'Send PROXY protocol v2 to the backend.' },
}, ['hostname', 'protocol', 'backend']);

export const routeStatusSchema: JsonSchema = object('What the platform observed and did.', {
  observedGeneration: { type: 'integer', description: 'The generation last reconciled.', minimum: 0 },
  conditions,
  address: string('Where clients connect, e.g. db.acme.example:443.'),
  certificate: object('The serving certificate.', { notAfter: string('Expiry.', { format: 'date-time' }) }, ['notAfter']),
});

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  priority?: number;
}

/** An `apiextensions.k8s.io/v1` CustomResourceDefinition as a plain object. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; plural: string; singular: string; listKind: string; shortNames?: string[]; categories: string[] };
    scope: 'Cluster' | 'Namespaced';
    versions: Array<{
      name: string;
      served: true;
      storage: true;
      schema: { openAPIV3Schema: JsonSchema & { properties: Record<string, JsonSchema> } };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }>;
  };
}

function crd(input: {
  kind: string; plural: string; scope: 'Cluster' | 'Namespaced'; shortNames: string[];
  description: string; spec: JsonSchema; status: JsonSchema; columns: PrinterColumn[]; nameSchema: JsonSchema;
}): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${input.plural}.${apiGroup}`, labels: { 'app.kubernetes.io/managed-by': 'landlord', 'app.kubernetes.io/part-of': 'landlord' } },
    spec: {
      group: apiGroup,
      names: {
        kind: input.kind, plural: input.plural, singular: input.kind.toLowerCase(), listKind: `${input.kind}List`,
        shortNames: input.shortNames, categories: ['landlord'],
      },
      scope: input.scope,
      versions: [{
        name: apiVersionName,
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: input.description,
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object', properties: { name: input.nameSchema } },
              spec: input.spec,
              status: input.status,
            },
            required: ['spec'],
          },
        },
        subresources: { status: {} },
        additionalPrinterColumns: [
          ...input.columns,
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      }],
    },
  };
}

export const tenantCrd: CustomResourceDefinition = crd({
  kind: tenantKind, plural: tenantPlural, scope: 'Cluster', shortNames: ['tn'],
  description: 'A customer of the platform: namespaces, owners, quotas, network isolation and a certificate authority.',
  spec: tenantSpecSchema, status: tenantStatusSchema,
  nameSchema: { type: 'string', pattern: dnsLabelPattern, maxLength: tenantNameMaxLength },
  columns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Tier', type: 'string', jsonPath: '.spec.tier', priority: 1 },
    { name: 'Domains', type: 'string', jsonPath: '.spec.domains' },
    { name: 'Namespaces', type: 'string', jsonPath: '.status.namespaces', priority: 1 },
  ],
});

export const routeCrd: CustomResourceDefinition = crd({
  kind: routeKind, plural: routePlural, scope: 'Namespaced', shortNames: ['lr'],
  description: 'One hostname of a tenant service on the edge router.',
  spec: routeSpecSchema, status: routeStatusSchema,
  nameSchema: { type: 'string', pattern: dnsLabelPattern, maxLength: 63 },
  columns: [
    { name: 'Hostname', type: 'string', jsonPath: '.spec.hostname' },
    { name: 'Protocol', type: 'string', jsonPath: '.spec.protocol' },
    { name: 'Service', type: 'string', jsonPath: '.spec.backend.service' },
    { name: 'Port', type: 'integer', jsonPath: '.spec.backend.port' },
  ],
});

export const customResourceDefinitions: readonly CustomResourceDefinition[] = [tenantCrd, routeCrd];
