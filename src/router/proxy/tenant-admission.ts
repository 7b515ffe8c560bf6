/**
 * Per-tenant admission: concurrent connections and a new-connection rate (token bucket whose
 * burst equals the per-second rate). State is keyed by tenant name and outlives table swaps, so
 * a reload neither resets a tenant's count nor forgets the connections it already holds; the
 * limits themselves are read from the current table at each admission.
 */
import type { TenantLimits } from '../config/route-table.ts';

export type AdmissionRefusal = 'tenant_max_connections' | 'tenant_rate_limited';

interface TenantState {
  active: number;
  tokens: number;
  refilledAt: number;
}

export class TenantAdmission {
  readonly #tenants = new Map<string, TenantState>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Admits one connection, or says which limit refused it. A successful admit must be released once. */
  admit(tenant: string, limits: TenantLimits | undefined): AdmissionRefusal | undefined {
    const now = this.#now();
    let state = this.#tenants.get(tenant);
    if (!state) {
      state = { active: 0, tokens: limits?.newConnectionsPerSecond ?? 0, refilledAt: now };
      this.#tenants.set(tenant, state);
    }
    if (limits?.maxConnections !== undefined && state.active >= limits.maxConnections) return 'tenant_max_connections';
    const rate = limits?.newConnectionsPerSecond;
    if (rate !== undefined) {
      state.tokens = Math.min(rate, state.tokens + ((now - state.refilledAt) / 1000) * rate);
      state.refilledAt = now;
      if (state.tokens < 1) return 'tenant_rate_limited';
      state.tokens -= 1;
    }
    state.active += 1;
    return undefined;
  }

  release(tenant: string): void {
    const state = this.#tenants.get(tenant);
    if (!state) return;
    state.active -= 1;
    if (state.active === 0 && state.tokens >= 1) this.#tenants.delete(tenant);
  }

  active(tenant: string): number {
    return this.#tenants.get(tenant)?.active ?? 0;
  }
}
