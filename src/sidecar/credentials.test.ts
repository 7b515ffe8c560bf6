import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { credentialsFromFiles, type CredentialFiles } from './credentials.ts';
import { reloadDecision } from './reload.ts';
import { testPlatform } from './testing.ts';

let mounted: CredentialFiles;
let rotated: CredentialFiles;

before(async () => {
  const world = await testPlatform();
  const acme = await world.tenant('acme');
  mounted = world.mountFiles(acme, await world.issue(acme, { dns: ['db.acme.test'] }));
  rotated = world.mountFiles(acme, await world.issue(acme, { dns: ['db.acme.test'] }));
});

const without = (files: CredentialFiles, ...names: (keyof CredentialFiles)[]): CredentialFiles =>
  Object.fromEntries(Object.entries(files).filter(([name]) => !names.includes(name as keyof CredentialFiles)));

describe('credentialsFromFiles', () => {
  const refusals: { name: string; files: () => CredentialFiles; verifyPeers: boolean }[] = [
    { name: 'refuses a directory without tls.key', files: () => without(mounted, 'tls.key'), verifyPeers: false },
    { name: 'refuses a directory without the tenant CA', files: () => without(mounted, 'ca.crt'), verifyPeers: false },
    { name: 'refuses one CRL without the other (revocation would fail for every client)', files: () => without(mounted, 'root.crl'), verifyPeers: true },
    { name: 'refuses CRLs without root.crt', files: () => without(mounted, 'root.crt'), verifyPeers: false },
    { name: 'refuses to verify peers without root.crt', files: () => without(mounted, 'root.crt', 'ca.crl', 'root.crl'), verifyPeers: true },
    { name: 'refuses a key that does not match the certificate', files: () => ({ ...mounted, 'tls.key': rotated['tls.key'] ?? '' }), verifyPeers: false },
  ];
  for (const refusal of refusals) {
    it(refusal.name, () => {
      assert.throws(() => credentialsFromFiles(refusal.files(), { verifyPeers: refusal.verifyPeers }), (error) => isLandlordError(error, 'LL_SIDECAR_CREDENTIALS_INVALID'));
    });
  }

  it('accepts a TLS-only server without the trust bundle', () => {
    const credentials = credentialsFromFiles(without(mounted, 'root.crt', 'ca.crl', 'root.crl'), { verifyPeers: false });
    assert.equal(credentials.crls.length, 0);
  });
});

describe('reloadDecision', () => {
  it('swaps in a different valid set', () => {
    const current = credentialsFromFiles(mounted, { verifyPeers: true });
    const next = credentialsFromFiles(rotated, { verifyPeers: true });
    assert.equal(reloadDecision(current, { ok: true, credentials: next }).action, 'swap');
  });

  it('ignores a change event that left the content as it was', () => {
    const current = credentialsFromFiles(mounted, { verifyPeers: true });
    assert.equal(reloadDecision(current, { ok: true, credentials: credentialsFromFiles(mounted, { verifyPeers: true }) }).action, 'unchanged');
  });

  it('keeps serving the old set when the new one is invalid', () => {
    const current = credentialsFromFiles(mounted, { verifyPeers: true });
    assert.equal(reloadDecision(current, { ok: false, error: new Error('half-written') }).action, 'keep');
  });
});
