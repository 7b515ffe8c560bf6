/**
 * TLS sidecar injection (docs/adr/0004-routes-end-to-end.md, docs/sidecar.md "Contract with
 * admission"): at pod creation, one `landlord sidecar server` container per `sidecar`-mode Route
 * of the pod's namespace whose backend Service selects the pod, in Route-name order.
 *
 * Pods only, never workload templates: the sidecars depend on the Routes at the moment a pod
 * starts, and a template rewritten by the webhook would fight `kubectl apply` of the workload.
 * A Route created after its pods reaches them after a restart (the router's Ready condition says so).
 *
 * Idempotent: a container `landlord-sidecar-<i>` (or volume `ll-tls-<i>`) that is exactly what
 * this injector would add is kept, so a reinvoked webhook or a pod re-created from a stored one
 * carries each sidecar once. Any other container or volume under those reserved names is refused,
 * as is a Route the sidecar cannot serve (client authentication `optional`, allowed clients
 * without client authentication `required`, a backend port that does not resolve on the pod).
 */
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { effectiveTlsMode, routeCertificateSecretName, sidecarPortName, type Route } from '../api/route.ts';
import { trustBundleName } from '../pki/index.ts';
import { LandlordError } from '../shared/errors.ts';
import type { Violation } from './review-types.ts';
import { asRecord, type Container, type PodSpecSite } from './workloads.ts';

export interface SidecarSettings {
  /** The landlord image; its entrypoint is `node /app/src/cli/main.ts`. */
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** The edge router's source CIDR: the only peers whose PROXY v2 header the sidecar reads. */
  readonly routerSourceCidr: string;
}

/** The local cluster's values: the image it imports, and the router on the node IP (ADR 0004). */
export const defaultSidecarSettings: SidecarSettings = { image: 'landlord.dev/landlord:dev', imagePullPolicy: 'IfNotPresent', routerSourceCidr: '10.244.0.1/32' };

const pullPolicies = ['Always', 'IfNotPresent', 'Never'] as const;

/** Settings from the webhook's flags, checked: a pull policy Kubernetes knows, a CIDR `address/prefix`. */
export function sidecarSettings(input: { image: string; imagePullPolicy: string; routerSourceCidr: string }): SidecarSettings {
  const policy = pullPolicies.find((p) => p === input.imagePullPolicy);
  if (policy === undefined) {
    throw new LandlordError('LL_ADMISSION_SIDECAR_SETTINGS_INVALID', `--sidecar-image-pull-policy ${JSON.stringify(input.imagePullPolicy)} is not a pull policy`, { hint: `use one of ${pullPolicies.join(', ')}` });
  }
  const [address = '', prefix = '', ...rest] = input.routerSourceCidr.split('/');
  const family = isIP(address);
  const bits = Number(prefix);
  if (family === 0 || rest.length > 0 || !/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
    throw new LandlordError('LL_ADMISSION_SIDECAR_SETTINGS_INVALID', `--router-source-cidr ${JSON.stringify(input.routerSourceCidr)} is not a CIDR`, { hint: 'e.g. --router-source-cidr 10.244.0.1/32 (the router pods\' addresses)' });
  }
  if (input.image.trim() === '') throw new LandlordError('LL_ADMISSION_SIDECAR_SETTINGS_INVALID', '--sidecar-image is empty', { hint: `e.g. --sidecar-image ${defaultSidecarSettings.image}` });
  return { image: input.image, imagePullPolicy: policy, routerSourceCidr: input.routerSourceCidr };
}

/** The parts of a Service the injector reads. */
export interface ServiceFact {
  readonly name: string;
  /** Empty or absent: the Service selects no pod. */
  readonly selector?: Readonly<Record<string, string>> | undefined;
  readonly ports: ReadonlyArray<{ readonly port?: number | undefined; readonly targetPort?: number | string | undefined }>;
}

/** The Routes and Services of the pod's namespace, read fresh for every pod create. */
export interface NamespaceRoutes {
  readonly routes: readonly Pick<Route, 'metadata' | 'spec'>[];
  readonly services: readonly ServiceFact[];
}

export const sidecarContainerPrefix = 'landlord-sidecar-';
const volumePrefix = 'll-tls-';
const listenBase = 8443;
const statusBase = 9901;
const certificateKeys = ['tls.crt', 'tls.key'];
const trustBundleKeys = ['ca.crt', 'root.crt', 'ca.crl', 'root.crl'];

interface Sidecar {
  readonly container: Container;
  readonly volume: { name: string; projected: { sources: unknown[] } };
}

/**
 * Edits the Pod in `site` to carry the sidecars of the Routes that select it, or returns why it
 * cannot be admitted. Does nothing for workload templates or without gathered Routes.
 */
