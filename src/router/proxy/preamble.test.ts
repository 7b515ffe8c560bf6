import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeProxyV2 } from '../../shared/proxy-protocol.ts';
import { alpnExtension, clientHello, serverNameExtension } from '../testing/hello-builder.ts';
import { createPreambleParser, gssEncRequest, sslRequest, type PreambleOptions, type PreambleStep } from './preamble.ts';

/** Feeds one byte at a time, collecting replies, until the parser decides. */
function run(options: PreambleOptions, bytes: Buffer): { step: PreambleStep; replies: string } {
  const parser = createPreambleParser(options);
  let replies = '';
  let step: PreambleStep = { kind: 'needMore' };
  for (let i = 0; i < bytes.length && step.kind === 'needMore'; i += 1) {
    step = parser.feed(bytes.subarray(i, i + 1));
    if (step.kind !== 'error' && step.reply) replies += step.reply.toString();
  }
  return { step, replies };
}

const hello = clientHello([serverNameExtension('db.acme.test'), alpnExtension(['postgresql'])]);
const proxy = encodeProxyV2({ address: '203.0.113.9', port: 5555 }, { address: '127.0.0.1', port: 443 });

describe('createPreambleParser', () => {
  it('answers S to SSLRequest and then reads the ClientHello', () => {
    const { step, replies } = run({ expectProxyHeader: false, postgres: true }, Buffer.concat([sslRequest, hello]));
    assert.equal(replies, 'S');
    assert.equal(step.kind, 'done');
    if (step.kind !== 'done') return;
    assert.equal(step.preamble.postgres, 'ssl_request');
    assert.equal(step.preamble.hello.serverName, 'db.acme.test');
    assert.deepEqual(step.preamble.tls, hello);
  });

  it('refuses GSS encryption with N, then accepts SSLRequest', () => {
    const { step, replies } = run({ expectProxyHeader: false, postgres: true }, Buffer.concat([gssEncRequest, sslRequest, hello]));
    assert.equal(replies, 'NS');
    assert.equal(step.kind === 'done' && step.preamble.postgres, 'ssl_request');
  });

  it('accepts PostgreSQL 17 direct TLS without replying', () => {
    const { step, replies } = run({ expectProxyHeader: false, postgres: true }, hello);
    assert.equal(replies, '');
    assert.equal(step.kind === 'done' && step.preamble.postgres, 'direct_tls');
  });

  it('closes a plaintext PostgreSQL startup', () => {
    const startup = Buffer.from([0, 0, 0, 41, 0, 3, 0, 0, ...Buffer.from('user\0postgres\0database\0postgres\0\0')]);
    const { step } = run({ expectProxyHeader: false, postgres: true }, startup);
    assert.equal(step.kind === 'error' && step.reason, 'postgres_not_tls');
  });

  it('reads a PROXY v2 header from a trusted peer before the hello', () => {
    const { step } = run({ expectProxyHeader: true, postgres: false }, Buffer.concat([proxy, hello]));
    assert.equal(step.kind, 'done');
    if (step.kind !== 'done' || step.preamble.proxyHeader?.command !== 'proxy') return assert.fail('no proxy header');
    assert.equal(step.preamble.proxyHeader.source?.address, '203.0.113.9');
    assert.deepEqual(step.preamble.tls, hello);
  });

  it('requires the PROXY header from a trusted peer', () => {
    const { step } = run({ expectProxyHeader: true, postgres: false }, hello);
    assert.equal(step.kind === 'error' && step.reason, 'proxy_header_invalid');
  });

  it('reads PROXY, then SSLRequest, then the hello, delivered at once', () => {
    const step = createPreambleParser({ expectProxyHeader: true, postgres: true }).feed(Buffer.concat([proxy, sslRequest, hello]));
    assert.equal(step.kind, 'done');
    assert.equal(step.kind === 'done' && step.reply?.toString(), 'S');
  });
});
