/**
 * What may precede the TLS handshake at a sidecar's public port, as a pure incremental parser:
 * a PROXY v2 header (required from trusted proxies, never accepted from anyone else), then, on a
 * PostgreSQL port, the SSLRequest the edge router replays (answered `S`). Everything after the
 * preamble is returned untouched for the TLS layer. Bounded: never buffers more than a PROXY
 * header plus 8 bytes.
 */
import { decodeProxyV2, type ProxyV2Header } from '../shared/proxy-protocol.ts';

/** `Int32 length 8, Int32 80877103`: PostgreSQL's request to start TLS. */
export const postgresSslRequest = Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]);
/** The server's "yes, TLS follows". */
export const postgresSslAccepted = Buffer.from('S');

export interface PreambleOptions {
  readonly expectProxyHeader: boolean;
  readonly postgres: boolean;
}

export type PreambleErrorReason = 'proxy_header_invalid' | 'postgres_not_tls';

export type PreambleStep =
  | { readonly kind: 'needMore' }
  | { readonly kind: 'done'; readonly proxyHeader: ProxyV2Header | undefined; readonly reply: Buffer | undefined; readonly rest: Buffer }
  | { readonly kind: 'error'; readonly reason: PreambleErrorReason; readonly detail: string };

const tlsHandshakeRecord = 0x16;

export function createPreambleParser(options: PreambleOptions): { feed(chunk: Buffer): PreambleStep } {
  let buffered: Buffer = Buffer.alloc(0);
  let proxyHeader: ProxyV2Header | undefined;
  let stage: 'proxy' | 'postgres' = options.expectProxyHeader ? 'proxy' : 'postgres';

  const postgresStage = (): PreambleStep => {
    if (!options.postgres) return finish(undefined, buffered);
    if (buffered.length === 0) return { kind: 'needMore' };
    // Direct TLS (a ClientHello first) is accepted too: PostgreSQL 17's sslnegotiation=direct.
    if (buffered[0] === tlsHandshakeRecord) return finish(undefined, buffered);
    const prefix = Math.min(buffered.length, postgresSslRequest.length);
    if (!buffered.subarray(0, prefix).equals(postgresSslRequest.subarray(0, prefix))) {
      return { kind: 'error', reason: 'postgres_not_tls', detail: 'the client neither sent SSLRequest nor started TLS' };
    }
    if (buffered.length < postgresSslRequest.length) return { kind: 'needMore' };
    return finish(postgresSslAccepted, buffered.subarray(postgresSslRequest.length));
  };

  const finish = (reply: Buffer | undefined, rest: Buffer): PreambleStep => ({ kind: 'done', proxyHeader, reply, rest });

  return {
    feed(chunk) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (stage === 'proxy') {
        const step = decodeProxyV2(buffered);
        if (step.kind === 'needMore') return { kind: 'needMore' };
        if (step.kind === 'error') return { kind: 'error', reason: 'proxy_header_invalid', detail: step.detail };
        proxyHeader = step.header;
        buffered = buffered.subarray(step.length);
        stage = 'postgres';
      }
      return postgresStage();
    },
  };
}
