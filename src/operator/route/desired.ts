/**
 * The objects landlord keeps for one Route, as plain objects (pure, deterministic, complete: every
 * field landlord owns is set, since server-side apply removes what an intent no longer contains).
 *
 * - Secret `landlord-tls-<route>` (`kubernetes.io/tls`: `tls.crt` with chain, `tls.key`, `ca.crt`).
 * - For `sidecar` Routes, the headless Service `landlord-route-<route>`: the backend Service's
 *   selector and one port `tls` (443) whose targetPort is the *name* of the injected sidecar's
 *   port, so only pods carrying the sidecar become its endpoints.
 *
 * Both are owned by the Route (controller ownerReference: deleting the Route deletes them) and
 * labelled managed-by, tenant and `landlord.dev/route`.
 */
import { labels, managedByValue } from '../../api/meta.ts';
import {
  effectiveTlsMode, routeCertificateSecretName, routeLabel, routeServicePortName, routeSidecarServiceName, sidecarPortName, type Route,
} from '../../api/route.ts';
import { tlsSecret, type PemBundle } from '../../pki/index.ts';
import type { KubeObject, OwnerReference } from '../runtime/kube.ts';

/** The port the sidecar Service exposes (and the router dials). */
export const sidecarServicePort = 443;

export function routeObjectLabels(route: Route, tenant: string): Record<string, string> {
  return { [labels.managedBy]: managedByValue, [labels.tenant]: tenant, [routeLabel]: route.metadata.name };
}

export function routeOwnerReference(route: Route): OwnerReference {
  return { apiVersion: route.apiVersion, kind: route.kind, name: route.metadata.name, uid: route.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function desiredCertificateSecret(route: Route, tenant: string, bundle: PemBundle): KubeObject {
  const metadata = { name: routeCertificateSecretName(route.metadata.name), namespace: route.metadata.namespace ?? '', labels: routeObjectLabels(route, tenant) };
  // A leaf bundle has no CRL; `ca.crl` would only be stale data here.
  const secret = tlsSecret(metadata, { certificate: bundle.certificate, ca: bundle.ca, ...(bundle.privateKey ? { privateKey: bundle.privateKey } : {}) });
  return { ...secret, metadata: { ...metadata, ownerReferences: [routeOwnerReference(route)] } };
}

/** The part of a Service this controller reads. */
export interface ServiceLike {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: { readonly selector?: Readonly<Record<string, string>>; readonly type?: string };
}

export type SidecarPlan =
  /** Not a sidecar Route: no Service, and one landlord created earlier is deleted. */
  | { readonly kind: 'none' }
  | { readonly kind: 'service'; readonly service: KubeObject }
  /** The backend cannot be mirrored: no Service (one created earlier is deleted), and the condition says why. */
  | { readonly kind: 'blocked'; readonly reason: 'BackendServiceNotFound' | 'BackendServiceHasNoSelector'; readonly message: string };

export function sidecarPlan(route: Route, tenant: string, backend: ServiceLike | undefined): SidecarPlan {
  if (effectiveTlsMode(route.spec) !== 'sidecar') return { kind: 'none' };
  const namespace = route.metadata.namespace ?? '';
  const backendName = route.spec.backend.service;
  if (backend === undefined) {
    return { kind: 'blocked', reason: 'BackendServiceNotFound', message: `Service ${namespace}/${backendName} does not exist; create it or fix spec.backend.service` };
  }
  const selector = backend.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) {
    return {
      kind: 'blocked', reason: 'BackendServiceHasNoSelector',
      message: `Service ${namespace}/${backendName} has no pod selector, so the pods that need a sidecar cannot be found; give it a selector`,
    };
  }
  return { kind: 'service', service: desiredSidecarService(route, tenant, selector) };
}

export function desiredSidecarService(route: Route, tenant: string, selector: Readonly<Record<string, string>>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: routeSidecarServiceName(route.metadata.name),
      namespace: route.metadata.namespace ?? '',
      labels: routeObjectLabels(route, tenant),
      ownerReferences: [routeOwnerReference(route)],
    },
    spec: {
      clusterIP: 'None',
      selector: Object.fromEntries(Object.entries(selector).sort(([a], [b]) => a.localeCompare(b))),
      ports: [{ name: routeServicePortName, protocol: 'TCP', port: sidecarServicePort, targetPort: sidecarPortName(route.metadata.name) }],
    },
  };
}
