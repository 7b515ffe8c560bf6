import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeProxyV2 } from '../shared/proxy-protocol.ts';
import { createPreambleParser, postgresSslRequest, type PreambleStep } from './preamble.ts';

const hello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
const header = encodeProxyV2({ address: '203.0.113.7', port: 4000 }, { address: '10.0.0.1', port: 443 });

/** Feeds `bytes` in chunks of `size` and returns the last step. */
function feed(options: { expectProxyHeader: boolean; postgres: boolean }, bytes: Buffer, size: number): PreambleStep {
  const parser = createPreambleParser(options);
  let step: PreambleStep = { kind: 'needMore' };
  for (let i = 0; i < bytes.length && step.kind === 'needMore'; i += size) step = parser.feed(bytes.subarray(i, i + size));
  return step;
}

describe('sidecar preamble', () => {
  for (const size of [1, 3, 1000]) {
    it(`reads PROXY v2 then SSLRequest then keeps the ClientHello intact, fed ${size} bytes at a time`, () => {
      const step = feed({ expectProxyHeader: true, postgres: true }, Buffer.concat([header, postgresSslRequest, hello]), size);
      assert.equal(step.kind, 'done');
      if (step.kind !== 'done') return;
      assert.equal(step.proxyHeader?.command === 'proxy' ? step.proxyHeader.source?.address : undefined, '203.0.113.7');
      assert.equal(step.reply?.toString(), 'S');
      assert.ok(hello.subarray(0, step.rest.length).equals(step.rest));
    });
  }

  it('accepts direct TLS on a PostgreSQL port without answering S', () => {
    const step = feed({ expectProxyHeader: false, postgres: true }, hello, 1000);
    assert.ok(step.kind === 'done' && step.reply === undefined && step.rest.equals(hello));
  });

  it('refuses a plaintext PostgreSQL startup message', () => {
    const step = feed({ expectProxyHeader: false, postgres: true }, Buffer.from([0, 0, 0, 40, 0, 3, 0, 0]), 1000);
    assert.equal(step.kind === 'error' ? step.reason : step.kind, 'postgres_not_tls');
  });

  it('requires a PROXY header from a trusted proxy', () => {
    const step = feed({ expectProxyHeader: true, postgres: false }, hello, 1000);
    assert.equal(step.kind === 'error' ? step.reason : step.kind, 'proxy_header_invalid');
  });
});
