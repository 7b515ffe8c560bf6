/**
 * The sidecar's Prometheus metrics. Hot paths bind label values once and only add numbers.
 * `mode` is `server` (TLS in, plaintext to the app) or `client` (plaintext in, TLS out).
 */
import { MetricsRegistry, type Counter, type Gauge } from '../shared/metrics.ts';

export interface SidecarMetrics {
  readonly registry: MetricsRegistry;
  /** result: ok | denied | failed; reason: a DenialReason, a handshake failure or `ok`. */
  readonly handshakes: Counter;
  readonly openConnections: Gauge;
  /** direction: `inbound` (towards the app or upstream) or `outbound` (back to the peer). */
  readonly bytes: Counter;
  readonly dialFailures: Counter;
  /** result: swapped | unchanged | rejected. */
  readonly reloads: Counter;
  readonly certificateNotAfter: Gauge;
}

export function createSidecarMetrics(registry = new MetricsRegistry()): SidecarMetrics {
  return {
    registry,
    handshakes: registry.counter('landlord_sidecar_handshakes_total', 'TLS handshakes by outcome and reason.', ['mode', 'result', 'reason']),
    openConnections: registry.gauge('landlord_sidecar_open_connections', 'Connections currently spliced.', ['mode']),
    bytes: registry.counter('landlord_sidecar_bytes_total', 'Bytes relayed.', ['mode', 'direction']),
    dialFailures: registry.counter('landlord_sidecar_dial_failures_total', 'Connections to the app (server) or upstream (client) that failed.', ['mode']),
    reloads: registry.counter('landlord_sidecar_certificate_reloads_total', 'Certificate directory reloads by result.', ['result']),
    certificateNotAfter: registry.gauge('landlord_sidecar_certificate_not_after_seconds', 'Expiry of the certificate in use (Unix seconds).'),
  };
}
