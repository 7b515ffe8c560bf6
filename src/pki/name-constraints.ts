/**
 * The X.509 NameConstraints extension (RFC 5280 §4.2.1.10), encoded and decoded in DER.
 *
 * Only what a tenant CA needs: permitted subtrees of dNSName and uniformResourceIdentifier
 * names, without minimum/maximum (RFC 5280 forbids them). Pure: bytes in, bytes out.
 */
import { LandlordError } from '../shared/errors.ts';

export const nameConstraintsOid = '2.5.29.30';

export interface PermittedNames {
  /** dNSName subtrees: `acme.example` permits acme.example and every name under it. */
  dns: readonly string[];
  /** uniformResourceIdentifier subtrees: a host (`acme.example`) or a domain (`.acme.example`). */
  uri: readonly string[];
}

const tagSequence = 0x30;
const tagPermitted = 0xa0; // [0] IMPLICIT GeneralSubtrees, constructed
const tagDnsName = 0x82; // [2] IMPLICIT IA5String
const tagUri = 0x86; // [6] IMPLICIT IA5String

/** DER of `NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees }`. */
export function encodePermittedNames(names: PermittedNames): Uint8Array {
  const subtrees = [
    ...names.dns.map((name) => tlv(tagSequence, tlv(tagDnsName, ia5(name)))),
    ...names.uri.map((name) => tlv(tagSequence, tlv(tagUri, ia5(name)))),
  ];
  if (subtrees.length === 0) {
    // An empty permittedSubtrees is invalid DER for this extension and would permit everything.
    throw new LandlordError('LL_PKI_NAME_CONSTRAINTS_EMPTY', 'a tenant CA needs at least one permitted name');
  }
  return tlv(tagSequence, tlv(tagPermitted, concat(subtrees)));
}

/**
 * Reads the permitted dNSName and URI subtrees back. Fails closed: excluded subtrees, other name
 * forms or malformed DER raise `LL_PKI_NAME_CONSTRAINTS_UNSUPPORTED` rather than being ignored.
 */
export function decodePermittedNames(der: Uint8Array): PermittedNames {
  const dns: string[] = [];
  const uri: string[] = [];
  const outer = readTlv(der, 0);
  if (outer.tag !== tagSequence || outer.end !== der.length) unsupported('not a single SEQUENCE');
  for (let offset = outer.start; offset < outer.end; ) {
    const part = readTlv(der, offset);
    if (part.tag !== tagPermitted) unsupported('only permittedSubtrees are supported');
    for (let at = part.start; at < part.end; ) {
      const subtree = readTlv(der, at);
      if (subtree.tag !== tagSequence) unsupported('a GeneralSubtree is not a SEQUENCE');
      const base = readTlv(der, subtree.start);
      if (base.end !== subtree.end) unsupported('minimum/maximum are not allowed');
      const value = new TextDecoder('ascii').decode(der.subarray(base.start, base.end));
      if (base.tag === tagDnsName) dns.push(value);
      else if (base.tag === tagUri) uri.push(value);
      else unsupported(`name form with tag 0x${base.tag.toString(16)}`);
      at = subtree.end;
    }
    offset = part.end;
  }
  return { dns, uri };
}

function unsupported(detail: string): never {
  throw new LandlordError('LL_PKI_NAME_CONSTRAINTS_UNSUPPORTED', `unsupported NameConstraints extension: ${detail}`);
}

function ia5(text: string): Uint8Array {
  if (!/^[\x20-\x7e]*$/.test(text)) {
    throw new LandlordError('LL_PKI_NAME_CONSTRAINTS_UNSUPPORTED', `name constraint ${JSON.stringify(text)} is not printable ASCII`);
  }
  return new TextEncoder().encode(text);
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(tag), derLength(content.length), content]);
}

function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** One DER TLV at `offset`; every length is bounds-checked against the buffer. */
function readTlv(der: Uint8Array, offset: number): Tlv {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined) unsupported('truncated');
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 3) unsupported('bad length');
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = der[start + i];
      if (byte === undefined) unsupported('truncated');
      length = length * 256 + byte;
    }
    start += count;
  }
  const end = start + length;
  if (end > der.length) unsupported('truncated');
  return { tag, start, end };
}
