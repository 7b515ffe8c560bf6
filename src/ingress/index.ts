/**
 * The per-tenant HTTP ingress (level 2 of the two-level routing): terminates TLS with the tenant's
 * own certificates only, routes by host and path to the tenant's services, and never serves a
 * host that is not the tenant's. Public API of src/ingress; see docs/ingress.md.
 */
export { buildIngress, defaultIngressLimits, defaultIngressTimeouts, type Ingress, type IngressConfiguration, type IngressDependencies, type IngressLimits, type IngressTimeouts } from './ingress.ts';
export { IngressTable, normalizeHost, type Backend, type IngressRoute, type PathType, type RouteMatch } from './table.ts';
export { buildIngressTable, resolveServiceBackend, translateTenantRoutes, type CertificateSecretRef, type KubeIngress, type KubeService, type TableResult, type TenantRouteSources, type TenantTranslation, type TranslateIssue } from './translate.ts';
export { buildCertificateSet, CertificateSet, certificatePemsFromSecrets, readCertificateDirectories, type CertificatePem, type KubeSecret, type ServerCertificate } from './certificates.ts';
export { parseIngressConfig, type ConfigParseResult, type IngressFileConfig } from './config-file.ts';
export { loadIngressConfiguration, serveIngress, serveKubernetesIngress, type IngressServeOptions, type KubernetesIngressOptions, type RunningIngress } from './serve.ts';
export type { AccessLogEntry } from './proxy.ts';
export { defaultIngressClassName, startKubernetesSource, tenantNamespaceResources, type KubernetesSource, type KubernetesSourceOptions, type SourceBuild } from './kubernetes-source.ts';
