import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { issueLeafCertificate, type PemBundle } from './authority.ts';
import { parseCertificates } from './pem.ts';
import { createRevocationList, refreshRevocationList, revocationListDecision, revocationListNumber, revokeCertificate, revokedCertificates, type CrlDecision } from './revocation.ts';
import { handshake, openssl, platform, temporaryDirectory, type PlatformFixture, type TenantFixture } from './testing.ts';

let world: PlatformFixture;
let acme: TenantFixture;
let server: PemBundle;
let revokedClient: PemBundle;
let goodClient: PemBundle;
let acmeCrl: string;

before(async () => {
  world = await platform();
  acme = await world.tenant('acme', '*.acme.example');
  server = await issueLeafCertificate(acme.ca, { dns: ['db.acme.example'], uri: [] });
  revokedClient = await issueLeafCertificate(acme.ca, { dns: [], uri: ['spiffe://acme.landlord.local/ns/shop/sa/old'] });
  goodClient = await issueLeafCertificate(acme.ca, { dns: [], uri: ['spiffe://acme.landlord.local/ns/shop/sa/new'] });
  acmeCrl = await revokeCertificate(acme.ca, acme.bundle.crl ?? '', revokedClient.certificate);
});

describe('revocation lists', () => {
  it('lists the revoked serial number, signed by the tenant CA', async () => {
    const entries = await revokedCertificates(acme.ca, acmeCrl);
    assert.deepEqual(entries.map((entry) => entry.serialNumber), [parseCertificates(revokedClient.certificate)[0]?.serialNumber]);
  });

  it('makes openssl verify -crl_check refuse the revoked certificate', async (t) => {
    const dir = await temporaryDirectory(t);
    const files = { 'root.pem': world.root.bundle.certificate, 'acme.pem': acme.bundle.certificate, 'acme.crl': acmeCrl };
    const verify = (leaf: string) =>
      openssl(dir, ['verify', '-crl_check', '-CAfile', 'root.pem', '-untrusted', 'acme.pem', '-CRLfile', 'acme.crl', 'leaf.pem'], {
        ...files, 'leaf.pem': parseCertificates(leaf)[0]?.toString('pem') ?? '',
      });
    const revoked = await verify(revokedClient.certificate);
    assert.match(revoked.output, /error 23 at 0 depth lookup: certificate revoked/);
    const good = await verify(goodClient.certificate);
    assert.equal(good.code, 0, good.output);
  });

  // Node enables CRL checks for the whole chain (CRL_CHECK_ALL) once a CRL is loaded, so the
  // server loads the root's CRL (covering tenant CAs) as well as the tenant CA's.
  const crlServer = (rejectUnauthorized: boolean) => ({
    ...server, ca: world.root.bundle.certificate, crl: [acmeCrl, world.root.bundle.crl ?? ''], requestCert: true, rejectUnauthorized,
  });

  it('lets a Node TLS server that loads the CRLs accept a client that is not revoked', async () => {
    const result = await handshake({ server: crlServer(true), client: { ...goodClient, ca: world.root.bundle.certificate }, servername: 'db.acme.example' });
    assert.equal(result.received, 'hello');
  });

  it('makes a Node TLS server that loads the CRLs reject the revoked client', async () => {
    const result = await handshake({ server: crlServer(true), client: { ...revokedClient, ca: world.root.bundle.certificate }, servername: 'db.acme.example' });
    assert.equal(result.server, undefined, 'the server application must never see the connection');
    assert.equal(result.received, '');
  });

  it('reports CERT_REVOKED as the reason', async () => {
    const result = await handshake({ server: crlServer(false), client: { ...revokedClient, ca: world.root.bundle.certificate }, servername: 'db.acme.example' });
    assert.equal(result.server?.authorizationError, 'CERT_REVOKED');
  });

  it('revokes a whole tenant CA through the root\'s CRL, so its clients fail at depth 1', async () => {
    const rootCrl = await revokeCertificate(world.root.ca, world.root.bundle.crl ?? '', acme.bundle.certificate);
    const result = await handshake({
      server: { ...server, ca: world.root.bundle.certificate, crl: [acme.bundle.crl ?? '', rootCrl], requestCert: true, rejectUnauthorized: false },
      client: { ...goodClient, ca: world.root.bundle.certificate },
      servername: 'db.acme.example',
    });
    assert.equal(result.server?.authorizationError, 'CERT_REVOKED');
  });

  it('refuses to revoke the same certificate twice', async () => {
    await assert.rejects(revokeCertificate(acme.ca, acmeCrl, revokedClient.certificate), (error) => isLandlordError(error, 'LL_PKI_ALREADY_REVOKED'));
  });

  it('refuses to revoke a certificate another CA issued', async () => {
    const globex = await world.tenant('globex', '*.globex.example');
    const foreign = await issueLeafCertificate(globex.ca, { dns: ['www.globex.example'], uri: [] });
    await assert.rejects(revokeCertificate(acme.ca, acmeCrl, foreign.certificate), (error) => isLandlordError(error, 'LL_PKI_NOT_ISSUED_BY_CA'));
  });

  it('refuses to extend a CRL that another CA signed', async () => {
    await assert.rejects(revokeCertificate(acme.ca, world.root.bundle.crl ?? '', goodClient.certificate), (error) => isLandlordError(error, 'LL_PKI_CRL_INVALID'));
  });

  it('refuses a CRL file that is not PEM', async () => {
    await assert.rejects(revokedCertificates(acme.ca, 'not a crl'), (error) => isLandlordError(error, 'LL_PKI_PEM_INVALID'));
  });
});

