import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TenantAdmission } from './tenant-admission.ts';

describe('TenantAdmission', () => {
  it('refuses connections beyond the concurrent limit until one is released', () => {
    const admission = new TenantAdmission(() => 0);
    const limits = { maxConnections: 2, newConnectionsPerSecond: undefined };
    assert.equal(admission.admit('acme', limits), undefined);
    assert.equal(admission.admit('acme', limits), undefined);
    assert.equal(admission.admit('acme', limits), 'tenant_max_connections');
    assert.equal(admission.admit('globex', limits), undefined, 'another tenant is unaffected');
    admission.release('acme');
    assert.equal(admission.admit('acme', limits), undefined);
  });

  it('refuses new connections beyond the rate and refills with time', () => {
    let now = 0;
    const admission = new TenantAdmission(() => now);
    const limits = { maxConnections: undefined, newConnectionsPerSecond: 3 };
    for (let i = 0; i < 3; i += 1) assert.equal(admission.admit('acme', limits), undefined);
    assert.equal(admission.admit('acme', limits), 'tenant_rate_limited');
    now += 340;
    assert.equal(admission.admit('acme', limits), undefined);
    assert.equal(admission.admit('acme', limits), 'tenant_rate_limited');
  });

  it('admits everything for a tenant without limits', () => {
    const admission = new TenantAdmission(() => 0);
    for (let i = 0; i < 1000; i += 1) assert.equal(admission.admit('free', undefined), undefined);
    assert.equal(admission.active('free'), 1000);
  });
});
