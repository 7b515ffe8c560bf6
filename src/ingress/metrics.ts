/**
 * The ingress's Prometheus metrics. Labels come from the routing table (host keys, backends) and
 * fixed reason sets, never from client input, so a client cannot grow the series count.
 */
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../shared/metrics.ts';

/** Why a request or connection was not proxied; fixed set, used as a metric label. */
export type RefusalReason =
  | 'no_sni'
  | 'unknown_sni'
  | 'hello_invalid'
  | 'proxy_header_invalid'
  | 'handshake_timeout'
  | 'bad_host'
  | 'misdirected'
  | 'no_route'
  | 'too_large';

export interface IngressMetrics {
  readonly registry: MetricsRegistry;
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly refusals: Counter;
  readonly upstreamErrors: Counter;
  readonly connectionsOpen: Gauge;
  readonly connections: Counter;
  readonly websocketsOpen: Gauge;
  readonly tableGeneration: Gauge;
  readonly reloads: Counter;
}

export function createIngressMetrics(registry = new MetricsRegistry()): IngressMetrics {
  return {
    registry,
    requests: registry.counter('landlord_ingress_requests_total', 'Requests proxied, by routed host and response status class.', ['host', 'status_class']),
    duration: registry.histogram('landlord_ingress_request_duration_seconds', 'Time from request to the end of the response, by routed host.', ['host'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    refusals: registry.counter('landlord_ingress_refusals_total', 'Connections or requests refused before reaching a backend.', ['reason']),
    upstreamErrors: registry.counter('landlord_ingress_upstream_errors_total', 'Failed upstream requests (connect errors, timeouts, resets).', ['backend', 'reason']),
    connectionsOpen: registry.gauge('landlord_ingress_connections_open', 'Client TCP connections open.'),
    connections: registry.counter('landlord_ingress_connections_total', 'Client TCP connections accepted.'),
    websocketsOpen: registry.gauge('landlord_ingress_websockets_open', 'Upgraded (WebSocket) connections open.'),
    tableGeneration: registry.gauge('landlord_ingress_table_generation', 'Generation of the routing table and certificate set in use.'),
    reloads: registry.counter('landlord_ingress_reloads_total', 'Configuration reloads, by result (applied, invalid).', ['result']),
  };
}
