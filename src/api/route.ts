/**
 * `Route` (landlord.dev/v1alpha1, namespaced): one hostname of a tenant's service on the edge.
 */
import type { Condition, ObjectMeta } from './meta.ts';

export const routeKind = 'Route';
export const routePlural = 'routes';

export interface Route {
  apiVersion: 'landlord.dev/v1alpha1';
  kind: 'Route';
  metadata: ObjectMeta;
  spec: RouteSpec;
  status?: RouteStatus;
}

/** `tls`: any TLS-from-the-first-byte protocol (AMQPS, HTTPS passthrough, …). `postgres`: SSLRequest first. */
export type RouteProtocol = 'tls' | 'http' | 'postgres';

/** Where TLS ends: the injected sidecar, the tenant's ingress (http routes), or the app itself. */
export type TlsMode = 'sidecar' | 'ingress' | 'passthrough';

export type ClientAuthentication = 'none' | 'optional' | 'required';

export interface RouteSpec {
  /** A name inside one of the tenant's domains; `*.x.acme.example` matches one label. */
  hostname: string;
  protocol: RouteProtocol;
  backend: { service: string; port: number };
  tls?: { mode?: TlsMode; clientAuthentication?: ClientAuthentication };
  /** Send PROXY protocol v2 to the backend so it learns the client's address. */
  proxyProtocol?: boolean;
}

export interface RouteStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** Where clients connect, e.g. `db.acme.example:443`. */
  address?: string;
  certificate?: { notAfter: string };
}
