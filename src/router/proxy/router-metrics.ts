/**
 * The router's metrics. Label values come from the route table (route names, tenants, backend
 * addresses) or from fixed reason sets, never from what a client sent, so a client cannot grow
 * the series count.
 */
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../../shared/metrics.ts';

export interface RouterMetrics {
  readonly registry: MetricsRegistry;
  readonly connectionsOpen: Gauge;
  readonly connectionsTotal: Counter;
  readonly bytes: Counter;
  readonly handshakeFailures: Counter;
  readonly noServerName: Counter;
  readonly helloBytes: Histogram;
  readonly dialErrors: Counter;
  readonly inHandshake: Gauge;
  readonly closes: Counter;
  readonly tableGeneration: Gauge;
  readonly tableReloads: Counter;
}

export function createRouterMetrics(registry = new MetricsRegistry()): RouterMetrics {
  const p = 'landlord_router_';
  return {
    registry,
    connectionsOpen: registry.gauge(`${p}connections_open`, 'Spliced connections currently open.', ['listener', 'route', 'tenant']),
    connectionsTotal: registry.counter(`${p}connections_total`, 'Connections routed to a backend.', ['listener', 'route', 'tenant']),
    bytes: registry.counter(`${p}bytes_total`, 'Bytes spliced, by direction (client_to_backend, backend_to_client).', ['route', 'tenant', 'direction']),
    handshakeFailures: registry.counter(`${p}handshake_failures_total`, 'Connections closed before reaching a backend, by reason.', ['listener', 'reason']),
    noServerName: registry.counter(`${p}no_server_name_total`, 'Client hellos without a usable SNI (absent, ip_literal, sslv2).', ['listener', 'reason']),
    helloBytes: registry.histogram(`${p}client_hello_bytes`, 'Size of client hellos in bytes, record headers included.', [], [256, 512, 1024, 1536, 2048, 4096, 8192, 16384]),
    dialErrors: registry.counter(`${p}dial_errors_total`, 'Failed attempts to connect to a backend.', ['route', 'backend', 'code']),
    inHandshake: registry.gauge(`${p}connections_in_handshake`, 'Accepted connections whose client hello is not yet routed.', ['listener']),
    closes: registry.counter(`${p}closes_total`, 'Spliced connections closed, by reason.', ['listener', 'reason']),
    tableGeneration: registry.gauge(`${p}route_table_generation`, 'Generation of the route table in use (0 before the first).'),
    tableReloads: registry.counter(`${p}route_table_reloads_total`, 'Route table rebuilds, by result (applied, invalid).', ['result']),
  };
}
