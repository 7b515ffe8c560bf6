import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { readPkiDirectory, writePkiDirectory } from './files.ts';
import { formatInspection, inspectPem } from './inspect.ts';
import { platform, temporaryDirectory, type PlatformFixture, type TenantFixture } from './testing.ts';

let world: PlatformFixture;
let acme: TenantFixture;

before(async () => {
  world = await platform();
  acme = await world.tenant('acme', '*.acme.example');
});

describe('PKI directories', () => {
  it('writes tls.key with mode 0600 and reads the bundle back', async (t) => {
    const dir = path.join(await temporaryDirectory(t), 'acme');
    await writePkiDirectory(dir, acme.bundle);
    assert.equal((await stat(path.join(dir, 'tls.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.deepEqual(await readPkiDirectory(dir), acme.bundle);
  });

  it('refuses to overwrite an existing key without force, and replaces it with force', async (t) => {
    const dir = await temporaryDirectory(t);
    await writePkiDirectory(dir, world.root.bundle);
    await assert.rejects(writePkiDirectory(dir, acme.bundle), (error) => isLandlordError(error, 'LL_PKI_KEY_EXISTS'));
    assert.deepEqual(await readPkiDirectory(dir), world.root.bundle, 'a refused write changes nothing');
    await writePkiDirectory(dir, acme.bundle, { force: true });
    assert.deepEqual(await readPkiDirectory(dir), acme.bundle);
  });

  it('refuses a directory that does not exist', async (t) => {
    const dir = path.join(await temporaryDirectory(t), 'missing');
    await assert.rejects(readPkiDirectory(dir), (error) => isLandlordError(error, 'LL_PKI_DIRECTORY_MISSING'));
  });

  it('refuses a directory without tls.crt', async (t) => {
    const dir = await temporaryDirectory(t);
    await writeFile(path.join(dir, 'ca.crt'), world.root.bundle.certificate);
    await assert.rejects(readPkiDirectory(dir), (error) => isLandlordError(error, 'LL_PKI_FILE_MISSING'));
  });
});

describe('inspection', () => {
  it('reports the tenant CA\'s constraints, path length and fingerprint', async () => {
    const [report] = (await inspectPem(acme.bundle.certificate, 'tls.crt')).certificates;
    assert.deepEqual(report?.permitted, { dns: ['acme.example'], uri: ['acme.landlord.local'], critical: true });
    assert.equal(report?.pathLength, 0);
    assert.match(report?.sha256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('renders revoked serials of a CRL', async () => {
    const text = formatInspection('ca.crl', await inspectPem(acme.bundle.crl ?? '', 'ca.crl'), new Date());
    assert.match(text, /CRL from CN=acme tenant CA, O=landlord\n.*\n\s+revoked:\s+none/);
  });

  it('refuses text with neither certificates nor CRLs', async () => {
    await assert.rejects(inspectPem('hello', 'notes.txt'), (error) => isLandlordError(error, 'LL_PKI_PEM_INVALID'));
  });
});
