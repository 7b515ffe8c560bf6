/**
 * Everything a client sends before its ClientHello can be routed, as one pure incremental
 * state machine: an optional PROXY v2 header (only from trusted load balancers), an optional
 * PostgreSQL SSLRequest (answered `S`) or GSSENCRequest (answered `N`, after which libpq sends
 * SSLRequest), then the ClientHello. `feed` returns bytes to send back to the client, if any,
 * and finally the hello with every byte after the preamble, which the proxy replays to the backend.
 */
import { decodeProxyV2, type ProxyV2Header } from '../../shared/proxy-protocol.ts';
import { createClientHelloParser, type ClientHello, type HelloErrorReason } from '../clienthello/parser.ts';

/** `Int32 length 8, Int32 80877103` — PostgreSQL's request to start TLS. */
export const sslRequest = Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]);
/** `Int32 length 8, Int32 80877104` — PostgreSQL's request to start GSSAPI encryption. */
export const gssEncRequest = Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x30]);

export type PostgresStart = 'ssl_request' | 'direct_tls';

export type PreambleErrorReason = HelloErrorReason | 'proxy_header_invalid' | 'postgres_not_tls';

export interface Preamble {
  readonly hello: ClientHello;
  readonly proxyHeader: ProxyV2Header | undefined;
  readonly postgres: PostgresStart | undefined;
  /** The client's bytes after the preamble (the TLS records, and anything sent after them). */
  readonly tls: Buffer;
}

export type PreambleStep =
  | { readonly kind: 'needMore'; readonly reply?: Buffer }
  | { readonly kind: 'done'; readonly preamble: Preamble; readonly reply?: Buffer }
  | { readonly kind: 'error'; readonly reason: PreambleErrorReason; readonly detail: string };

export interface PreambleOptions {
  /** The peer is a trusted load balancer: a PROXY v2 header is required first. */
  readonly expectProxyHeader: boolean;
  /** The PostgreSQL listener: accept SSLRequest/GSSENCRequest or direct TLS. */
  readonly postgres: boolean;
  readonly maxHelloBytes?: number;
}

type Stage = 'proxy' | 'postgres' | 'hello';

export interface PreambleParser {
  /** Offers the client's next bytes; the parser may keep a reference to `chunk` (it never writes to it). */
  feed(chunk: Buffer): PreambleStep;
}

const empty: Buffer = Buffer.alloc(0);

/** Appends without copying when one side is empty: the usual case is a whole preamble in one segment. */
function append(head: Buffer, tail: Buffer): Buffer {
  if (head.length === 0) return tail;
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

export function createPreambleParser(options: PreambleOptions): PreambleParser {
  let stage: Stage = options.expectProxyHeader ? 'proxy' : options.postgres ? 'postgres' : 'hello';
  let buffered = empty;
  let proxyHeader: ProxyV2Header | undefined;
  let postgres: PostgresStart | undefined;
  let gssRefused = false;
  const hello = createClientHelloParser(options.maxHelloBytes === undefined ? {} : { maxBytes: options.maxHelloBytes });
  let tls = empty;

  const afterProxy = (): Stage => (options.postgres ? 'postgres' : 'hello');

  /** One transition on the buffered bytes; undefined means "advance and run again". */
  const advance = (): PreambleStep | undefined => {
    if (stage === 'proxy') {
      const step = decodeProxyV2(buffered);
      if (step.kind === 'needMore') return { kind: 'needMore' };
      if (step.kind === 'error') return { kind: 'error', reason: 'proxy_header_invalid', detail: step.detail };
      proxyHeader = step.header;
      buffered = buffered.subarray(step.length);
      stage = afterProxy();
      return undefined;
    }
    if (stage === 'postgres') return postgresStart();
    const rest = buffered;
    buffered = empty;
    tls = append(tls, rest);
    const step = rest.length === 0 ? { kind: 'needMore' as const } : hello.feed(rest);
    if (step.kind === 'needMore') return { kind: 'needMore' };
    if (step.kind === 'error') return step;
    return { kind: 'done', preamble: { hello: step.hello, proxyHeader, postgres, tls } };
  };

  const postgresStart = (): PreambleStep | undefined => {
    if (buffered.length >= 1 && buffered[0] === 22) {
      postgres = 'direct_tls';
      stage = 'hello';
      return undefined;
    }
    const prefix = buffered.subarray(0, 8);
    const could = (request: Buffer): boolean => request.subarray(0, prefix.length).equals(prefix);
    if (!gssRefused && could(gssEncRequest)) {
      if (buffered.length < 8) return { kind: 'needMore' };
      gssRefused = true;
      buffered = buffered.subarray(8);
      return { kind: 'needMore', reply: Buffer.from('N') };
    }
    if (could(sslRequest)) {
      if (buffered.length < 8) return { kind: 'needMore' };
      postgres = 'ssl_request';
      buffered = buffered.subarray(8);
      stage = 'hello';
      return { kind: 'needMore', reply: Buffer.from('S') };
    }
    return { kind: 'error', reason: 'postgres_not_tls', detail: 'client did not request TLS (sslmode=disable, or not PostgreSQL)' };
  };

  let finished: PreambleStep | undefined;
  return {
    feed(chunk) {
      if (finished) return finished;
      buffered = append(buffered, chunk);
      const replies: Buffer[] = [];
      for (let round = 0; round < 8; round += 1) {
        const step = advance();
        if (step === undefined) continue;
        if (step.kind === 'needMore' && step.reply) {
          replies.push(step.reply);
          continue;
        }
        if (step.kind === 'error') return (finished = step);
        const reply = replies.length > 0 ? Buffer.concat(replies) : undefined;
        if (step.kind === 'done') {
          finished = { kind: 'done', preamble: step.preamble };
          return reply ? { ...finished, reply } : finished;
        }
        return reply ? { kind: 'needMore', reply } : step;
      }
      return { kind: 'error', reason: 'malformed', detail: 'preamble did not settle' };
    },
  };
}
