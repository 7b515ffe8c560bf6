import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downstreamResponseHeaders, upstreamRequestHeaders, type ForwardingContext } from './forwarding.ts';

const untrusted: ForwardingContext = { clientAddress: '198.51.100.7', clientTrusted: false, host: 'app.acme.example', proto: 'https' };
const trusted: ForwardingContext = { ...untrusted, clientAddress: '10.0.0.5', clientTrusted: true };

describe('upstreamRequestHeaders', () => {
  it('sets X-Forwarded-For/-Proto/-Host from the connection', () => {
    const out = upstreamRequestHeaders({ host: 'app.acme.example', accept: '*/*' }, untrusted);
    assert.deepEqual(out, { host: 'app.acme.example', accept: '*/*', 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.acme.example' });
  });

  it('replaces forwarding headers an untrusted client sent', () => {
    const out = upstreamRequestHeaders({ 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example', 'x-forwarded-port': '1', forwarded: 'for=1.2.3.4', 'x-real-ip': '1.2.3.4' }, untrusted);
    assert.equal(out['x-forwarded-for'], '198.51.100.7');
    assert.equal(out['x-forwarded-proto'], 'https');
    assert.equal(out['x-forwarded-host'], 'app.acme.example');
    assert.equal(out.forwarded, undefined);
    assert.equal(out['x-real-ip'], undefined);
    assert.equal(out['x-forwarded-port'], undefined);
  });

  it('extends X-Forwarded-For and keeps -Proto/-Host from a trusted forwarder', () => {
    const out = upstreamRequestHeaders({ 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'www.acme.example' }, trusted);
    assert.equal(out['x-forwarded-for'], '203.0.113.9, 10.0.0.5');
    assert.equal(out['x-forwarded-proto'], 'http');
    assert.equal(out['x-forwarded-host'], 'www.acme.example');
  });

  it('drops hop-by-hop headers, those named in Connection, and HTTP/2 pseudo-headers', () => {
    const out = upstreamRequestHeaders({ ':authority': 'app.acme.example', ':path': '/', connection: 'keep-alive, X-Secret', 'x-secret': 's', te: 'trailers', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'proxy-authorization': 'x', cookie: 'a=b' }, untrusted);
    assert.deepEqual(Object.keys(out).sort(), ['cookie', 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  });
});

describe('downstreamResponseHeaders', () => {
  it('keeps end-to-end headers and drops hop-by-hop ones', () => {
    const out = downstreamResponseHeaders({ 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'] });
    assert.deepEqual(out, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });
});
