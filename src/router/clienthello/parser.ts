/**
 * An incremental TLS ClientHello reader for SNI routing.
 *
 * Contract: `feed(chunk)` accepts the client's bytes in whatever pieces TCP delivers them (down
 * to one byte) and returns `needMore`, the parsed `hello`, or an `error` with a stable reason.
 * It never throws on hostile input and never buffers more than `maxBytes`; the deadline is the
 * socket layer's job. It reads only what routing needs (SNI, ALPN, ECH presence) and does not
 * gate on version fields (TLS 1.3 hellos claim 1.2 in the record layer by design).
 *
 * The handshake message may span several TLS records (RFC 8446 §5.1 allows fragmenting a
 * handshake message across records); records are reassembled before the hello is parsed.
 * Every length is checked against the bytes that contain it, so a large key share placed first
 * (X25519MLKEM768 adds ~1.2 KB) cannot shift the reader — the bug that made k8sniff miss SNI.
 */
import { normalizeServerName } from './names.ts';

const contentTypeHandshake = 22;
const handshakeTypeClientHello = 1;
const recordHeaderLength = 5;
const maxRecordPayload = 16384 + 2048; // RFC 8446 §5.2 ceiling for any record
const extensionServerName = 0;
const extensionAlpn = 16;
const extensionEncryptedClientHello = 0xfe0d;

/** The largest ClientHello body accepted (16 KiB), whatever the records carrying it. */
export const maxClientHelloLength = 16384;

/** Default cap on bytes read: a 16 KiB hello plus the headers of the records that carry it. */
export const defaultMaxHelloBytes = maxClientHelloLength + 1024;

export type NoSniReason = 'absent' | 'ip_literal' | 'sslv2';

export interface ClientHello {
  /** Normalized server name (lowercase, no trailing dot), or undefined on the no-SNI path. */
  readonly serverName: string | undefined;
  /** Why there is no server name; undefined when `serverName` is set. */
  readonly noSniReason: NoSniReason | undefined;
  /** ALPN protocol names in client preference order (empty when the extension is absent). */
  readonly alpn: readonly string[];
  /** True when the client offered Encrypted Client Hello; `serverName` is then the outer (public) name. */
  readonly encryptedClientHello: boolean;
  /** Bytes of the client's stream this hello occupied (record headers included). */
  readonly byteLength: number;
}

/** Stable reasons, used as metric labels and in the access log. */
export type HelloErrorReason =
  | 'not_tls'
  | 'not_client_hello'
  | 'too_large'
  | 'malformed'
  | 'invalid_server_name';

export type HelloStep =
  | { readonly kind: 'needMore' }
  | { readonly kind: 'hello'; readonly hello: ClientHello }
  | { readonly kind: 'error'; readonly reason: HelloErrorReason; readonly detail: string };

export interface ClientHelloParser {
  /** Offers the next bytes from the client. After a `hello` or `error`, further calls repeat it. */
  feed(chunk: Uint8Array): HelloStep;
}

const needMore: HelloStep = { kind: 'needMore' };

/** Appends without copying when one side is empty: most hellos arrive whole, in one segment, and are parsed in place. */
function append(head: Buffer, tail: Uint8Array): Buffer {
  if (tail.length === 0) return head;
  const view = Buffer.isBuffer(tail) ? tail : Buffer.from(tail.buffer, tail.byteOffset, tail.length);
  return head.length === 0 ? view : Buffer.concat([head, view]);
}

