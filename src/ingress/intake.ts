/**
 * Connection intake (before TLS): reads the PROXY v2 header that trusted edge routers must send,
 * then the ClientHello, and admits the connection to the TLS server only if its SNI names one of
 * the tenant's certificates. Everything is read incrementally under one deadline.
 *
 * Trust stance: a PROXY header is required from, and only believed from, peers in the trusted
 * CIDRs; other peers are their own client address, and a PROXY header from them is just bytes
 * that fail the TLS hello. Unknown or absent SNI is refused with an `unrecognized_name` alert, so
 * no certificate of this tenant is shown for a name it does not serve.
 */
import net from 'node:net';
import { createClientHelloParser } from '../router/index.ts';
import { decodeProxyV2 } from '../shared/proxy-protocol.ts';
import type { CertificateSet } from './certificates.ts';
import type { RefusalReason } from './metrics.ts';
import type { ClientOrigin } from './proxy.ts';

const alertUnrecognizedName = 112;
const alertDecodeError = 50;

function tlsAlert(description: number): Buffer {
  return Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]);
}

export interface IntakeOptions {
  /** Edge routers: must send PROXY v2, and their reported client address is believed. */
  readonly trusted: net.BlockList;
  /** Clients whose own X-Forwarded-* headers are believed (see forwarding.ts). */
  readonly forwarders: net.BlockList;
  readonly deadlineMs: number;
  certificates(): CertificateSet;
  /** The socket is paused with the hello bytes unshifted; hand it to the TLS server. */
  admit(socket: net.Socket, origin: ClientOrigin): void;
  refuse(reason: RefusalReason): void;
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return net.isIPv4(address) ? 'ipv4' : 'ipv6';
}

export function isTrusted(list: net.BlockList, address: string): boolean {
  return net.isIP(address) !== 0 && list.check(address, familyOf(address));
}

/** Builds a BlockList from CIDRs (`10.0.0.0/8`, `::1/128`) or single addresses. */
export function trustedList(cidrs: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix] = cidr.split('/');
    if (prefix === undefined) list.addAddress(address, familyOf(address));
    else list.addSubnet(address, Number(prefix), familyOf(address));
  }
  return list;
}

export function createIntake(options: IntakeOptions): (socket: net.Socket) => void {
  return (socket) => {
    const peerAddress = socket.remoteAddress ?? '';
    const peer: ClientOrigin = { address: peerAddress, port: socket.remotePort ?? 0, trusted: isTrusted(options.forwarders, peerAddress) };
    const fromEdge = isTrusted(options.trusted, peerAddress);
    let origin: ClientOrigin | undefined = fromEdge ? undefined : peer;
    let buffered = Buffer.alloc(0);
    const parser = createClientHelloParser();
    const timer = setTimeout(() => close('handshake_timeout'), options.deadlineMs);
    socket.on('error', () => socket.destroy());

    function close(reason: RefusalReason, alert?: number): void {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      options.refuse(reason);
      if (alert !== undefined && socket.writable) socket.end(tlsAlert(alert));
      else socket.destroy();
      socket.setTimeout(1000, () => socket.destroy());
    }

    function readProxyHeader(): boolean {
      const step = decodeProxyV2(buffered);
      if (step.kind === 'needMore') return false;
      if (step.kind === 'error') {
        close('proxy_header_invalid');
        return false;
      }
      const source = step.header.command === 'proxy' ? step.header.source : undefined;
      origin = source ? { address: source.address, port: source.port, trusted: isTrusted(options.forwarders, source.address) } : peer;
      buffered = buffered.subarray(step.length);
      return true;
    }

    function onData(chunk: Buffer): void {
      buffered = Buffer.concat([buffered, chunk]);
      let step;
      if (origin === undefined) {
        if (!readProxyHeader() || buffered.length === 0) return;
        step = parser.feed(buffered);
      } else {
        step = parser.feed(chunk);
      }
      if (step.kind === 'needMore') return;
      if (step.kind === 'error') return close('hello_invalid', alertDecodeError);
      const name = step.hello.serverName;
      if (name === undefined) return close('no_sni', alertUnrecognizedName);
      if (!options.certificates().lookup(name)) return close('unknown_sni', alertUnrecognizedName);
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.pause();
      socket.unshift(buffered);
      options.admit(socket, origin ?? peer);
    }

    socket.on('data', onData);
  };
}
