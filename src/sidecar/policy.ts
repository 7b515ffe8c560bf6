/**
 * Who may talk to a sidecar: a pure decision over facts read from a peer's certificate after the
 * TLS handshake. No sockets here.
 *
 * Security stance (ghostunnel's): fails closed. With client authentication `required`, a peer is
 * admitted only when (1) it presented a certificate, (2) OpenSSL verified its chain to the platform
 * root with both CRLs and no error, (3) its issuing CA is one of the trusted tenant CAs (by SHA-256
 * fingerprint), and (4) one of its URI or DNS SANs is on the allow-list — or the policy explicitly
 * admits every identity the trusted CAs issued (`allowAnyIdentity`). An empty allow-list without
 * `allowAnyIdentity` admits nobody. Identities come from SANs only; subject CN/OU are never read,
 * because landlord leaves have empty subjects and name constraints bind SANs only.
 */

export type ClientAuthentication = 'none' | 'required';

export interface PeerPolicy {
  readonly clientAuthentication: ClientAuthentication;
  /** SHA-256 fingerprints (Node's `AA:BB:…` form) of the CAs whose leaves may connect. */
  readonly trustedIssuers: readonly string[];
  /** Exact SAN URIs (`spiffe://acme.landlord.local/ns/shop/sa/api`) admitted. */
  readonly allowedUris: readonly string[];
  /** Exact DNS SANs admitted. */
  readonly allowedDnsNames: readonly string[];
  /** Admit every identity issued by a trusted CA; must be chosen explicitly. */
  readonly allowAnyIdentity: boolean;
}

/** What the TLS layer learnt about the peer; `chainError` is OpenSSL's code via Node. */
export interface PeerFacts {
  readonly presented: boolean;
  readonly chainError: string | undefined;
  readonly issuerFingerprint: string | undefined;
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
}

export type DenialReason =
  | 'no_client_certificate'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'certificate_revoked'
  | 'crl_unavailable'
  | 'unknown_issuer'
  | 'chain_invalid'
  | 'untrusted_tenant'
  | 'identity_not_allowed';

export type Authorization =
  | { readonly allowed: true; readonly identity: string | undefined }
  | { readonly allowed: false; readonly reason: DenialReason; readonly detail: string };

const chainErrorReasons: Readonly<Record<string, DenialReason>> = {
  CERT_HAS_EXPIRED: 'certificate_expired',
  CERT_NOT_YET_VALID: 'certificate_not_yet_valid',
  CERT_REVOKED: 'certificate_revoked',
  UNABLE_TO_GET_CRL: 'crl_unavailable',
  CRL_HAS_EXPIRED: 'crl_unavailable',
  CRL_NOT_YET_VALID: 'crl_unavailable',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown_issuer',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown_issuer',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown_issuer',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown_issuer',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown_issuer',
};

/** Maps OpenSSL's verification code to the reason logs and metrics group by. */
export function chainErrorReason(code: string): DenialReason {
  return knownChainErrorReason(code) ?? 'chain_invalid';
}

/** The reason for a verification code this module knows, else undefined (not a chain error). */
export function knownChainErrorReason(code: string | undefined): DenialReason | undefined {
  return code === undefined ? undefined : chainErrorReasons[code];
}

function denied(reason: DenialReason, detail: string): Authorization {
  return { allowed: false, reason, detail };
}

/** The ordered checks; the first that fails names the denial. */
export function authorizePeer(peer: PeerFacts, policy: PeerPolicy): Authorization {
  if (policy.clientAuthentication === 'none') return { allowed: true, identity: undefined };
  if (!peer.presented) return denied('no_client_certificate', 'the client sent no certificate');
  // The issuer check runs first only to name the denial better: another tenant's chain also fails
  // verification (its CRL is not loaded). An unverified issuer can deny, never admit.
  const trustedIssuer = peer.issuerFingerprint !== undefined && policy.trustedIssuers.includes(peer.issuerFingerprint);
  if (peer.issuerFingerprint !== undefined && !trustedIssuer) return denied('untrusted_tenant', 'the certificate was issued by a CA this service does not admit (another tenant)');
  if (peer.chainError !== undefined) return denied(chainErrorReason(peer.chainError), `chain verification failed: ${peer.chainError}`);
  if (!trustedIssuer) return denied('untrusted_tenant', 'the certificate\'s issuer is unknown');
  const uri = peer.uris.find((candidate) => policy.allowedUris.includes(candidate));
  if (uri !== undefined) return { allowed: true, identity: uri };
  const dns = peer.dnsNames.find((candidate) => policy.allowedDnsNames.includes(candidate));
  if (dns !== undefined) return { allowed: true, identity: dns };
  if (policy.allowAnyIdentity) return { allowed: true, identity: peer.uris[0] ?? peer.dnsNames[0] };
  const names = [...peer.uris, ...peer.dnsNames];
  return denied('identity_not_allowed', `no SAN is on the allow-list (${names.length === 0 ? 'the certificate has no SANs' : names.join(', ')})`);
}

