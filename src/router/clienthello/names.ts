/**
 * Server-name normalization shared by the ClientHello parser, the route table and the HTTP Host
 * reader, so that a name is compared in exactly one canonical form everywhere.
 *
 * Canonical form: lowercase ASCII, one trailing dot removed, labels of 1–63 letters, digits,
 * hyphens or underscores (underscores appear in real service names), at most 253 characters.
 * IP literals are reported separately: RFC 6066 forbids them in SNI, so they take the no-SNI path.
 */
import { isIP } from 'node:net';

export type NormalizedName =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'ip_literal' }
  | { readonly kind: 'invalid'; readonly detail: string };

const ipv4ish = /^[\d.]+$/;
/** Dot-separated labels, each as described above; one pass instead of a split and a test per label. */
const labels = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function normalizeServerName(raw: string): NormalizedName {
  const name = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  const bracketless = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  // Only digits and dots (IPv4) or a colon (IPv6) can make an IP literal; this spares most names isIP's regular expressions.
  if ((ipv4ish.test(bracketless) || bracketless.includes(':')) && isIP(bracketless) !== 0) return { kind: 'ip_literal' };
  if (name.length === 0 || name.length > 253) return { kind: 'invalid', detail: `server name of ${name.length} characters` };
  if (!labels.test(name)) return { kind: 'invalid', detail: `server name ${JSON.stringify(raw.slice(0, 80))} has an invalid label` };
  return { kind: 'name', name };
}
