/**
 * Test support: builds ClientHello bytes with chosen extensions, order and record split, so the
 * parser can be tested on hellos no single TLS stack sends (permuted orders, post-quantum key
 * shares first, many records, hostile lengths).
 */
import { randomBytes } from 'node:crypto';

export interface Extension {
  readonly type: number;
  readonly data: Buffer;
}

function u16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
}

function vector16(data: Buffer): Buffer {
  return Buffer.concat([u16(data.length), data]);
}

function vector8(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([data.length]), data]);
}

export function serverNameExtension(name: string): Extension {
  const entry = Buffer.concat([Buffer.from([0]), vector16(Buffer.from(name, 'latin1'))]);
  return { type: 0, data: vector16(entry) };
}

export function alpnExtension(protocols: readonly string[]): Extension {
  return { type: 16, data: vector16(Buffer.concat(protocols.map((p) => vector8(Buffer.from(p))))) };
}

/** A key_share extension with an X25519MLKEM768 share (group 0x11ec, 1216 bytes) and an X25519 share. */
export function postQuantumKeyShareExtension(): Extension {
  const share = (group: number, length: number): Buffer => Buffer.concat([u16(group), vector16(randomBytes(length))]);
  return { type: 51, data: vector16(Buffer.concat([share(0x11ec, 1216), share(0x001d, 32)])) };
}

export function supportedVersionsExtension(): Extension {
  return { type: 43, data: vector8(Buffer.from([0x03, 0x04, 0x03, 0x03])) };
}

export function paddingExtension(length: number): Extension {
  return { type: 21, data: Buffer.alloc(length) };
}

export function encryptedClientHelloExtension(): Extension {
  return { type: 0xfe0d, data: randomBytes(200) };
}

/** The handshake message (type + 24-bit length + body). */
export function clientHelloMessage(extensions: readonly Extension[] | undefined): Buffer {
  const parts = [
    Buffer.from([0x03, 0x03]),
    randomBytes(32),
    vector8(randomBytes(32)),
    vector16(Buffer.from([0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f])),
    vector8(Buffer.from([0])),
  ];
  if (extensions) parts.push(vector16(Buffer.concat(extensions.map((e) => Buffer.concat([u16(e.type), vector16(e.data)])))));
  const body = Buffer.concat(parts);
  const header = Buffer.from([1, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]);
  return Buffer.concat([header, body]);
}

/** Wraps a handshake message in TLS records of at most `recordSize` payload bytes each. */
export function inRecords(message: Buffer, recordSize = 16384): Buffer {
  const records: Buffer[] = [];
  for (let offset = 0; offset < message.length; offset += recordSize) {
    const fragment = message.subarray(offset, offset + recordSize);
    records.push(Buffer.concat([Buffer.from([22, 3, 1]), u16(fragment.length), fragment]));
  }
  return Buffer.concat(records);
}

export function clientHello(extensions: readonly Extension[] | undefined, recordSize?: number): Buffer {
  return inRecords(clientHelloMessage(extensions), recordSize);
}

/** An SSLv2-compatible CLIENT-HELLO (RFC 5246 appendix E.2) offering TLS 1.2. */
export function sslv2ClientHello(): Buffer {
  const body = Buffer.concat([Buffer.from([1, 3, 3]), u16(3), u16(0), u16(16), Buffer.from([0, 0, 0x2f]), randomBytes(16)]);
  return Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
}
