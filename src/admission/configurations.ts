/**
 * The webhook configurations that make the API server call landlord, used by `deploy/webhooks/`
 * (scripts/generate.ts) and by the tests, so both register exactly the same scope.
 *
 * Narrow by design (docs/admission.md): every webhook selects tenant namespaces by the
 * `landlord.dev/tenant` label (or, for namespace objects, namespaces carrying it before or after
 * the change), so `kube-system`, `landlord-system` and every other namespace never wait on
 * landlord. Inside that scope the policy is `Fail`: a tenant request nobody judged is refused.
 */
import { labels, managedByValue } from '../api/meta.ts';
import { stringify } from 'yaml';
import { LandlordError } from '../shared/errors.ts';

export interface WebhookClient {
  /** `https://127.0.0.1:8443` for a webhook outside the cluster (the local cluster, tests). */
  readonly url?: string;
  /** The in-cluster Service, e.g. `{ namespace: 'landlord-system', name: 'landlord-webhook' }`. */
  readonly service?: { readonly namespace: string; readonly name: string; readonly port?: number };
  /** The PEM CA that signed the serving certificate. */
  readonly caPem: string;
}

export interface WebhookConfigurationOptions {
  readonly client: WebhookClient;
  /** Object name of both configurations. Default `landlord-admission`. */
  readonly name?: string;
  /** Only these tenants (a staged rollout, or one test among others on a shared cluster). Default: all. */
  readonly tenants?: readonly string[];
  readonly timeoutSeconds?: number;
}

interface Rule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
  scope?: string;
}

export interface WebhookConfigurations {
  readonly mutating: Record<string, unknown>;
  readonly validating: Record<string, unknown>;
}

const workloadRules = (operations: string[]): Rule[] => [
  { apiGroups: ['apps'], apiVersions: ['*'], operations, resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'] },
  { apiGroups: ['batch'], apiVersions: ['*'], operations, resources: ['jobs', 'cronjobs'] },
  { apiGroups: [''], apiVersions: ['v1'], operations, resources: ['replicationcontrollers'] },
];

export function webhookConfigurations(options: WebhookConfigurationOptions): WebhookConfigurations {
  const name = options.name ?? 'landlord-admission';
  const tenantSelector = {
    matchExpressions: [options.tenants ? { key: labels.tenant, operator: 'In', values: [...options.tenants] } : { key: labels.tenant, operator: 'Exists' }],
  };
  const common = (path: string) => ({
    clientConfig: clientConfig(options.client, path),
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    timeoutSeconds: options.timeoutSeconds ?? 5,
  });
  return {
    mutating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name, labels: { [labels.managedBy]: managedByValue } },
      webhooks: [{
        name: 'pods.mutate.landlord.dev',
        ...common('/mutate'),
        // Never: the in-tree plugins re-run after the sidecar is injected (ServiceAccount mounts
        // its token into it) and, with IfNeeded, that alone made the API server call this webhook a
        // second time per pod, for no change: a third of all admission calls. A container added by
        // another mutating webhook after this one gets no defaults; validation then refuses it with
        // the rule to fix, so nothing unsafe is admitted (docs/admission.md).
        reinvocationPolicy: 'Never',
        namespaceSelector: tenantSelector,
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }, ...workloadRules(['CREATE', 'UPDATE'])],
      }],
    },
    validating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name, labels: { [labels.managedBy]: managedByValue } },
      webhooks: [
        {
          name: 'workloads.validate.landlord.dev',
          ...common('/validate'),
          namespaceSelector: tenantSelector,
          rules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'pods/ephemeralcontainers', 'services'] },
            ...workloadRules(['CREATE', 'UPDATE']),
          ],
        },
        {
          name: 'hostnames.validate.landlord.dev',
          ...common('/validate'),
          namespaceSelector: tenantSelector,
          rules: [
            { apiGroups: ['landlord.dev'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['routes'] },
            { apiGroups: ['networking.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['ingresses'] },
          ],
        },
        {
          // Platform-managed objects: matched when the old or the new object carries the label.
          name: 'managed-objects.validate.landlord.dev',
          ...common('/validate'),
          namespaceSelector: tenantSelector,
          objectSelector: { matchLabels: { [labels.managedBy]: managedByValue } },
          rules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*'], scope: 'Namespaced' }],
        },
        {
          // A namespace is matched by its own labels (old or new), not by a namespaceSelector,
          // which reads only the new labels and so would miss a tenant removing them.
          name: 'namespaces.validate.landlord.dev',
          ...common('/validate'),
          objectSelector: tenantSelector,
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['namespaces'] }],
        },
      ],
    },
  };
}

function clientConfig(client: WebhookClient, path: string): Record<string, unknown> {
  const caBundle = Buffer.from(client.caPem).toString('base64');
  if (client.url !== undefined) return { url: `${client.url.replace(/\/$/, '')}${path}`, caBundle };
  if (client.service !== undefined) return { service: { ...client.service, port: client.service.port ?? 443, path }, caBundle };
  throw new LandlordError('LL_ADMISSION_CLIENT_MISSING', 'a webhook client needs a url or a service', {
    hint: 'pass the URL the API server can reach the webhook at, or the Service in front of it',
  });
}

/** The in-cluster webhook Service the deploy manifests point at. */
export const webhookService = { namespace: 'landlord-system', name: 'landlord-webhook', port: 443 } as const;

export const generatedManifestHeader = `# Generated by scripts/generate.ts from src/admission/configurations.ts. Do not edit: change the source and run \`npm run generate\`.
# caBundle is empty here: the installer sets it to the CA that signed the webhook's serving certificate.
`;

/** deploy/webhooks/landlord-admission.yaml: both configurations for the in-cluster Service. */
export function webhookManifest(): string {
  const { mutating, validating } = webhookConfigurations({ client: { service: webhookService, caPem: '' } });
  return `${generatedManifestHeader}---\n${stringify(mutating)}---\n${stringify(validating)}`;
}
