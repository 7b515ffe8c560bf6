/**
 * Where pod specs live: a Pod's `spec`, a workload's pod template, a CronJob's job template.
 * Pod security and the mutators see every pod a request can create through one of these.
 */
import type { KubeObject } from './review-types.ts';

/** A pod spec found inside an object, with the dotted path (for messages) and JSON pointer (for patches). */
export interface PodSpecSite {
  /** The kind of the object holding the spec: `Pod`, `Deployment`, … */
  kind: string;
  /** `spec` for a Pod, `spec.template.spec` for a Deployment, … */
  path: string;
  pointer: string;
  spec: PodSpec;
  /** The annotations of the pod (template) metadata; AppArmor and legacy seccomp live there. */
  annotations: Record<string, string>;
  /** The labels of the pod (template) metadata; Services select pods by them. */
  labels: Record<string, string>;
}

export interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: PodSecurityContext;
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Array<Record<string, unknown> & { name?: string }>;
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

export interface SeccompProfile {
  type?: string;
  localhostProfile?: string;
}

export interface SecurityContextCommon {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  seccompProfile?: SeccompProfile;
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string; level?: string };
  windowsOptions?: { hostProcess?: boolean };
}

export interface PodSecurityContext extends SecurityContextCommon {
  sysctls?: Array<{ name?: string; value?: string }>;
  [field: string]: unknown;
}

export interface ContainerSecurityContext extends SecurityContextCommon {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  [field: string]: unknown;
}

export interface Container {
  name?: string;
  image?: string;
  imagePullPolicy?: string;
  ports?: Array<{ name?: string; hostPort?: number; containerPort?: number; protocol?: string }>;
  securityContext?: ContainerSecurityContext;
  [field: string]: unknown;
}

/** A container with where it sits: `spec.initContainers[0]`. */
export interface ContainerSite {
  path: string;
  pointer: string;
  container: Container;
}

const containerLists = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Where each kind keeps its pod template (the object holding `metadata` and `spec`); a Pod is its own. */
const templatePaths: Record<string, readonly string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The pod spec a Pod or workload object carries, or undefined when the object holds none. */
export function podSpecSiteOf(object: KubeObject | null | undefined): PodSpecSite | undefined {
  const kind = object?.kind ?? '';
  const fields = templatePaths[kind];
  if (fields === undefined) return undefined;
  let template: Record<string, unknown> | undefined = asRecord(object);
  for (const field of fields) template = asRecord(template?.[field]);
  const spec = asRecord(template?.spec);
  if (spec === undefined) return undefined;
  const path = [...fields, 'spec'];
  const metadata = asRecord(template?.metadata);
  return {
    kind,
    path: path.join('.'),
    pointer: `/${path.join('/')}`,
    spec: spec,
    annotations: (asRecord(metadata?.annotations) as Record<string, string> | undefined) ?? {},
    labels: (asRecord(metadata?.labels) as Record<string, string> | undefined) ?? {},
  };
}

/** Every container of the spec, in the order containers, initContainers, ephemeralContainers. */
export function containersOf(site: PodSpecSite): ContainerSite[] {
  return containerLists.flatMap((list) =>
    (Array.isArray(site.spec[list]) ? site.spec[list] : []).map((container, index) => ({
      path: `${site.path}.${list}[${index}]`,
      pointer: `${site.pointer}/${list}/${index}`,
      container: asRecord(container) ?? {},
    })),
  );
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
