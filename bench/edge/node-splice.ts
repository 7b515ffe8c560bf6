/**
 * Bench reference: the least a Node proxy does per connection, so the edge benchmark can show
 * what `net.Socket` itself costs next to HAProxy. It waits for the client's first bytes, dials the
 * one backend, sends them on and forwards both ways with 'data' listeners (backpressure,
 * half-close). It reads no ClientHello, routes nothing, counts nothing and has no timeouts: not
 * a proxy to run, only a floor for landlord's router. Started by run.ts with
 * `node bench/edge/node-splice.ts BACKEND_PORT LISTEN_PORT`; prints `ready` once it listens.
 */
import net from 'node:net';

const [backendPort, port] = process.argv.slice(2).map(Number);
if (!backendPort || !port) throw new Error('usage: node-splice.ts BACKEND_PORT LISTEN_PORT');

/** Forwards `from`'s reads to `to`, pausing `from` while `to`'s buffer is full, and ends `to` after `from`'s FIN. */
function forward(from: net.Socket, to: net.Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
  client.on('error', () => undefined); // Node destroys an errored socket itself; this only handles the event.
  client.once('data', (first: Buffer) => {
    client.pause();
    const backend = net.connect({ host: '127.0.0.1', port: backendPort, allowHalfOpen: true, noDelay: true });
    // An error on either side ends both; otherwise each socket closes itself once both directions finished.
    backend.on('error', () => client.destroy());
    client.on('error', () => backend.destroy());
    backend.write(first);
    forward(client, backend);
    forward(backend, client);
    client.resume();
  });
});
server.listen(port, '127.0.0.1', () => console.log('ready'));
process.once('SIGTERM', () => process.exit(0));
