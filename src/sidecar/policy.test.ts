import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizePeer, type PeerFacts, type PeerPolicy } from './policy.ts';

const acmeCa = 'AA:AA';
const globexCa = 'BB:BB';
const api = 'spiffe://acme.landlord.local/ns/shop/sa/api';

const policy = (overrides: Partial<PeerPolicy> = {}): PeerPolicy => ({
  clientAuthentication: 'required', trustedIssuers: [acmeCa], allowedUris: [api], allowedDnsNames: ['batch.acme.test'], allowAnyIdentity: false, ...overrides,
});
const peer = (overrides: Partial<PeerFacts> = {}): PeerFacts => ({ presented: true, chainError: undefined, issuerFingerprint: acmeCa, uris: [api], dnsNames: [], ...overrides });

const cases: { name: string; peer: PeerFacts; policy: PeerPolicy; expected: string }[] = [
  { name: 'admits anyone when client authentication is off', peer: peer({ presented: false }), policy: policy({ clientAuthentication: 'none' }), expected: 'allowed' },
  { name: 'admits an allowed SPIFFE URI issued by the tenant CA', peer: peer(), policy: policy(), expected: 'allowed' },
  { name: 'admits an allowed DNS name', peer: peer({ uris: [], dnsNames: ['batch.acme.test'] }), policy: policy(), expected: 'allowed' },
  { name: 'denies a client without a certificate', peer: peer({ presented: false }), policy: policy(), expected: 'no_client_certificate' },
  { name: 'denies a chain OpenSSL rejected as revoked', peer: peer({ chainError: 'CERT_REVOKED' }), policy: policy(), expected: 'certificate_revoked' },
  { name: 'denies a chain OpenSSL rejected as expired', peer: peer({ chainError: 'CERT_HAS_EXPIRED' }), policy: policy(), expected: 'certificate_expired' },
  { name: 'denies when a CRL is missing or stale (fails closed)', peer: peer({ chainError: 'CRL_HAS_EXPIRED' }), policy: policy(), expected: 'crl_unavailable' },
  { name: 'denies an unknown chain error as chain_invalid', peer: peer({ chainError: 'SOMETHING_NEW' }), policy: policy(), expected: 'chain_invalid' },
  { name: 'denies another tenant\'s certificate even when its URI is listed', peer: peer({ issuerFingerprint: globexCa }), policy: policy(), expected: 'untrusted_tenant' },
  { name: 'denies another tenant\'s certificate before naming its chain error', peer: peer({ issuerFingerprint: globexCa, chainError: 'UNABLE_TO_GET_CRL' }), policy: policy(), expected: 'untrusted_tenant' },
  { name: 'denies a verified certificate whose issuer is unknown', peer: peer({ issuerFingerprint: undefined }), policy: policy(), expected: 'untrusted_tenant' },
  { name: 'admits another tenant only when its CA is trusted explicitly', peer: peer({ issuerFingerprint: globexCa }), policy: policy({ trustedIssuers: [acmeCa, globexCa] }), expected: 'allowed' },
  { name: 'denies an identity that is not on the allow-list', peer: peer({ uris: ['spiffe://acme.landlord.local/ns/shop/sa/other'] }), policy: policy(), expected: 'identity_not_allowed' },
  { name: 'admits nobody with an empty allow-list (fails closed)', peer: peer(), policy: policy({ allowedUris: [], allowedDnsNames: [] }), expected: 'identity_not_allowed' },
  { name: 'admits any identity of the tenant only when chosen explicitly', peer: peer({ uris: ['spiffe://acme.landlord.local/ns/x/sa/y'] }), policy: policy({ allowedUris: [], allowAnyIdentity: true }), expected: 'allowed' },
  { name: 'never reads a prefix match as allowed', peer: peer({ uris: [`${api}/extra`] }), policy: policy(), expected: 'identity_not_allowed' },
];

describe('authorizePeer', () => {
  for (const c of cases) {
    it(c.name, () => {
      const decision = authorizePeer(c.peer, c.policy);
      assert.equal(decision.allowed ? 'allowed' : decision.reason, c.expected);
    });
  }
});
