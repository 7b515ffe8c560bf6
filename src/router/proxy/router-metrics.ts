/**
 * The router's metrics. Label values come from the route table (route names, tenants, backend
 * addresses) or from fixed reason sets, never from what a client sent, so a client cannot grow
 * the series count.
 */
import { MetricsRegistry, type Counter, type CounterChild, type Gauge, type GaugeChild, type Histogram, type HistogramChild } from '../../shared/metrics.ts';
import type { RouteProtocol } from '../config/ir.ts';
import type { Route } from '../config/route-table.ts';
import type { SpliceCounters } from './splice.ts';

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

/** The series one route's connections touch on one listener. */
export interface RouteCounters extends SpliceCounters {
  readonly total: CounterChild;
  readonly open: GaugeChild;
}

/**
 * The children the connection path touches, bound once and kept: per route (held weakly, so a
 * swapped-out table's routes take theirs along; the series themselves stay, as counters must) and
 * per listener and reason. A connection then only adds numbers.
 */
export class BoundRouterMetrics {
  readonly #metrics: RouterMetrics;
  readonly #routes = new WeakMap<Route, Map<RouteProtocol, RouteCounters>>();
  readonly #inHandshake = new Map<RouteProtocol, GaugeChild>();
  readonly #failures = new Map<string, CounterChild>();
  readonly #noServerName = new Map<string, CounterChild>();
  readonly #closes = new Map<string, CounterChild>();
  #helloBytes: HistogramChild | undefined;

  constructor(metrics: RouterMetrics) {
    this.#metrics = metrics;
  }

  route(listener: RouteProtocol, route: Route): RouteCounters {
    let perListener = this.#routes.get(route);
    if (!perListener) this.#routes.set(route, (perListener = new Map<RouteProtocol, RouteCounters>()));
    let counters = perListener.get(listener);
    if (!counters) {
      const tenant = route.tenant ?? '';
      const labels = { listener, route: route.name, tenant };
      counters = {
        total: this.#metrics.connectionsTotal.labels(labels),
        open: this.#metrics.connectionsOpen.labels(labels),
        clientToBackend: this.#metrics.bytes.labels({ route: route.name, tenant, direction: 'client_to_backend' }),
        backendToClient: this.#metrics.bytes.labels({ route: route.name, tenant, direction: 'backend_to_client' }),
      };
      perListener.set(listener, counters);
    }
    return counters;
  }

  inHandshake(listener: RouteProtocol): GaugeChild {
    let child = this.#inHandshake.get(listener);
    if (!child) this.#inHandshake.set(listener, (child = this.#metrics.inHandshake.labels({ listener })));
    return child;
  }

  handshakeFailure(listener: RouteProtocol, reason: string): CounterChild {
    return byReason(this.#failures, this.#metrics.handshakeFailures, listener, reason);
  }

  noServerName(listener: RouteProtocol, reason: string): CounterChild {
    return byReason(this.#noServerName, this.#metrics.noServerName, listener, reason);
  }

  close(listener: RouteProtocol, reason: string): CounterChild {
    return byReason(this.#closes, this.#metrics.closes, listener, reason);
  }

  dialError(route: string, backend: string, code: string): CounterChild {
    return this.#metrics.dialErrors.labels({ route, backend, code });
  }

  get helloBytes(): HistogramChild {
    return (this.#helloBytes ??= this.#metrics.helloBytes.labels());
  }
}

function byReason(cache: Map<string, CounterChild>, family: Counter, listener: RouteProtocol, reason: string): CounterChild {
  const key = `${listener}/${reason}`;
  let child = cache.get(key);
  if (!child) cache.set(key, (child = family.labels({ listener, reason })));
  return child;
}
