/**
 * The TLS sidecar (level 2 of landlord's routing): terminates TLS or mutual TLS in front of a
 * tenant's app with the tenant's own keys (server mode), or originates mutual TLS for a local
 * plaintext client (client mode, `landlord connect`). Contract with admission: docs/sidecar.md.
 */
export { credentialFileNames, credentialsFromFiles, readConnectCredentials, readCredentials, type CredentialFiles, type Credentials } from './credentials.ts';
export { createSidecarMetrics, type SidecarMetrics } from './metrics.ts';
export { authorizePeer, chainErrorReason, type Authorization, type ClientAuthentication, type DenialReason, type PeerFacts, type PeerPolicy } from './policy.ts';
export { createPreambleParser, type PreambleStep } from './preamble.ts';
export { reloadDecision, type ReloadDecision } from './reload.ts';
export { buildSidecarServer, handshakeFailureReason, tcpDialer, type AuthorizationSettings, type Dialer, type Endpoint, type SidecarServer, type SidecarServerOptions } from './server.ts';
export { serveSidecar, type ModeConfig, type RunningSidecar, type SidecarConfig } from './service.ts';
export { buildStatusServer, probeBackend, type BackendHealth } from './status.ts';
export { buildTunnel, checkIdentity, type Tunnel, type TunnelCredentials, type TunnelOptions } from './tunnel.ts';
