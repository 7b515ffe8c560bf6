/**
 * The edge router (level 1): reads SNI (and PostgreSQL's SSLRequest), never terminates tenant TLS,
 * splices TCP to the backend the route table names. Public API of src/router.
 */
export { buildRouter, defaultTimeouts, type Router, type RouterDependencies } from './router.ts';
export { createClientHelloParser, defaultMaxHelloBytes, type ClientHello, type ClientHelloParser, type HelloStep, type HelloErrorReason } from './clienthello/parser.ts';
export { normalizeServerName, type NormalizedName } from './clienthello/names.ts';
export type { ConfigIssue, DefaultAction, Endpoint, HttpRouteSpec, ProxyProtocolMode, RouteProtocol, RouteSpec, RoutingSnapshot, TenantSpec } from './config/ir.ts';
export { formatIssues } from './config/ir.ts';
export { RouteTable, type Route, type RouteDecision, type TenantLimits } from './config/route-table.ts';
export { translate, type TranslateResult } from './config/translate.ts';
export { parseRoutesFile, parseEndpoint, type RoutesFileResult } from './config/routes-file.ts';
export { createFileProvider, loadRoutesFile, type FileProviderOptions, type RoutingProvider } from './config/file-provider.ts';
export { tcpDialer, type Dialer } from './proxy/dial.ts';
export type { AccessLogEntry, ProxyTimeouts } from './proxy/connection.ts';
export { serveRouter, parseListenAddress, type ListenAddress, type RoutingSource, type RunningRouter, type ServeOptions } from './serve.ts';
export { createKubernetesProvider, type KubernetesProvider, type KubernetesProviderOptions, type KubernetesProviderStats } from './config/kubernetes-provider.ts';
