/**
 * Leader election with a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does: a
 * candidate takes the Lease when it is absent, free, or not renewed for `leaseDurationMs`; the
 * leader renews it every `renewIntervalMs` and considers itself deposed when it could not renew
 * for `renewDeadlineMs` (shorter than the lease, so it stops before anyone else may start).
 * Every write carries the resourceVersion it read, so two candidates never both win.
 * On a clean stop the leader releases the Lease, letting a successor start at once.
 */
import type { Logger } from '../../shared/log.ts';
import { sleep } from './sleep.ts';
import { isApiStatus, type KubeClient, type KubeObject } from './kube.ts';
import { resources } from './resources.ts';

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly renewIntervalMs: number;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  #leading = false;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Resolves once this candidate holds the Lease, or when `signal` aborts (then `isLeader()` is false). */
  async acquire(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew()) {
        this.#leading = true;
        this.#options.logger.info('became leader', { lease: this.#options.name, identity: this.#options.identity });
        return;
      }
      await sleep(this.#options.renewIntervalMs, signal);
    }
  }

  /** Renews until `signal` aborts (resolves) or renewal fails past the deadline (calls `onLost`, resolves). */
  async renew(signal: AbortSignal, onLost: () => void): Promise<void> {
    let lastRenewed = Date.now();
    while (!signal.aborted) {
      await sleep(this.#options.renewIntervalMs, signal);
      if (signal.aborted) return;
      if (await this.#tryAcquireOrRenew()) {
        lastRenewed = Date.now();
      } else if (Date.now() - lastRenewed > this.#options.renewDeadlineMs) {
        this.#leading = false;
        this.#options.logger.error('lost leadership', { lease: this.#options.name, identity: this.#options.identity });
        onLost();
        return;
      }
    }
  }

  /** Gives the Lease up so a successor need not wait for it to expire. */
  async release(): Promise<void> {
    if (!this.#leading) return;
    this.#leading = false;
    const { client, namespace, name } = this.#options;
    const lease = await client.get<Lease>(resources.leases, name, namespace).catch(() => undefined);
    if (lease?.spec?.holderIdentity !== this.#options.identity) return;
    await client.replace(resources.leases, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } }).catch(() => undefined);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity, leaseDurationMs, logger } = this.#options;
    const now = (this.#options.clock ?? (() => new Date()))();
    const mine: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000), renewTime: microTime(now) };
    try {
      const lease = await client.get<Lease>(resources.leases, name, namespace);
      if (lease === undefined) {
        await client.create(resources.leases, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace },
          spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      }
      const spec = lease.spec ?? {};
      if (heldByAnother(spec, identity, now)) return false;
      const takeover = spec.holderIdentity !== identity;
      await client.replace(resources.leases, {
        ...lease,
        spec: {
          ...mine,
          acquireTime: takeover ? microTime(now) : spec.acquireTime ?? microTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover ? 1 : 0),
        },
      });
      return true;
    } catch (error) {
      if (!isApiStatus(error, 409)) logger.warn('lease update failed', { lease: name, error });
      return false;
    }
  }
}

function heldByAnother(spec: LeaseSpec, identity: string, now: Date): boolean {
  if (!spec.holderIdentity || spec.holderIdentity === identity) return false;
  const expires = Date.parse(spec.renewTime ?? '') + (spec.leaseDurationSeconds ?? 0) * 1000;
  return Number.isFinite(expires) && expires > now.getTime();
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}
