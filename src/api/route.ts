/**
 * `Route` (landlord.dev/v1alpha1, namespaced): one hostname of a tenant's service on the edge.
 */
import { createHash } from 'node:crypto';
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

/**
 * A client certificate's identity as the sidecar compares it, exactly: a SPIFFE ID URI SAN
 * (`spiffe://acme.landlord.local/ns/shop/sa/api`, the form of landlord's workload certificates)
 * or a DNS SAN.
 */
export type ClientIdentity = string;

export interface RouteSpec {
  /** A name inside one of the tenant's domains; `*.x.acme.example` matches one label. */
  hostname: string;
  protocol: RouteProtocol;
  backend: { service: string; port: number };
  /**
   * `secretName`: a `kubernetes.io/tls` Secret in the Route's namespace to serve instead of one issued from the tenant CA.
   * `allowedClients`: with `clientAuthentication: required`, the only client identities admitted (see {@link ClientIdentity});
   * unset, every workload of the tenant CA is.
   */
  tls?: { mode?: TlsMode; clientAuthentication?: ClientAuthentication; secretName?: string; allowedClients?: ClientIdentity[] };
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

/**
 * How a Route is carried end to end (docs/adr/0004-routes-end-to-end.md). These names are the
 * contract between the operator (which creates the objects), the admission webhook (which injects
 * sidecars that match them) and the router and ingress (which read them).
 */

/** Where TLS ends when the Route does not say: HTTP at the tenant's ingress, everything else in a sidecar. */
export function effectiveTlsMode(spec: Pick<RouteSpec, 'protocol' | 'tls'>): TlsMode {
  return spec.tls?.mode ?? (spec.protocol === 'http' ? 'ingress' : 'sidecar');
}

/** Route names must be DNS labels this long at most, so that the derived names below stay valid. */
export const routeNameMaxLength = 48;

/** The Secret (`tls.crt` with chain, `tls.key`, `ca.crt`) the operator issues for a Route from its tenant CA. */
export function routeCertificateSecretName(route: string): string {
  return `landlord-tls-${route}`;
}

/**
 * The headless Service the operator creates for a `sidecar` Route: the backend Service's selector,
 * one port named {@link routeServicePortName} whose targetPort is {@link sidecarPortName}. Only pods
 * that carry the injected sidecar resolve that port, so the router never reaches a pod without it.
 */
export function routeSidecarServiceName(route: string): string {
  return `landlord-route-${route}`;
}

/** The port name the router reads on the sidecar Service and on the tenant ingress Service. */
export const routeServicePortName = 'tls';

/**
 * The container port name of the sidecar injected for a Route: `ll-` and 10 hex digits of the
 * SHA-256 of the Route's name (container port names are at most 15 characters).
 */
export function sidecarPortName(route: string): string {
  return `ll-${createHash('sha256').update(route).digest('hex').slice(0, 10)}`;
}

/** The tenant's ingress (Deployment, Service, ServiceAccount) in its first namespace. */
export const tenantIngressName = 'landlord-ingress';

/** The label naming the Route an operator-created object belongs to. */
export const routeLabel = 'landlord.dev/route';
