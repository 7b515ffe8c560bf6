/**
 * The operator's metrics: the shared Prometheus registry (src/shared/metrics.ts), plus collect
 * hooks that refresh gauges (and counters mirrored from elsewhere, like the client's request
 * counts) just before each render. Every metric declares its label names; a series is read back
 * with `metric.labels({...}).value`.
 */
import { MetricsRegistry as SharedRegistry, type Counter, type Gauge } from '../../shared/metrics.ts';

export { Counter, Gauge } from '../../shared/metrics.ts';

export class MetricsRegistry {
  readonly #registry = new SharedRegistry();
  readonly #collectors: Array<() => void> = [];

  counter(name: string, help: string, labelNames: readonly string[]): Counter {
    return this.#registry.counter(name, help, labelNames);
  }

  gauge(name: string, help: string, labelNames: readonly string[]): Gauge {
    return this.#registry.gauge(name, help, labelNames);
  }

  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  render(): string {
    for (const collect of this.#collectors) collect();
    return this.#registry.render();
  }
}