export function injectTlsSidecars(site: PodSpecSite, routes: NamespaceRoutes | undefined, settings: SidecarSettings = defaultSidecarSettings): Violation[] {
  if (site.kind !== 'Pod' || routes === undefined) return [];
  const planned = selectingRoutes(site.labels, routes).map((selected, index) => sidecarFor(site, selected, index, settings));
  const violations = planned.flatMap((plan) => ('violations' in plan ? plan.violations : []));
  const sidecars = planned.flatMap((plan) => ('container' in plan ? [plan] : []));
  violations.push(...reservedNameViolations(site, sidecars), ...portConflicts(site, planned.length));
  if (violations.length > 0) return violations;
  for (const { container, volume } of sidecars) {
    if (!(site.spec.containers ?? []).some((c) => c.name === container.name)) site.spec.containers = [...(site.spec.containers ?? []), container];
    if (!(site.spec.volumes ?? []).some((v) => v.name === volume.name)) site.spec.volumes = [...(site.spec.volumes ?? []), volume];
  }
  return [];
}

/** True for a container this injector added: the reserved name and the configured image. */
export function isInjectedSidecar(container: Container, settings: SidecarSettings = defaultSidecarSettings): boolean {
  return typeof container.name === 'string' && container.name.startsWith(sidecarContainerPrefix) && container.image === settings.image;
}

interface SelectedRoute {
  readonly route: Pick<Route, 'metadata' | 'spec'>;
  readonly service: ServiceFact;
}

/** `sidecar`-mode Routes whose backend Service's (non-empty) selector matches the pod's labels, by name. */
function selectingRoutes(podLabels: Readonly<Record<string, string>>, facts: NamespaceRoutes): SelectedRoute[] {
  const selects = (service: ServiceFact): boolean => {
    const selector = Object.entries(service.selector ?? {});
    return selector.length > 0 && selector.every(([key, value]) => podLabels[key] === value);
  };
  return facts.routes
    .filter((route) => effectiveTlsMode(route.spec) === 'sidecar')
    .flatMap((route) => {
      const service = facts.services.find((s) => s.name === route.spec.backend.service);
      return service !== undefined && selects(service) ? [{ route, service }] : [];
    })
    .sort((a, b) => nameOf(a.route).localeCompare(nameOf(b.route)));
}

const nameOf = (route: Pick<Route, 'metadata'>): string => route.metadata.name ?? '';

function sidecarFor(site: PodSpecSite, { route, service }: SelectedRoute, index: number, settings: SidecarSettings): Sidecar | { violations: Violation[] } {
  const name = nameOf(route);
  const refuse = (rule: string, message: string) => ({ violations: [{ rule: `sidecar/${rule}`, path: `Route ${name}`, message }] });
  const clientAuth = route.spec.tls?.clientAuthentication ?? 'none';
  if (clientAuth === 'optional') {
    return refuse('clientAuthentication', `Route ${name} selects this pod with spec.tls.clientAuthentication optional, which the TLS sidecar does not support: set it to none or required on the Route`);
  }
  const allowedClients = route.spec.tls?.allowedClients ?? [];
  if (allowedClients.length > 0 && clientAuth !== 'required') {
    return refuse('allowedClients', `Route ${name} selects this pod and lists spec.tls.allowedClients, but with clientAuthentication ${clientAuth} the sidecar asks no client for a certificate: set clientAuthentication to required on the Route`);
  }
  const appPort = resolveAppPort(site, service, route.spec.backend.port);
  if (typeof appPort === 'string') return refuse('backendPort', `Route ${name}: ${appPort}`);
  const certDir = `/var/run/landlord/tls-${index}`;
  const volumeName = `${volumePrefix}${index}`;
  const args = [
    'sidecar', 'server',
    '--listen', `0.0.0.0:${listenBase + index}`,
    '--app', `127.0.0.1:${appPort}`,
    '--cert-dir', certDir,
    '--status', `0.0.0.0:${statusBase + index}`,
    '--client-auth', clientAuth,
    ...(clientAuth === 'required' ? clientIdentityArgs(allowedClients) : []),
    '--trusted-proxy', settings.routerSourceCidr,
    ...(route.spec.protocol === 'postgres' ? ['--postgres'] : []),
  ];
  const container: Container = {
    name: `${sidecarContainerPrefix}${index}`,
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy,
    args,
    ports: [
      { name: sidecarPortName(name), containerPort: listenBase + index, protocol: 'TCP' },
      { name: `ll-status-${index}`, containerPort: statusBase + index, protocol: 'TCP' },
    ],
    readinessProbe: { httpGet: { path: '/_status', port: `ll-status-${index}` }, periodSeconds: 5 },
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
    securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    volumeMounts: [{ name: volumeName, mountPath: certDir, readOnly: true }],
  };
  const items = (keys: string[]) => keys.map((key) => ({ key, path: key }));
  const volume = {
    name: volumeName,
    projected: {
      sources: [
        { secret: { name: route.spec.tls?.secretName ?? routeCertificateSecretName(name), items: items(certificateKeys) } },
        { configMap: { name: trustBundleName, items: items(trustBundleKeys) } },
      ],
    },
  };
  return { container, volume };
}

