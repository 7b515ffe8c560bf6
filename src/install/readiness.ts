/**
 * Pure readings of installed objects: is a Deployment rolled out, has the operator set a webhook
 * configuration's caBundle, why is a pod not running. The installer's wait loop and
 * `landlord status` both decide with these.
 */
import type { KubeObject } from '../operator/index.ts';

export interface DeploymentProgress {
  readonly name: string;
  /** Pods of the current template that are available. */
  readonly ready: number;
  readonly desired: number;
  /** Rolled out: the current generation observed, every replica updated and available, no old pod left. */
  readonly done: boolean;
}

interface DeploymentShape {
  metadata: { name: string; generation?: number };
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number; readyReplicas?: number };
}

export function deploymentProgress(object: KubeObject): DeploymentProgress {
  const deployment = object as unknown as DeploymentShape;
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 1);
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const ready = observed ? Math.min(updated, available) : 0;
  return { name: deployment.metadata.name, ready, desired, done: observed && updated === desired && available === desired && (status.replicas ?? 0) === desired };
}

/** Whether every webhook of a (mutating or validating) configuration carries a CA bundle. */
export function caBundleSet(configuration: KubeObject): boolean {
  const webhooks = (configuration.webhooks ?? []) as Array<{ clientConfig?: { caBundle?: string } }>;
  return webhooks.length > 0 && webhooks.every((webhook) => (webhook.clientConfig?.caBundle ?? '') !== '');
}

interface PodShape {
  metadata: { name: string };
  status?: {
    phase?: string;
    containerStatuses?: Array<{
      name: string;
      ready?: boolean;
      restartCount?: number;
      state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
      lastState?: { terminated?: { reason?: string; exitCode?: number } };
    }>;
  };
}

interface EventShape {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
  lastTimestamp?: string;
  eventTime?: string;
}

/**
 * One line on why a component's pods are not ready: the first not-ready pod's container state
 * (waiting reason, last exit), else its latest Warning event, else its phase.
 */
export function podTrouble(pods: readonly KubeObject[], events: readonly KubeObject[]): string {
  const shaped = pods as unknown as PodShape[];
  if (shaped.length === 0) return 'no pod exists yet';
  const pod = shaped.find((candidate) => !(candidate.status?.containerStatuses ?? []).every((c) => c.ready === true)) ?? shaped[0]!;
  const warning = latestWarning(events as unknown as EventShape[], pod.metadata.name);
  return [
    `pod ${pod.metadata.name}: ${pod.status?.phase ?? 'Pending'}`,
    ...(pod.status?.containerStatuses ?? []).flatMap(containerTrouble),
    ...(warning ? [`${warning.reason ?? 'Warning'}: ${warning.message ?? ''}`.trim()] : []),
  ].join('; ');
}

type ContainerStatus = NonNullable<NonNullable<PodShape['status']>['containerStatuses']>[number];

function containerTrouble(container: ContainerStatus): string[] {
  const parts: string[] = [];
  const waiting = container.state?.waiting;
  if (waiting?.reason) parts.push(`${container.name} ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`);
  const last = container.lastState?.terminated;
  if ((container.restartCount ?? 0) > 0 && last) parts.push(`${container.name} restarted ${container.restartCount} times, last exit ${last.exitCode ?? '?'} ${last.reason ?? ''}`.trim());
  return parts;
}

function latestWarning(events: EventShape[], pod: string): EventShape | undefined {
  const at = (event: EventShape) => event.lastTimestamp ?? event.eventTime ?? '';
  return events
    .filter((event) => event.type === 'Warning' && event.involvedObject?.kind === 'Pod' && event.involvedObject.name === pod)
    .sort((a, b) => at(a).localeCompare(at(b)))
    .at(-1);
}
