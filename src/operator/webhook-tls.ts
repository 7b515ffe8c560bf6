/**
 * The admission webhook's serving certificate (pure decisions; platform.ts does the I/O).
 *
 * Secret `landlord-system/landlord-webhook-tls` (`kubernetes.io/tls`: `tls.crt`, `tls.key`,
 * `ca.crt` = the platform root) for the Service names of `landlord-webhook`, signed by the
 * platform root CA and renewed at two thirds of its lifetime; and the `caBundle` of every webhook
 * in the `landlord-admission` configurations, kept equal to the root certificate so the API server
 * trusts whatever certificate the webhook currently serves.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { labels, managedByValue, platformNamespace } from '../api/meta.ts';
import { bundleFromSecret, shouldRenew, tlsSecret, type PemBundle } from '../pki/index.ts';
import type { KubeObject } from './runtime/kube.ts';

/** Both webhook configurations (mutating and validating) carry this name (deploy/webhooks). */
export const webhookConfigurationName = 'landlord-admission';
export const webhookServingSecretName = 'landlord-webhook-tls';
export const webhookServiceName = 'landlord-webhook';
export const webhookDnsNames: readonly string[] = [
  `${webhookServiceName}.${platformNamespace}.svc`,
  `${webhookServiceName}.${platformNamespace}.svc.cluster.local`,
];

/** The operator's extra rules: the two configurations by name (list and watch need a metadata.name field selector). */
export const webhookTlsRules = [
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
    resourceNames: [webhookConfigurationName],
    verbs: ['get', 'list', 'watch', 'patch'],
  },
];

export type ServingDecision =
  | { readonly issue: false; readonly renewAt: Date }
  | { readonly issue: true; readonly reason: 'missing' | 'unreadable' | 'issuer-changed' | 'names-changed' | 'renewal-due' };

/** The bundle a Secret holds, or undefined when it is missing or cannot be read. */
export function bundleOf(secret: KubeObject | undefined): PemBundle | undefined {
  if (secret === undefined) return undefined;
  try {
    return bundleFromSecret(secret);
  } catch {
    return undefined;
  }
}

/** Keep the serving certificate only while it parses, matches its key, is the root's, names exactly the webhook Service and is not due. */
export function webhookServingDecision(bundle: PemBundle | undefined, rootPem: string, now: Date): ServingDecision {
  if (bundle === undefined) return { issue: true, reason: 'missing' };
  let leaf: X509Certificate;
  let root: X509Certificate;
  try {
    leaf = new X509Certificate(bundle.certificate);
    root = new X509Certificate(rootPem);
    if (bundle.privateKey === undefined || !leaf.checkPrivateKey(createPrivateKey(bundle.privateKey))) return { issue: true, reason: 'unreadable' };
  } catch {
    return { issue: true, reason: 'unreadable' };
  }
  if (!leaf.checkIssued(root) || !leaf.verify(root.publicKey) || bundle.ca !== rootPem) return { issue: true, reason: 'issuer-changed' };
  if (leaf.subjectAltName !== webhookDnsNames.map((name) => `DNS:${name}`).join(', ')) return { issue: true, reason: 'names-changed' };
  const renewal = shouldRenew({ notBefore: leaf.validFromDate, notAfter: leaf.validToDate }, now);
  return renewal.renew ? { issue: true, reason: 'renewal-due' } : { issue: false, renewAt: renewal.renewAt };
}

export function desiredWebhookSecret(bundle: PemBundle): KubeObject {
  const metadata = {
    name: webhookServingSecretName, namespace: platformNamespace,
    labels: { [labels.managedBy]: managedByValue, 'app.kubernetes.io/part-of': 'landlord', 'app.kubernetes.io/component': 'webhook' },
  };
  return { ...tlsSecret(metadata, { certificate: bundle.certificate, ca: bundle.ca, ...(bundle.privateKey ? { privateKey: bundle.privateKey } : {}) }), metadata };
}

interface Webhook {
  clientConfig?: { caBundle?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/**
 * The JSON merge patch that sets every webhook's `caBundle` to `rootPem`, or undefined when they
 * all have it. Lists are replaced whole by a merge patch, so the patch carries every webhook as
 * observed and the observed resourceVersion: a configuration changed meanwhile fails with 409
 * rather than losing that change.
 */
export function caBundlePatch(configuration: KubeObject, rootPem: string): { metadata: { resourceVersion: string }; webhooks: Webhook[] } | undefined {
  const caBundle = Buffer.from(rootPem).toString('base64');
  const webhooks = (Array.isArray(configuration.webhooks) ? configuration.webhooks : []) as Webhook[];
  if (webhooks.every((webhook) => webhook.clientConfig?.caBundle === caBundle)) return undefined;
  return {
    metadata: { resourceVersion: configuration.metadata.resourceVersion ?? '' },
    webhooks: webhooks.map((webhook) => ({ ...webhook, clientConfig: { ...webhook.clientConfig, caBundle } })),
  };
}
