import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { encodeProxyV2 } from '../shared/proxy-protocol.ts';
import { buildCertificateSet, type CertificateSet } from './certificates.ts';
import { createIntake, trustedList } from './intake.ts';
import type { RefusalReason } from './metrics.ts';
import type { ClientOrigin } from './proxy.ts';
import { closeLocal, listenLocal, tenantPki } from './testing.ts';

type Outcome = { admitted: ClientOrigin; firstByte: number } | { refused: RefusalReason };

/** An intake on 127.0.0.1 whose every connection resolves the next awaited outcome. */
async function startIntake(certificates: CertificateSet, trusted: string[]) {
  const outcomes: ((outcome: Outcome) => void)[] = [];
  const settle = (outcome: Outcome): void => outcomes.shift()?.(outcome);
  const intake = createIntake({
    trusted: trustedList(trusted),
    forwarders: trustedList([]),
    deadlineMs: 5000,
    certificates: () => certificates,
    refuse: (reason) => settle({ refused: reason }),
    admit: (socket, origin) => {
      socket.once('data', (chunk: Buffer) => {
        settle({ admitted: origin, firstByte: chunk[0] ?? -1 });
        socket.destroy();
      });
      socket.resume();
    },
  });
  const server = net.createServer(intake);
  const port = await listenLocal(server);
  return {
    port,
    next: () => new Promise<Outcome>((resolve) => outcomes.push(resolve)),
    close: () => closeLocal(server),
  };
}

/** Connects, writes `preamble` one byte at a time, then starts a TLS handshake for `servername`. */
async function connect(port: number, preamble: Buffer, servername: string | undefined): Promise<{ localPort: number }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const byte of preamble) socket.write(Buffer.from([byte]));
  const secure = tls.connect({ socket, ...(servername ? { servername } : {}), rejectUnauthorized: false });
  secure.on('error', () => {});
  return { localPort: socket.localPort ?? 0 };
}

describe('connection intake', () => {
  let certificates: CertificateSet;
  before(async () => {
    const pki = await tenantPki('acme', ['*.acme.example']);
    certificates = buildCertificateSet([await pki.leaf('app.acme.example')]);
  });

  describe('from a trusted edge', () => {
    let intake: Awaited<ReturnType<typeof startIntake>>;
    before(async () => (intake = await startIntake(certificates, ['127.0.0.1/32'])));
    after(() => intake.close());

    it('takes the client address from a PROXY v2 header split into single bytes', async () => {
      const outcome = intake.next();
      await connect(intake.port, encodeProxyV2({ address: '203.0.113.9', port: 40000 }, { address: '127.0.0.1', port: 443 }), 'app.acme.example');
      assert.deepEqual(await outcome, { admitted: { address: '203.0.113.9', port: 40000, trusted: false }, firstByte: 0x16 });
    });

    it('uses the edge itself for a PROXY LOCAL header (health checks)', async () => {
      const outcome = intake.next();
      const { localPort } = await connect(intake.port, encodeProxyV2(undefined), 'app.acme.example');
      assert.deepEqual(await outcome, { admitted: { address: '127.0.0.1', port: localPort, trusted: false }, firstByte: 0x16 });
    });

    it('refuses a connection without the PROXY header', async () => {
      const outcome = intake.next();
      await connect(intake.port, Buffer.alloc(0), 'app.acme.example');
      assert.deepEqual(await outcome, { refused: 'proxy_header_invalid' });
    });

    it('refuses an SNI no certificate covers', async () => {
      const outcome = intake.next();
      await connect(intake.port, encodeProxyV2({ address: '203.0.113.9', port: 40000 }, { address: '127.0.0.1', port: 443 }), 'app.globex.example');
      assert.deepEqual(await outcome, { refused: 'unknown_sni' });
    });

    it('refuses a hello without SNI', async () => {
      const outcome = intake.next();
      await connect(intake.port, encodeProxyV2({ address: '203.0.113.9', port: 40000 }, { address: '127.0.0.1', port: 443 }), undefined);
      assert.deepEqual(await outcome, { refused: 'no_sni' });
    });
  });

  describe('from an untrusted peer', () => {
    let intake: Awaited<ReturnType<typeof startIntake>>;
    before(async () => (intake = await startIntake(certificates, [])));
    after(() => intake.close());

    it('uses the peer address', async () => {
      const outcome = intake.next();
      const { localPort } = await connect(intake.port, Buffer.alloc(0), 'app.acme.example');
      assert.deepEqual(await outcome, { admitted: { address: '127.0.0.1', port: localPort, trusted: false }, firstByte: 0x16 });
    });

    it('does not believe a PROXY header (it is not TLS)', async () => {
      const outcome = intake.next();
      await connect(intake.port, encodeProxyV2({ address: '203.0.113.9', port: 40000 }, { address: '127.0.0.1', port: 443 }), 'app.acme.example');
      assert.deepEqual(await outcome, { refused: 'hello_invalid' });
    });
  });
});
