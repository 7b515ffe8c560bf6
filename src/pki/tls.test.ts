import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { issueLeafCertificate, type PemBundle } from './authority.ts';
import { forgeWithTenantKey, handshake, platform, type PlatformFixture, type TenantFixture } from './testing.ts';

let world: PlatformFixture;
let acme: TenantFixture;
let globex: TenantFixture;
let acmeServer: PemBundle;
let acmeClient: PemBundle;
let globexClient: PemBundle;

before(async () => {
  world = await platform();
  acme = await world.tenant('acme', '*.acme.example');
  globex = await world.tenant('globex', '*.globex.example');
  acmeServer = await issueLeafCertificate(acme.ca, { dns: ['db.acme.example'], uri: [] });
  acmeClient = await issueLeafCertificate(acme.ca, { dns: [], uri: ['spiffe://acme.landlord.local/ns/shop/sa/app'] });
  globexClient = await issueLeafCertificate(globex.ca, { dns: [], uri: ['spiffe://globex.landlord.local/ns/shop/sa/app'] });
});

describe('Node TLS with landlord certificates', () => {
  it('completes a handshake with a client that trusts only the platform root', async () => {
    const result = await handshake({ server: acmeServer, client: { ca: world.root.bundle.certificate }, servername: 'db.acme.example' });
    assert.equal(result.clientError, undefined);
    assert.equal(result.received, 'hello');
  });

  it('rejects a server certificate forged with acme\'s CA key for a globex name, as a chain failure', async () => {
    const forged = await forgeWithTenantKey(acme, [{ type: 'dns', value: 'x.globex.example' }]);
    const result = await handshake({ server: forged, client: { ca: world.root.bundle.certificate }, servername: 'x.globex.example' });
    // Node has no dedicated code for X509_V_ERR_PERMITTED_VIOLATION: it reports "UNSPECIFIED" with
    // OpenSSL's message. The host name matches the SAN, so this is not ERR_TLS_CERT_ALTNAME_INVALID.
    assert.equal(result.clientError?.code, 'UNSPECIFIED');
    assert.equal(result.clientError?.message, 'permitted subtree violation');
    assert.equal(result.received, '');
  });
});

describe('mutual TLS between tenants', () => {
  const globexOnly = () => ({ ...acmeServer, ca: globex.bundle.certificate, partialChain: true, requestCert: true });

  it('accepts globex\'s client at a server that trusts only globex\'s CA', async () => {
    const result = await handshake({ server: globexOnly(), client: { ...globexClient, ca: world.root.bundle.certificate }, servername: 'db.acme.example' });
    assert.equal(result.received, 'hello');
    assert.equal(result.server?.authorized, true);
  });

  it('rejects acme\'s client at a server that trusts only globex\'s CA', async () => {
    const result = await handshake({ server: globexOnly(), client: { ...acmeClient, ca: world.root.bundle.certificate }, servername: 'db.acme.example' });
    assert.equal(result.server, undefined, 'the server application must never see the connection');
    assert.equal(result.received, '');
  });

  it('names the reason: acme\'s chain does not reach a globex anchor', async () => {
    const result = await handshake({
      server: { ...globexOnly(), rejectUnauthorized: false },
      client: { ...acmeClient, ca: world.root.bundle.certificate },
      servername: 'db.acme.example',
    });
    assert.equal(result.server?.authorized, false);
    assert.equal(result.server?.authorizationError, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
  });
});
