/**
 * Reading `PeerFacts` from a finished TLS handshake: the only place that touches Node's peer
 * certificate objects, so policy.ts stays pure.
 */
import type tls from 'node:tls';
import type { PeerFacts } from './policy.ts';

/**
 * Splits Node's `subjectAltName` text (`DNS:a, URI:spiffe://…`; values with special characters
 * are JSON-quoted) into typed names.
 */
export function parseSubjectAltNames(text: string | undefined): { uris: string[]; dnsNames: string[] } {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  const entry = /(DNS|URI|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  for (const match of (text ?? '').matchAll(entry)) {
    const raw = match[2] ?? '';
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (match[1] === 'URI') uris.push(value);
    else if (match[1] === 'DNS') dnsNames.push(value);
  }
  return { uris, dnsNames };
}

export function peerFacts(socket: tls.TLSSocket): PeerFacts {
  const certificate = socket.getPeerCertificate(true);
  const presented = certificate !== null && typeof certificate === 'object' && certificate.raw !== undefined;
  if (!presented) return { presented, chainError: undefined, issuerFingerprint: undefined, uris: [], dnsNames: [] };
  const issuer = (certificate.issuerCertificate as tls.DetailedPeerCertificate | undefined);
  const chainError = socket.authorized ? undefined : String(socket.authorizationError ?? 'UNKNOWN');
  return {
    presented,
    chainError,
    issuerFingerprint: issuer === undefined || issuer === certificate ? undefined : issuer.fingerprint256,
    ...parseSubjectAltNames(certificate.subjectaltname),
  };
}
