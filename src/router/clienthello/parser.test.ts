import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureNodeHello, captureOpensslHello } from '../testing/capture.ts';
import {
  alpnExtension,
  clientHello,
  clientHelloMessage,
  encryptedClientHelloExtension,
  inRecords,
  paddingExtension,
  postQuantumKeyShareExtension,
  serverNameExtension,
  sslv2ClientHello,
  supportedVersionsExtension,
  type Extension,
} from '../testing/hello-builder.ts';
import { createClientHelloParser, type HelloStep } from './parser.ts';

/** Feeds `bytes` in pieces of `size` and returns the first non-needMore step (or the last needMore). */
function feedInPieces(bytes: Buffer, size: number, maxBytes?: number): HelloStep {
  const parser = createClientHelloParser(maxBytes === undefined ? {} : { maxBytes });
  let step: HelloStep = { kind: 'needMore' };
  for (let offset = 0; offset < bytes.length; offset += size) {
    step = parser.feed(bytes.subarray(offset, offset + size));
    if (step.kind !== 'needMore') return step;
  }
  return step;
}

function helloOf(step: HelloStep) {
  assert.equal(step.kind, 'hello', step.kind === 'error' ? `${step.reason}: ${step.detail}` : 'parser wants more bytes');
  return step.hello;
}

function errorOf(step: HelloStep) {
  assert.equal(step.kind, 'error');
  return step;
}

const typical: Extension[] = [serverNameExtension('app.test'), supportedVersionsExtension(), alpnExtension(['h2', 'http/1.1']), postQuantumKeyShareExtension()];

describe('parseClientHello on constructed hellos', () => {
  const cases: { name: string; bytes: Buffer; serverName?: string; noSni?: string; alpn?: string[] }[] = [
    { name: 'reads SNI and ALPN from a typical TLS 1.3 hello', bytes: clientHello(typical), serverName: 'app.test', alpn: ['h2', 'http/1.1'] },
    {
      name: 'reads SNI behind a post-quantum key share placed first',
      bytes: clientHello([postQuantumKeyShareExtension(), paddingExtension(300), serverNameExtension('db.acme.test')]),
      serverName: 'db.acme.test',
    },
    {
      name: 'reads a hello spread over many small records',
      bytes: clientHello(typical, 7),
      serverName: 'app.test',
      alpn: ['h2', 'http/1.1'],
    },
    { name: 'lowercases the name and strips one trailing dot', bytes: clientHello([serverNameExtension('App.TEST.')]), serverName: 'app.test' },
    { name: 'takes the no-SNI path when there is no server_name extension', bytes: clientHello([alpnExtension(['h2'])]), noSni: 'absent', alpn: ['h2'] },
    { name: 'takes the no-SNI path when there are no extensions at all', bytes: clientHello(undefined), noSni: 'absent' },
    { name: 'treats an IPv4 literal SNI as no SNI', bytes: clientHello([serverNameExtension('127.0.0.1')]), noSni: 'ip_literal' },
    { name: 'treats an IPv6 literal SNI as no SNI', bytes: clientHello([serverNameExtension('::1')]), noSni: 'ip_literal' },
    { name: 'takes the no-SNI path for an SSLv2-compatible hello', bytes: sslv2ClientHello(), noSni: 'sslv2' },
    { name: 'reads the outer SNI of an ECH hello', bytes: clientHello([encryptedClientHelloExtension(), serverNameExtension('public.test')]), serverName: 'public.test' },
    { name: 'accepts a hello near the 16 KiB cap', bytes: clientHello([paddingExtension(16000), serverNameExtension('big.test')]), serverName: 'big.test' },
    { name: 'reads ALPN postgresql used by PostgreSQL 17 direct TLS', bytes: clientHello([alpnExtension(['postgresql']), serverNameExtension('pg.test')]), serverName: 'pg.test', alpn: ['postgresql'] },
  ];
  for (const c of cases) {
    for (const size of [1, 3, 100, 1 << 20]) {
      it(`${c.name} (segments of ${size} bytes)`, () => {
        const hello = helloOf(feedInPieces(c.bytes, size));
        assert.equal(hello.serverName, c.serverName);
        assert.equal(hello.noSniReason, c.noSni);
        assert.deepEqual(hello.alpn, c.alpn ?? []);
        assert.equal(hello.byteLength, c.bytes.length);
      });
    }
  }

  it('reads SNI in every order of four extensions (Chrome permutes them)', () => {
    const permutations = (items: Extension[]): Extension[][] =>
      items.length <= 1 ? [items] : items.flatMap((item, i) => permutations(items.filter((_, j) => j !== i)).map((rest) => [item, ...rest]));
    const all = permutations(typical);
    assert.equal(all.length, 24);
    for (const order of all) {
      const hello = helloOf(feedInPieces(clientHello(order, 512), 97));
      assert.equal(hello.serverName, 'app.test');
      assert.deepEqual(hello.alpn, ['h2', 'http/1.1']);
    }
  });

  it('marks an ECH hello', () => {
    assert.equal(helloOf(feedInPieces(clientHello([encryptedClientHelloExtension(), serverNameExtension('p.test')]), 50)).encryptedClientHello, true);
  });
});

