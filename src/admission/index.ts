/**
 * landlord's admission webhooks: restricted pod security, tenant guards and restricted defaults
 * for tenant namespaces. Pure decisions (`validate`, `mutate`) and the HTTPS shell that serves
 * them (`buildWebhookServer`). See docs/admission.md.
 */
export { buildWebhookServer, defaultMaxBodyBytes, type WebhookServer, type WebhookServerDeps } from './server.ts';
export { webhookConfigurations, webhookManifest, webhookService, type WebhookClient, type WebhookConfigurationOptions, type WebhookConfigurations } from './configurations.ts';
export { mutate, validate, type ValidationContext } from './review.ts';
export { kubeTenantFacts, type MutationNeeds, type TenantFacts, type TenantFactsOptions } from './gather.ts';
export { defaultSidecarSettings, sidecarSettings, type SidecarSettings } from './sidecar-injection.ts';
export { carriesHostnames, hostnameViolations, type HostnameFacts } from './hostnames.ts';
export { podMutators, type MutationContext, type PodMutator } from './defaults.ts';
export { restrictedControls, restrictedViolations, type PodSecurityControl } from './pod-security.ts';
export { tenantGuards, type TenantGuard } from './tenant-guards.ts';
export { cleanupControllers, platformGroups } from './exemptions.ts';
export { denialMessage, type AdmissionRequest, type Decision, type JsonPatchOperation, type KubeObject, type Violation } from './review-types.ts';