describe('when a CRL is signed again', () => {
  const day = 86_400_000;
  const signedAt = new Date('2026-01-01T00:00:00Z');
  const at = (days: number, extraMs = 0): Date => new Date(signedAt.getTime() + days * day + extraMs);
  const revokedAt = new Date('2025-12-31T12:00:00Z');
  let crls: Record<'fresh' | 'withEntry' | 'foreign' | 'garbled', string>;

  before(async () => {
    const globex = await world.tenant('globex', '*.globex.example');
    crls = {
      fresh: await createRevocationList(acme.ca, [], { now: signedAt }),
      withEntry: await createRevocationList(acme.ca, [{ serialNumber: '0a1b', revokedAt }], { now: signedAt }),
      foreign: await createRevocationList(globex.ca, [], { now: signedAt }),
      garbled: '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n',
    };
  });

  const cases: { name: string; crl?: keyof typeof crls; now: Date; expect: { sign: boolean; reason?: string; revoked?: string[] } }[] = [
    { name: 'keeps a CRL signed a moment ago', crl: 'fresh', now: at(0, 1), expect: { sign: false } },
    { name: 'keeps a CRL one millisecond before two thirds of its seven days', crl: 'fresh', now: at(14 / 3, -1), expect: { sign: false } },
    { name: 'signs again two thirds into its seven days, keeping its entries', crl: 'withEntry', now: at(14 / 3), expect: { sign: true, reason: 'due', revoked: ['0a1b'] } },
    { name: 'signs again a CRL past its nextUpdate and says so', crl: 'withEntry', now: at(7), expect: { sign: true, reason: 'expired', revoked: ['0a1b'] } },
    { name: 'signs a CA without a CRL', now: at(0), expect: { sign: true, reason: 'missing', revoked: [] } },
    { name: 'replaces a CRL that cannot be parsed with an empty one', crl: 'garbled', now: at(0), expect: { sign: true, reason: 'unreadable', revoked: [] } },
    { name: 'replaces a CRL another CA signed with an empty one', crl: 'foreign', now: at(0), expect: { sign: true, reason: 'not-signed-by-ca', revoked: [] } },
  ];
  for (const { name, crl, now, expect } of cases) {
    it(name, async () => {
      const decision: CrlDecision = await revocationListDecision(acme.ca, crl === undefined ? undefined : crls[crl], now);
      assert.equal(decision.sign, expect.sign);
      if (!decision.sign) return;
      assert.equal(decision.reason, expect.reason);
      assert.deepEqual(decision.revoked.map((entry) => entry.serialNumber), expect.revoked);
    });
  }

  it('schedules the next look at two thirds of the validity', async () => {
    assert.deepEqual(await revocationListDecision(acme.ca, crls.fresh, at(1)), { sign: false, renewAt: new Date(at(14 / 3).getTime()) });
  });

  it('signs the same entries with a later nextUpdate and a higher CRL number', async () => {
    const decision = await revocationListDecision(acme.ca, crls.withEntry, at(5));
    assert.ok(decision.sign);
    const renewed = await createRevocationList(acme.ca, decision.revoked, { now: at(5), ...(decision.previousNumber === undefined ? {} : { previousNumber: decision.previousNumber }) });
    assert.ok((revocationListNumber(renewed) ?? 0n) > (revocationListNumber(crls.withEntry) ?? 0n));
    assert.deepEqual(await revokedCertificates(acme.ca, renewed), [{ serialNumber: '0a1b', revokedAt }]);
    assert.deepEqual(await revocationListDecision(acme.ca, renewed, at(5)), { sign: false, renewAt: new Date(at(5 + 14 / 3).getTime()) });
  });

  it('keeps a CRL that is not due and says when to look again', async () => {
    assert.deepEqual(await refreshRevocationList(acme.ca, crls.withEntry, at(2)), { crl: crls.withEntry, renewAt: new Date(at(14 / 3).getTime()) });
  });

  it('refreshes a due CRL: same entries, next number, seven days from now, next look at two thirds', async () => {
    const refreshed = await refreshRevocationList(acme.ca, crls.withEntry, at(5));
    assert.equal(refreshed.signed, 'due');
    assert.deepEqual(refreshed.renewAt, new Date(at(5 + 14 / 3).getTime()));
    assert.deepEqual(await revokedCertificates(acme.ca, refreshed.crl), [{ serialNumber: '0a1b', revokedAt }]);
    assert.ok((revocationListNumber(refreshed.crl) ?? 0n) > (revocationListNumber(crls.withEntry) ?? 0n));
  });

  it('numbers a CRL signed again within the same second above the one it replaces', async () => {
    const first = await createRevocationList(acme.ca, [], { now: signedAt });
    const second = await createRevocationList(acme.ca, [], { now: signedAt, previousNumber: revocationListNumber(first) ?? 0n });
    assert.equal(revocationListNumber(second), (revocationListNumber(first) ?? 0n) + 1n);
  });
});