describe('parseClientHello on bad input', () => {
  const message = clientHelloMessage(typical);
  const cases: { name: string; bytes: Buffer; reason: string }[] = [
    { name: 'rejects plaintext HTTP as not TLS', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), reason: 'not_tls' },
    { name: 'rejects a TLS alert record as not TLS', bytes: Buffer.from([21, 3, 1, 0, 2, 2, 40]), reason: 'not_tls' },
    { name: 'rejects a server hello', bytes: inRecords(Buffer.concat([Buffer.from([2]), message.subarray(1)])), reason: 'not_client_hello' },
    { name: 'rejects an empty handshake record', bytes: Buffer.from([22, 3, 1, 0, 0]), reason: 'malformed' },
    { name: 'rejects a non-handshake record in the middle of the hello', bytes: Buffer.concat([inRecords(message.subarray(0, 10)), Buffer.from([23, 3, 3, 0, 1, 0])]), reason: 'malformed' },
    { name: 'rejects a hello whose declared length exceeds the cap', bytes: Buffer.from([22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x00]), reason: 'too_large' },
    { name: 'rejects a hello larger than 16 KiB', bytes: clientHello([paddingExtension(17000), serverNameExtension('a.test')]), reason: 'too_large' },
    { name: 'rejects a name with invalid characters', bytes: clientHello([serverNameExtension('bad name.test')]), reason: 'invalid_server_name' },
    { name: 'rejects a name with two trailing dots', bytes: clientHello([serverNameExtension('a.test..')]), reason: 'invalid_server_name' },
    { name: 'rejects a label longer than 63 characters', bytes: clientHello([serverNameExtension(`${'a'.repeat(64)}.test`)]), reason: 'invalid_server_name' },
    { name: 'rejects duplicate extensions', bytes: clientHello([serverNameExtension('a.test'), serverNameExtension('b.test')]), reason: 'malformed' },
    { name: 'rejects an extension whose length overruns the block', bytes: clientHello([{ type: 0, data: Buffer.from([0, 40, 0, 0, 3, 97]) }]), reason: 'malformed' },
    { name: 'rejects an empty ALPN protocol name', bytes: clientHello([alpnExtension([''])]), reason: 'malformed' },
    { name: 'rejects a hello truncated inside its body', bytes: inRecords(Buffer.concat([Buffer.from([1, 0, 0, 10]), Buffer.alloc(10)])), reason: 'malformed' },
  ];
  for (const c of cases) {
    for (const size of [1, 1 << 20]) {
      it(`${c.name} (segments of ${size} bytes)`, () => assert.equal(errorOf(feedInPieces(c.bytes, size)).reason, c.reason));
    }
  }

  it('waits for more bytes while a record is incomplete and repeats its verdict after it', () => {
    const parser = createClientHelloParser();
    const bytes = clientHello(typical);
    assert.equal(parser.feed(bytes.subarray(0, bytes.length - 1)).kind, 'needMore');
    assert.equal(parser.feed(bytes.subarray(bytes.length - 1)).kind, 'hello');
    assert.equal(parser.feed(Buffer.from('anything')).kind, 'hello');
  });

  it('stops at the byte cap when a client streams tiny records forever', () => {
    const parser = createClientHelloParser({ maxBytes: 4096 });
    const header = clientHelloMessage(typical).subarray(0, 4);
    let step = parser.feed(inRecords(header, 4));
    let fed = 9;
    while (step.kind === 'needMore' && fed < 100_000) {
      step = parser.feed(Buffer.from([22, 3, 1, 0, 1, 0]));
      fed += 6;
    }
    assert.equal(errorOf(step).reason, 'too_large');
    assert.ok(fed <= 4096 + 6);
  });
});

describe('parseClientHello on hellos captured from real TLS stacks', () => {
  const cases: { name: string; capture: () => Promise<Buffer>; serverName?: string; alpn?: string[] }[] = [
    { name: "reads Node's TLS client hello", capture: () => captureNodeHello({ servername: 'node.test', ALPNProtocols: ['h2', 'http/1.1'] }), serverName: 'node.test', alpn: ['h2', 'http/1.1'] },
    {
      name: "reads Node's TLS client hello with a 200-entry ALPN list and an upper-case name",
      capture: () => captureNodeHello({ servername: 'Big.Node.Test', ALPNProtocols: Array.from({ length: 200 }, (_, i) => `proto-${i}`) }),
      serverName: 'big.node.test',
    },
    { name: "takes the no-SNI path for Node's client connecting by IP", capture: () => captureNodeHello({}) },
    { name: 'reads the hello of openssl s_client', capture: () => captureOpensslHello(['-servername', 'openssl.test', '-alpn', 'postgresql']), serverName: 'openssl.test', alpn: ['postgresql'] },
    { name: 'reads the TLS 1.2 hello of openssl s_client', capture: () => captureOpensslHello(['-servername', 'tls12.test', '-tls1_2']), serverName: 'tls12.test' },
  ];
  it("sees Node 26's default X25519MLKEM768 key share make its hello span more than one segment", async () => {
    const bytes = await captureNodeHello({ servername: 'pq.test' });
    assert.ok(bytes.length > 1500, `hello of ${bytes.length} bytes`);
    assert.ok(bytes.includes(Buffer.from([0x11, 0xec])), 'no X25519MLKEM768 group offered');
    assert.equal(helloOf(feedInPieces(bytes, 1)).serverName, 'pq.test');
  });

  for (const c of cases) {
    it(c.name, async () => {
      const bytes = await c.capture();
      for (const size of [1, 5, 1 << 20]) {
        const hello = helloOf(feedInPieces(bytes, size));
        assert.equal(hello.serverName, c.serverName);
        if (c.alpn) assert.deepEqual(hello.alpn, c.alpn);
      }
    });
  }
});
