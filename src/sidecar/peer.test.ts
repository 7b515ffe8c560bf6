import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type tls from 'node:tls';
import { parseSubjectAltNames } from './peer.ts';
import { checkIdentity } from './tunnel.ts';

describe('parseSubjectAltNames', () => {
  it('splits URI and DNS names and ignores other kinds', () => {
    assert.deepEqual(parseSubjectAltNames('DNS:db.acme.test, URI:spiffe://acme.landlord.local/ns/a/sa/b, IP Address:127.0.0.1'), {
      uris: ['spiffe://acme.landlord.local/ns/a/sa/b'], dnsNames: ['db.acme.test'],
    });
  });

  it('reads JSON-quoted values, so a comma inside a name cannot forge a second name', () => {
    assert.deepEqual(parseSubjectAltNames('URI:"spiffe://acme.landlord.local/x, URI:spiffe://globex.landlord.local/y"'), {
      uris: ['spiffe://acme.landlord.local/x, URI:spiffe://globex.landlord.local/y'], dnsNames: [],
    });
  });

  it('returns nothing for a certificate without SANs', () => {
    assert.deepEqual(parseSubjectAltNames(undefined), { uris: [], dnsNames: [] });
  });
});

describe('checkIdentity', () => {
  const certificate = (subjectaltname: string) => ({ subjectaltname, subject: {} }) as unknown as tls.PeerCertificate;

  it('accepts the exact SPIFFE URI', () => {
    assert.equal(checkIdentity('spiffe://acme.landlord.local/ns/a/sa/db', certificate('URI:spiffe://acme.landlord.local/ns/a/sa/db')), undefined);
  });

  it('refuses a SPIFFE URI that only shares a prefix', () => {
    assert.ok(checkIdentity('spiffe://acme.landlord.local/ns/a/sa/db', certificate('URI:spiffe://acme.landlord.local/ns/a/sa/db2')));
  });

  it('checks DNS names by the rules of tls.checkServerIdentity', () => {
    assert.equal(checkIdentity('db.acme.test', certificate('DNS:db.acme.test')), undefined);
    assert.ok(checkIdentity('db.acme.test', certificate('DNS:other.acme.test')));
  });
});
