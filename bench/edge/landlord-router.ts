/**
 * Bench helper: one landlord router process (the unit the benchmark measures), started by
 * run.ts with `node bench/edge/landlord-router.ts ROUTES_FILE TLS_PORT`. Prints `ready` once it
 * listens; exits on SIGTERM after draining.
 */
import { createLogger } from '../../src/shared/log.ts';
import { serveRouter } from '../../src/router/index.ts';

const [routesFile, port] = process.argv.slice(2);
if (!routesFile || !port) throw new Error('usage: landlord-router.ts ROUTES_FILE TLS_PORT');
const running = await serveRouter({
  source: { kind: 'file', file: routesFile },
  listenTls: { host: '127.0.0.1', port: Number(port) },
  logger: createLogger({ component: 'router', level: 'warn' }),
  maxConnectionsInHandshake: 100_000,
});
console.log('ready');
process.once('SIGTERM', () => void running.shutdown(1000));
