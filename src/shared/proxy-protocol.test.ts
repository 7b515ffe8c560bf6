import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProxyV2, encodeProxyV2, type ProxyV2Step } from './proxy-protocol.ts';

function decodeInPieces(bytes: Buffer): ProxyV2Step {
  let step: ProxyV2Step = { kind: 'needMore' };
  for (let n = 1; n <= bytes.length && step.kind === 'needMore'; n += 1) step = decodeProxyV2(bytes.subarray(0, n));
  return step;
}

describe('PROXY protocol v2', () => {
  const cases: [string, string, string][] = [
    ['round-trips an IPv4 connection', '192.0.2.7', '198.51.100.1'],
    ['round-trips an IPv6 connection', '2001:db8::7', '::1'],
    ['maps IPv4 into IPv6 when families differ', '192.0.2.7', '2001:db8::1'],
  ];
  for (const [title, source, destination] of cases) {
    it(title, () => {
      const bytes = Buffer.concat([encodeProxyV2({ address: source, port: 40000 }, { address: destination, port: 443 }, [{ type: 0x02, value: Buffer.from('a.test') }]), Buffer.from('payload')]);
      const step = decodeInPieces(bytes);
      assert.equal(step.kind, 'header');
      if (step.kind !== 'header' || step.header.command !== 'proxy') return;
      assert.equal(bytes.subarray(step.length).toString(), 'payload');
      assert.equal(step.header.source?.port, 40000);
      assert.equal(step.header.destination?.port, 443);
      const expectedSource = source.includes(':') || !destination.includes(':') ? source : `::ffff:${source}`;
      assert.equal(step.header.source?.address.replace(/^::ffff:c000:207$/, '::ffff:192.0.2.7'), expectedSource);
      assert.deepEqual(step.header.tlvs, [{ type: 2, value: Buffer.from('a.test') }]);
    });
  }

  it('encodes and decodes a LOCAL header', () => {
    const step = decodeProxyV2(encodeProxyV2(undefined));
    assert.equal(step.kind === 'header' && step.header.command, 'local');
  });

  it('matches the reference bytes for 127.0.0.1:1234 → 127.0.0.2:443', () => {
    assert.equal(
      encodeProxyV2({ address: '127.0.0.1', port: 1234 }, { address: '127.0.0.2', port: 443 }).toString('hex'),
      '0d0a0d0a000d0a515549540a' + '21' + '11' + '000c' + '7f000001' + '7f000002' + '04d2' + '01bb',
    );
  });

  const bad: [string, Buffer, string][] = [
    ['rejects a client that sends TLS instead', Buffer.from([22, 3, 1, 0, 5]), 'missing PROXY v2 signature'],
    ['rejects the text PROXY v1 form', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'missing PROXY v2 signature'],
    ['rejects version 1 in the binary header', Buffer.concat([encodeProxyV2(undefined).subarray(0, 12), Buffer.from([0x11, 0, 0, 0])]), 'unsupported PROXY protocol version 1'],
    ['rejects an address block shorter than its family', Buffer.concat([encodeProxyV2(undefined).subarray(0, 12), Buffer.from([0x21, 0x11, 0, 4, 1, 2, 3, 4])]), 'PROXY header too short for its address family'],
    ['rejects an oversized header', Buffer.concat([encodeProxyV2(undefined).subarray(0, 12), Buffer.from([0x21, 0x11, 0xff, 0xff])]), 'PROXY header of 65551 bytes is too long'],
  ];
  for (const [title, bytes, detail] of bad) it(title, () => assert.deepEqual(decodeInPieces(bytes), { kind: 'error', detail }));
});