/** The sidecar's allow-list: the Route's identities (SPIFFE IDs as URI SANs, the rest as DNS SANs), or the whole tenant CA when it names none. */
function clientIdentityArgs(allowedClients: readonly string[]): string[] {
  if (allowedClients.length === 0) return ['--allow-any-identity'];
  return allowedClients.flatMap((identity) => (identity.startsWith('spiffe://') ? ['--allow-uri', identity] : ['--allow-dns', identity]));
}

/**
 * The app's port for the Service port `port`: a numeric targetPort as is (unset means the port
 * itself), a named one looked up in the app containers' ports. A message when it does not resolve.
 */
function resolveAppPort(site: PodSpecSite, service: ServiceFact, port: number): number | string {
  const servicePort = service.ports.find((p) => p.port === port);
  if (servicePort === undefined) {
    return `spec.backend.port ${port} is not a port of Service ${service.name} (it has: ${service.ports.map((p) => p.port).join(', ') || 'none'}); fix the Route`;
  }
  const target = servicePort.targetPort ?? port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const found = appContainers(site).flatMap((c) => c.ports ?? []).find((p) => p.name === target);
  if (found?.containerPort === undefined) {
    return `Service ${service.name} port ${port} targets the port named ${JSON.stringify(target)}, which no container of this pod declares; name the app's containerPort ${JSON.stringify(target)} or give the Service a numeric targetPort`;
  }
  return found.containerPort;
}

/** The pod's own containers: everything but the injected sidecars. */
function appContainers(site: PodSpecSite): Container[] {
  return (site.spec.containers ?? []).filter((c) => !(typeof c.name === 'string' && c.name.startsWith(sidecarContainerPrefix)));
}

/** Reserved names are only the injector's: a container or volume there must be exactly the planned one. */
function reservedNameViolations(site: PodSpecSite, sidecars: readonly Sidecar[]): Violation[] {
  const violations: Violation[] = [];
  for (const list of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    (site.spec[list] ?? []).forEach((container, index) => {
      if (typeof container.name !== 'string' || !container.name.startsWith(sidecarContainerPrefix)) return;
      const planned = list === 'containers' ? sidecars.find((s) => s.container.name === container.name)?.container : undefined;
      if (planned !== undefined && container.image === planned.image && isDeepStrictEqual(container.args, planned.args)) return;
      violations.push({
        rule: 'sidecar/reservedNames',
        path: `${site.path}.${list}[${index}].name`,
        message: `${site.path}.${list}[${index}].name ${container.name} is reserved for the TLS sidecars landlord injects: rename the container (a pod copied from a running one must drop its injected sidecars)`,
      });
    });
  }
  (site.spec.volumes ?? []).forEach((volume, index) => {
    if (typeof volume.name !== 'string' || !volume.name.startsWith(volumePrefix)) return;
    const planned = sidecars.find((s) => s.volume.name === volume.name)?.volume;
    if (planned !== undefined && isDeepStrictEqual(asRecord(volume.projected)?.sources, planned.projected.sources)) return;
    violations.push({
      rule: 'sidecar/reservedNames',
      path: `${site.path}.volumes[${index}].name`,
      message: `${site.path}.volumes[${index}].name ${volume.name} is reserved for the TLS sidecars landlord injects: rename the volume`,
    });
  });
  return violations;
}

/** An app container declaring a port a sidecar will listen on would make the sidecar fail to start. */
function portConflicts(site: PodSpecSite, count: number): Violation[] {
  const taken = new Set(Array.from({ length: count }, (_, i) => [listenBase + i, statusBase + i]).flat());
  return (site.spec.containers ?? []).flatMap((container, index) => {
    if (typeof container.name === 'string' && container.name.startsWith(sidecarContainerPrefix)) return [];
    return (container.ports ?? []).flatMap((port, portIndex) => {
      if (port.containerPort === undefined || !taken.has(port.containerPort)) return [];
      const path = `${site.path}.containers[${index}].ports[${portIndex}].containerPort`;
      return [{ rule: 'sidecar/portConflict', path, message: `${path} ${port.containerPort} is a port of landlord's TLS sidecar in this pod: move the app to another port` }];
    });
  });
}