/** Creates a parser for one connection. */
export function createClientHelloParser(options: { maxBytes?: number } = {}): ClientHelloParser {
  const maxBytes = options.maxBytes ?? defaultMaxHelloBytes;
  let pending: Buffer = Buffer.alloc(0); // bytes of the current, incomplete record (header included)
  let handshake: Buffer = Buffer.alloc(0); // reassembled handshake payload so far
  let consumed = 0;
  let outcome: HelloStep | undefined;

  const fail = (reason: HelloErrorReason, detail: string): HelloStep => ({ kind: 'error', reason, detail });

  const step = (): HelloStep => {
    if (consumed === 0 && pending.length >= 1 && (pending[0]! & 0x80) !== 0) return sslv2(pending);
    for (;;) {
      if (pending.length < recordHeaderLength) return needMore;
      if (pending[0] !== contentTypeHandshake) {
        return fail(consumed === 0 ? 'not_tls' : 'malformed', `record content type ${pending[0]}, expected 22 (handshake)`);
      }
      const recordLength = pending.readUInt16BE(3);
      if (recordLength === 0) return fail('malformed', 'empty handshake record');
      if (recordLength > maxRecordPayload) return fail('malformed', `record length ${recordLength} exceeds the TLS maximum`);
      if (pending.length < recordHeaderLength + recordLength) return needMore;
      handshake = append(handshake, pending.subarray(recordHeaderLength, recordHeaderLength + recordLength));
      consumed += recordHeaderLength + recordLength;
      pending = pending.subarray(recordHeaderLength + recordLength);
      if (handshake[0] !== handshakeTypeClientHello) return fail('not_client_hello', `handshake type ${handshake[0]}, expected 1 (client_hello)`);
      if (handshake.length < 4) continue;
      const messageLength = handshake.readUIntBE(1, 3);
      if (messageLength > maxClientHelloLength) return fail('too_large', `client hello of ${messageLength} bytes exceeds the ${maxClientHelloLength}-byte cap`);
      if (handshake.length < 4 + messageLength) continue;
      return parseClientHelloBody(handshake.subarray(4, 4 + messageLength), consumed);
    }
  };

  const accept = (chunk: Uint8Array): HelloStep => {
    if (consumed + pending.length + chunk.length <= maxBytes) {
      pending = append(pending, chunk);
      return step();
    }
    // Only the bytes up to the cap matter; the rest belongs to no hello we would accept.
    const room = Math.max(0, maxBytes - consumed - pending.length);
    pending = Buffer.concat([pending, chunk.subarray(0, room)]);
    const result = step();
    return result.kind === 'needMore' ? fail('too_large', `no complete client hello within ${maxBytes} bytes`) : result;
  };

  return {
    feed(chunk) {
      if (outcome) return outcome;
      if (chunk.length === 0) return needMore;
      const result = accept(chunk);
      if (result.kind !== 'needMore') outcome = result;
      return result;
    },
  };
}

/**
 * SSLv2-compatible hellos (RFC 5246 appendix E.2) carry no extensions and so no SNI; they take
 * the no-SNI path once the 2-byte header shows a well-formed client hello.
 */
function sslv2(bytes: Buffer): HelloStep {
  if (bytes.length < 3) return needMore;
  const length = ((bytes[0]! & 0x7f) << 8) | bytes[1]!;
  if (bytes[2] !== handshakeTypeClientHello || length < 9) {
    return { kind: 'error', reason: 'not_tls', detail: 'high bit set but not an SSLv2-compatible client hello' };
  }
  if (bytes.length < 2 + length) return needMore;
  const hello: ClientHello = { serverName: undefined, noSniReason: 'sslv2', alpn: [], encryptedClientHello: false, byteLength: 2 + length };
  return { kind: 'hello', hello };
}

/** A bounds-checked cursor; every read returns undefined instead of reading past `end`. */
class Reader {
  readonly #bytes: Buffer;
  #offset: number;
  readonly #end: number;

  constructor(bytes: Buffer, offset = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#offset = offset;
    this.#end = end;
  }

  get remaining(): number {
    return this.#end - this.#offset;
  }

  skip(count: number): boolean {
    if (count > this.remaining) return false;
    this.#offset += count;
    return true;
  }

  u8(): number | undefined {
    return this.remaining >= 1 ? this.#bytes[this.#offset++] : undefined;
  }

  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const value = this.#bytes.readUInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }

