import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { Tenant } from '../../api/tenant.ts';
import { desiredTenantObjects, type TenantCa } from './desired.ts';

/**
 * Golden files: testdata/<case>.in.yaml (a tenant and its peers) → <case>.out.yaml (every desired
 * object). Regenerate with LANDLORD_UPDATE_GOLDEN=1 and review the diff.
 */
const testdata = path.join(import.meta.dirname, 'testdata');
const update = process.env.LANDLORD_UPDATE_GOLDEN === '1';

const fixtureCa: TenantCa = {
  bundle: { certificate: 'TENANT CA CERTIFICATE\n', privateKey: 'TENANT CA KEY\n', ca: 'ROOT CERTIFICATE\n', crl: 'TENANT CRL\n' },
  zones: ['fixture.example'],
  fingerprint: 'AA:BB',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2029-01-01T00:00:00.000Z',
};
const fixtureRoot = { certificate: 'ROOT CERTIFICATE\n', ca: 'ROOT CERTIFICATE\n', crl: 'ROOT CRL\n' };
const fixtureIngress = { image: 'landlord.dev/landlord:dev', routerSourceCidr: '10.244.0.1/32', apiServer: [{ ip: '10.244.0.1', port: 6443 }, { ip: 'fd00::1', port: 6443 }] };

describe('desiredTenantObjects (golden files)', () => {
  for (const file of readdirSync(testdata).filter((name) => name.endsWith('.in.yaml')).sort()) {
    const name = file.replace(/\.in\.yaml$/, '');
    it(`renders ${name}`, () => {
      const input = parse(readFileSync(path.join(testdata, file), 'utf8')) as { tenant: Tenant; reachableTenants: string[] };
      const objects = desiredTenantObjects({ tenant: input.tenant, reachableTenants: input.reachableTenants, ca: fixtureCa, root: fixtureRoot, ingress: fixtureIngress });
      const rendered = objects.map((object) => stringify(object, { lineWidth: 0 })).join('---\n');
      const golden = path.join(testdata, `${name}.out.yaml`);
      if (update) writeFileSync(golden, rendered);
      assert.equal(rendered, readFileSync(golden, 'utf8'), `${name}.out.yaml is out of date (LANDLORD_UPDATE_GOLDEN=1 regenerates it)`);
    });
  }

  it('runs the tenant ingress with the configured pull policy, IfNotPresent when none is given', () => {
    const input = parse(readFileSync(path.join(testdata, 'full.in.yaml'), 'utf8')) as { tenant: Tenant; reachableTenants: string[] };
    const policyOf = (ingress: typeof fixtureIngress & { imagePullPolicy?: 'Never' }) => {
      const deployment = desiredTenantObjects({ ...input, ca: fixtureCa, root: fixtureRoot, ingress }).find((object) => object.kind === 'Deployment');
      return (deployment?.spec as { template: { spec: { containers: Array<{ imagePullPolicy: string }> } } }).template.spec.containers[0]?.imagePullPolicy;
    };
    assert.equal(policyOf(fixtureIngress), 'IfNotPresent');
    assert.equal(policyOf({ ...fixtureIngress, imagePullPolicy: 'Never' }), 'Never');
  });

  it('is deterministic and never puts a private key outside the platform namespace', () => {
    const input = parse(readFileSync(path.join(testdata, 'full.in.yaml'), 'utf8')) as { tenant: Tenant; reachableTenants: string[] };
    const once = desiredTenantObjects({ ...input, ca: fixtureCa, root: fixtureRoot });
    assert.deepEqual(desiredTenantObjects({ ...input, ca: fixtureCa, root: fixtureRoot }), once);
    const withKey = once.filter((object) => JSON.stringify(object).includes(Buffer.from('TENANT CA KEY\n').toString('base64')) || JSON.stringify(object).includes('TENANT CA KEY'));
    assert.deepEqual(withKey.map((object) => `${object.metadata.namespace}/${object.kind}`), ['landlord-system/Secret']);
  });
});
