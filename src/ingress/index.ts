/**
 * The per-tenant HTTP ingress (level 2 of the two-level routing): terminates TLS with the tenant's
 * own certificates only, routes by host and path to the tenant's services, and never serves a
 * host that is not the tenant's. Public API of src/ingress; see docs/ingress.md.
 */
export { buildIngress, defaultIngressLimits, defaultIngressTimeouts, type Ingress, type IngressConfiguration, type IngressDependencies, type IngressLimits, type IngressTimeouts } from './ingress.ts';
export { IngressTable, normalizeHost, type Backend, type IngressRoute, type PathType, type RouteMatch } from './table.ts';
export { buildIngressTable, translateTenantRoutes, type KubeIngress, type TableResult, type TenantRouteSources, type TranslateIssue } from './translate.ts';
export { buildCertificateSet, CertificateSet, readCertificateDirectories, type CertificatePem, type ServerCertificate } from './certificates.ts';
export { parseIngressConfig, type ConfigParseResult, type IngressFileConfig } from './config-file.ts';
export { loadIngressConfiguration, serveIngress, type IngressServeOptions, type RunningIngress } from './serve.ts';
export type { AccessLogEntry } from './proxy.ts';