  /** A sub-reader over the next `length` bytes, or undefined if they are not all present. */
  take(length: number): Reader | undefined {
    if (length > this.remaining) return undefined;
    const sub = new Reader(this.#bytes, this.#offset, this.#offset + length);
    this.#offset += length;
    return sub;
  }

  vector8(): Reader | undefined {
    const length = this.u8();
    return length === undefined ? undefined : this.take(length);
  }

  vector16(): Reader | undefined {
    const length = this.u16();
    return length === undefined ? undefined : this.take(length);
  }

  rest(): Buffer {
    return this.#bytes.subarray(this.#offset, this.#end);
  }
}

interface Extensions {
  serverName?: Reader;
  alpn?: Reader;
  encryptedClientHello: boolean;
}

function malformed(detail: string): HelloStep {
  return { kind: 'error', reason: 'malformed', detail };
}

/** Parses the ClientHello body (RFC 8446 §4.1.2) after the 4-byte handshake header. */
function parseClientHelloBody(body: Buffer, byteLength: number): HelloStep {
  const extensions = readExtensions(new Reader(body));
  if (typeof extensions === 'string') return malformed(extensions);
  const alpn = extensions.alpn ? parseAlpn(extensions.alpn) : [];
  if (alpn === undefined) return malformed('bad ALPN extension');
  const name = extensions.serverName ? parseServerName(extensions.serverName) : { kind: 'absent' as const };
  if (name.kind === 'malformed') return malformed('bad server_name extension');
  if (name.kind === 'invalid') return { kind: 'error', reason: 'invalid_server_name', detail: name.detail };
  const hello: ClientHello = {
    serverName: name.kind === 'name' ? name.name : undefined,
    noSniReason: name.kind === 'name' ? undefined : name.kind,
    alpn,
    encryptedClientHello: extensions.encryptedClientHello,
    byteLength,
  };
  return { kind: 'hello', hello };
}

/** Skips the fixed fields and returns the extensions, or a description of what was malformed. */
function readExtensions(reader: Reader): Extensions | string {
  if (!reader.skip(2 + 32)) return 'truncated before session id';
  const sessionId = reader.vector8();
  if (!sessionId || sessionId.remaining > 32) return 'bad session id';
  const cipherSuites = reader.vector16();
  if (!cipherSuites || cipherSuites.remaining === 0 || cipherSuites.remaining % 2 !== 0) return 'bad cipher suites';
  const compression = reader.vector8();
  if (!compression || compression.remaining === 0) return 'bad compression methods';
  if (reader.remaining === 0) return { encryptedClientHello: false };
  const block = reader.vector16();
  if (!block || reader.remaining !== 0) return 'extensions length does not match the hello';
  return collectExtensions(block);
}

/** Keeps a reader only for the extensions routing reads (SNI, ALPN); the others are skipped in place. */
function collectExtensions(block: Reader): Extensions | string {
  const seen = new Set<number>();
  const found: Extensions = { encryptedClientHello: false };
  while (block.remaining > 0) {
    const type = block.u16();
    const length = block.u16();
    if (type === undefined || length === undefined || length > block.remaining) return 'truncated extension';
    if (seen.has(type)) return `duplicate extension ${type}`; // RFC 8446 §4.2
    seen.add(type);
    if (type === extensionServerName) found.serverName = block.take(length);
    else if (type === extensionAlpn) found.alpn = block.take(length);
    else {
      if (type === extensionEncryptedClientHello) found.encryptedClientHello = true;
      block.skip(length);
    }
  }
  return found;
}

function parseAlpn(data: Reader): string[] | undefined {
  const list = data.vector16();
  if (!list || data.remaining !== 0 || list.remaining === 0) return undefined;
  const protocols: string[] = [];
  while (list.remaining > 0) {
    const protocol = list.vector8();
    if (!protocol || protocol.remaining === 0) return undefined;
    protocols.push(protocol.rest().toString('latin1'));
  }
  return protocols;
}

type ServerNameResult =
  | { kind: 'name'; name: string }
  | { kind: 'absent' | 'ip_literal' }
  | { kind: 'invalid'; detail: string }
  | { kind: 'malformed' };

/** RFC 6066 §3: one host_name entry; other name types are skipped, a second host_name is an error. */
function parseServerName(data: Reader): ServerNameResult {
  const list = data.vector16();
  if (!list || data.remaining !== 0 || list.remaining === 0) return { kind: 'malformed' };
  let hostName: Buffer | undefined;
  while (list.remaining > 0) {
    const nameType = list.u8();
    const name = nameType === undefined ? undefined : list.vector16();
    if (nameType === undefined || !name) return { kind: 'malformed' };
    if (nameType !== 0) continue;
    if (hostName) return { kind: 'malformed' };
    hostName = name.rest();
  }
  if (!hostName || hostName.length === 0) return { kind: 'absent' };
  const normalized = normalizeServerName(hostName.toString('latin1'));
  if (normalized.kind === 'ip_literal') return { kind: 'ip_literal' };
  if (normalized.kind === 'invalid') return { kind: 'invalid', detail: normalized.detail };
  return { kind: 'name', name: normalized.name };
}
