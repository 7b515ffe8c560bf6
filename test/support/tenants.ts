/**
 * Fixture builders for Tenants, and the helpers operator tests share: installing the CRDs and
 * reading a tenant's condition.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { customResourceDefinitions } from '../../src/api/schema.ts';
import type { Tenant, TenantSpec } from '../../src/api/tenant.ts';
import { KubeClient, fieldManager, isApiStatus, resources, type KubeObject } from '../../src/operator/index.ts';

export type TenantOption = (spec: TenantSpec) => void;

/** `tenant("acme", withNamespaces("acme", "acme-db"))`: domains default to `*.<name>.example`. */
export function tenant(name: string, ...options: TenantOption[]): Tenant & KubeObject {
  const spec: TenantSpec = { owners: { users: [`${name}-admin`] }, domains: [`*.${name}.example`] };
  for (const option of options) option(spec);
  return { apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec };
}

export const withDomains = (...domains: string[]): TenantOption => (spec) => void (spec.domains = domains);
export const withNamespaces = (...namespaces: string[]): TenantOption => (spec) => void (spec.namespaces = namespaces);
export const withOwnerUsers = (...users: string[]): TenantOption => (spec) => void (spec.owners = { ...spec.owners, users });
export const withOwnerGroups = (...groups: string[]): TenantOption => (spec) => void (spec.owners = { ...spec.owners, groups });
export const withQuota = (quota: NonNullable<TenantSpec['quota']>): TenantOption => (spec) => void (spec.quota = quota);
export const withInternetEgress = (): TenantOption => (spec) => void (spec.network = { ...spec.network, internetEgress: true });
export const withAllowFrom = (...tenants: string[]): TenantOption => (spec) => void (spec.network = { ...spec.network, allowFrom: tenants });

/** Applies landlord's CRDs and waits until the API server serves them. */
export async function installCrds(config: ConstructorParameters<typeof KubeClient>[0]): Promise<void> {
  const client = new KubeClient(config);
  try {
    for (const crd of customResourceDefinitions) {
      await client.apply(resources.customResourceDefinitions, crd as unknown as KubeObject, fieldManager);
    }
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        await client.list(resources.tenants);
        return;
      } catch (error) {
        if (!isApiStatus(error, 404)) throw error;
        await sleep(100);
      }
    }
    throw new Error('the Tenant CRD was not served within 10 s');
  } finally {
    client.close();
  }
}

/** The condition `type` of a tenant as the API server has it now. */
export async function condition(client: KubeClient, name: string, type: string): Promise<{ status: string; reason: string; message: string; observedGeneration?: number } | undefined> {
  const current = await client.get<Tenant & KubeObject>(resources.tenants, name);
  return current?.status?.conditions?.find((c) => c.type === type);
}

/** Resolves once the tenant's Ready condition is True for its current generation; bounded. */
export async function untilReady(client: KubeClient, name: string, timeoutMs = 60_000): Promise<Tenant & KubeObject> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const current = await client.get<Tenant & KubeObject>(resources.tenants, name);
    const ready = current?.status?.conditions?.find((c) => c.type === 'Ready');
    if (current && ready?.status === 'True' && ready.observedGeneration === current.metadata.generation) return current;
    await sleep(100);
  }
  throw new Error(`tenant ${name} did not become Ready within ${timeoutMs} ms`);
}
