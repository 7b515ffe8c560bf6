/**
 * PROXY protocol version 2 (haproxy.org/download/2.9/doc/proxy-protocol.txt), binary form only.
 * Pure: `encodeProxyV2` builds a header; `decodeProxyV2` reads one incrementally from the bytes
 * received so far and returns needMore | header | error, never throwing on hostile input.
 *
 * The router writes it to backends (so tenants see the client address) and reads it from trusted
 * load balancers; the sidecar reads it. A header must only be believed from trusted peers.
 */
import { isIP } from 'node:net';

export const proxyV2Signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const headerLength = 16;
/** Largest header we accept: addresses plus generous room for TLVs (AWS/GCP send < 300 bytes). */
export const maxProxyV2Length = headerLength + 4096;

export interface SocketEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface ProxyV2Tlv {
  readonly type: number;
  readonly value: Buffer;
}

export type ProxyV2Header =
  /** LOCAL: the connection was made by the proxy itself (health checks); use the real peer. */
  | { readonly command: 'local'; readonly tlvs: readonly ProxyV2Tlv[] }
  | { readonly command: 'proxy'; readonly source: SocketEndpoint; readonly destination: SocketEndpoint; readonly tlvs: readonly ProxyV2Tlv[] }
  /** PROXY over a family we do not model (UNIX, UDP, unspecified): no usable address. */
  | { readonly command: 'proxy'; readonly source: undefined; readonly destination: undefined; readonly tlvs: readonly ProxyV2Tlv[] };

export type ProxyV2Step =
  | { readonly kind: 'needMore' }
  | { readonly kind: 'header'; readonly header: ProxyV2Header; readonly length: number }
  | { readonly kind: 'error'; readonly detail: string };

/** Parses an IPv4 or IPv6 literal (including IPv4-mapped forms) into 4 or 16 bytes. */
export function addressBytes(address: string): Buffer | undefined {
  const family = isIP(address);
  if (family === 4) return Buffer.from(address.split('.').map(Number));
  if (family !== 6) return undefined;
  let text = address.split('%')[0] ?? address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = Buffer.from(v4[1]!.split('.').map(Number));
    text = `${text.slice(0, -v4[1]!.length)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

function formatIPv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function mapped(v4: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), v4]);
}

/** Builds a PROXY (or LOCAL, when `source` is undefined) header for a TCP connection. */
export function encodeProxyV2(source: SocketEndpoint | undefined, destination?: SocketEndpoint, tlvs: readonly ProxyV2Tlv[] = []): Buffer {
  const tlvBytes = Buffer.concat(tlvs.map((t) => Buffer.concat([Buffer.from([t.type, t.value.length >> 8, t.value.length & 0xff]), t.value])));
  let family = 0x00;
  let addresses = Buffer.alloc(0);
  const src = source && addressBytes(source.address);
  const dst = source && destination && addressBytes(destination.address);
  if (source && destination && src && dst) {
    const v4 = src.length === 4 && dst.length === 4;
    family = v4 ? 0x11 : 0x21;
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(source.port, 0);
    ports.writeUInt16BE(destination.port, 2);
    addresses = v4 ? Buffer.concat([src, dst, ports]) : Buffer.concat([src.length === 4 ? mapped(src) : src, dst.length === 4 ? mapped(dst) : dst, ports]);
  }
  const header = Buffer.alloc(headerLength);
  proxyV2Signature.copy(header);
  header[12] = source ? 0x21 : 0x20; // version 2, command PROXY or LOCAL
  header[13] = family;
  header.writeUInt16BE(addresses.length + tlvBytes.length, 14);
  return Buffer.concat([header, addresses, tlvBytes]);
}

function parseTlvs(bytes: Buffer): ProxyV2Tlv[] | undefined {
  const tlvs: ProxyV2Tlv[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 3 > bytes.length) return undefined;
    const length = bytes.readUInt16BE(offset + 1);
    if (offset + 3 + length > bytes.length) return undefined;
    tlvs.push({ type: bytes[offset]!, value: Buffer.from(bytes.subarray(offset + 3, offset + 3 + length)) });
    offset += 3 + length;
  }
  return tlvs;
}

function readAddresses(family: number, body: Buffer): { source: SocketEndpoint; destination: SocketEndpoint; rest: Buffer } | 'short' | undefined {
  const transport = family & 0x0f;
  const addressFamily = family >> 4;
  if (transport !== 1 || (addressFamily !== 1 && addressFamily !== 2)) return undefined;
  const size = addressFamily === 1 ? 4 : 16;
  if (body.length < size * 2 + 4) return 'short';
  const format = (b: Buffer): string => (size === 4 ? [...b].join('.') : formatIPv6(b));
  return {
    source: { address: format(body.subarray(0, size)), port: body.readUInt16BE(size * 2) },
    destination: { address: format(body.subarray(size, size * 2)), port: body.readUInt16BE(size * 2 + 2) },
    rest: body.subarray(size * 2 + 4),
  };
}

/** Reads a header from the start of `bytes` (everything received so far). */
export function decodeProxyV2(bytes: Buffer): ProxyV2Step {
  const prefix = Math.min(bytes.length, proxyV2Signature.length);
  if (!bytes.subarray(0, prefix).equals(proxyV2Signature.subarray(0, prefix))) return { kind: 'error', detail: 'missing PROXY v2 signature' };
  if (bytes.length < headerLength) return { kind: 'needMore' };
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return { kind: 'error', detail: `unsupported PROXY protocol version ${versionCommand >> 4}` };
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: 'error', detail: `unknown PROXY command ${command}` };
  const length = headerLength + bytes.readUInt16BE(14);
  if (length > maxProxyV2Length) return { kind: 'error', detail: `PROXY header of ${length} bytes is too long` };
  if (bytes.length < length) return { kind: 'needMore' };
  const body = bytes.subarray(headerLength, length);
  const addresses = readAddresses(bytes[13]!, body);
  if (addresses === 'short') return { kind: 'error', detail: 'PROXY header too short for its address family' };
  const tlvs = parseTlvs(addresses ? addresses.rest : command === 0 ? body : Buffer.alloc(0));
  if (!tlvs) return { kind: 'error', detail: 'malformed PROXY TLV' };
  if (command === 0) return { kind: 'header', header: { command: 'local', tlvs }, length };
  const header: ProxyV2Header = addresses
    ? { command: 'proxy', source: addresses.source, destination: addresses.destination, tlvs }
    : { command: 'proxy', source: undefined, destination: undefined, tlvs };
  return { kind: 'header', header, length };
}
